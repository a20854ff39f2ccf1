/**
 * Resilience simulator tests, in Node: the simulator is plain TypeScript (no
 * DOM, no Workers APIs), so it runs here exactly as in the dashboard.
 * `root` is the repo root, so the paths work from the root config's `projects`.
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "simulator",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/simulator/**/*.test.ts"],
  },
});
