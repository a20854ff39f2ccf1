/**
 * Documentation tests, in Node: the README and every page of docs/ hold
 * together (links, anchors, the npm scripts and settings they name).
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "docs",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/docs/**/*.test.ts"],
  },
});
