// Every test suite is a vitest project: test/manifest (Node), test/gateway and
// test/agent-runtime (inside workerd via @cloudflare/vitest-pool-workers).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["test/*/vitest.config.ts"],
  },
});
