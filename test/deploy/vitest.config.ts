/**
 * Deploy tests, in Node: `npm run deploy` run whole against a stand-in
 * wrangler (test/deploy/fake-wrangler.ts) for a fresh account, one where
 * everything exists, one missing a secret and a dry run, and the pure plan
 * and wrangler-output parsing. Each deploy run starts tsx and wrangler's
 * config reader, hence the longer timeout.
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "deploy",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/deploy/**/*.test.ts"],
    testTimeout: 120_000,
  },
});
