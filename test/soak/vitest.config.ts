/**
 * Soak tests, in Node: the pure parts of `npm run soak` (the checks over what
 * was recorded, the phases, reading a response). The soak itself runs in CI
 * as `npm run soak -- --short`, not here.
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "soak",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/soak/**/*.test.ts"],
  },
});
