/**
 * Security tests, in Node: the dependency audit's decision (scripts/audit-policy.ts),
 * the deployment settings SECURITY.md relies on (agents without a public URL,
 * .dev.vars ignored everywhere), and SECURITY.md itself (every test it cites exists).
 */
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "security",
    root: fileURLToPath(new URL("../..", import.meta.url)),
    environment: "node",
    include: ["test/security/**/*.test.ts"],
  },
});
