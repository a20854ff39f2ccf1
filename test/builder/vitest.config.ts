/**
 * Builder tests, in Node: the form model (YAML ⇄ form round trip), the
 * mapping of schema issues to fields, the simulator panel's scenario checks
 * and its plot (through the real simulator). Pure logic only, no DOM.
 * `root` is the repo root, so the paths work from the root config's `projects`.
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "builder",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/builder/**/*.test.ts"],
  },
});
