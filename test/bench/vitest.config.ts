/**
 * Bench tests, in Node: the pure parts of `npm run bench` (percentiles, the
 * Durable Object round-trip count from log lines, the targets). The bench
 * itself is not run here: timings belong to `npm run bench`, not to tests.
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "bench",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/bench/**/*.test.ts"],
  },
});
