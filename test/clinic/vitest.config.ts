/**
 * Clinic tests, in Node: the pure logic behind the Clinic's views (the
 * request waterfall). No DOM; the screens themselves are checked in a real
 * browser by test/browser. `root` is the repo root, as in the other projects.
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "clinic",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/clinic/**/*.test.ts"],
  },
});
