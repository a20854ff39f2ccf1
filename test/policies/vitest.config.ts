/**
 * Upstream-guard policy tests, in workerd: the policies are pure modules, so
 * there is no main Worker and no wrangler config, only the runtime.
 */
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineProject } from "vitest/config";
import { COMPATIBILITY_DATE, ROOT } from "../workers-shared.ts";

export default defineProject({
  plugins: [
    cloudflareTest({
      miniflare: {
        compatibilityDate: COMPATIBILITY_DATE,
        compatibilityFlags: ["nodejs_compat"],
      },
    }),
  ],
  test: {
    name: "policies",
    root: ROOT,
    include: ["test/policies/**/*.test.ts"],
  },
});
