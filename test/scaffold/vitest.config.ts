/**
 * Scaffolding tests, in Node: `npm run agent:new` run in a temporary copy of
 * the repository, then the manifests check, the typecheck, the build and a
 * call through the gateway in workerd (Miniflare) shown to see the new agent.
 * `root` is the repo root, so the paths work from the root config's `projects`.
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "scaffold",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/scaffold/**/*.test.ts"],
    // Each step runs wrangler, tsc or workerd on a whole tree; under a full `npm test` they share the CPUs.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
