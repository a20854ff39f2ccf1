/**
 * Manifest tests, in Node: the OSSA schema against the official conformance
 * set (when ../shared/ossa/v0.3.1 exists), our own fixtures, and the CLI.
 * `root` is the repo root, so the paths work from the root config's `projects`.
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "manifest",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/manifest/**/*.test.ts"],
  },
});
