/**
 * Dashboard Functions tests, in workerd. The tests import the dashboard's API
 * app (dashboard/functions/_lib/app.ts) and call it with real Requests and an
 * env whose GATEWAY binding is the real gateway Worker: the gateway is this
 * project's main Worker (`SELF`), configured from its wrangler.toml, with the
 * real agent bundles behind it, exactly as in the gateway tests. The only
 * double is the identity provider's JWKS endpoint (Cloudflare Access's certs).
 */
import path from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineProject } from "vitest/config";
import { startJwksServer } from "../doubles/jwks-server.ts";
import { testQueueConsumers } from "../request-log-queue-consumer.ts";
import { ROOT, TEST_ADMIN_KEY, TEST_KEY, agentWorkersOf, gatewayMigrationBindings } from "../workers-shared.ts";

const migrations = await gatewayMigrationBindings();
// Cloudflare Access's `/cdn-cgi/access/certs`, played by the JWKS double (access.test.ts publishes keys there).
const jwks = await startJwksServer();

export default defineProject({
  plugins: [
    cloudflareTest({
      main: path.join(ROOT, "workers/gateway/src/index.ts"),
      wrangler: { configPath: path.join(ROOT, "wrangler.toml") },
      miniflare: {
        bindings: {
          GATEWAY_API_KEYS: TEST_KEY,
          ADMIN_API_KEYS: TEST_ADMIN_KEY,
          GATEWAY_TIMEOUT_MS: "5000",
          // Small, so the login throttle test needs few attempts.
          AUTH_FAILURE_LIMIT: "3",
          LOG_LEVEL: "error",
          // Local development, as under `npm run dev` (short test keys accepted); the tests address gateway.test.
          ZAHARA_ENV: "development",
          DEV_ALLOWED_HOSTS: "gateway.test",
          // The tests play Cloudflare's edge, which sets CF-Connecting-IP (local development otherwise ignores it).
          DEV_TRUST_CLIENT_ADDRESS: "true",
          ...migrations,
          TEST_JWKS_URL: jwks.url,
        },
        // The request-log queue's consumer as in wrangler.toml, with a 50 ms batch timeout (tests poll D1 for rows).
        queueConsumers: testQueueConsumers(ROOT),
        // Every agent of the list; agent-demo with chaos on.
        workers: agentWorkersOf((name): Record<string, string> =>
          name === "agent-demo" ? { CHAOS_ENABLED: "true" } : {},
        ),
      },
    }),
  ],
  test: {
    name: "dashboard",
    testTimeout: 15_000,
    root: ROOT,
    include: ["test/dashboard/**/*.test.ts"],
    globalSetup: [path.join(ROOT, "test/global-setup.ts")],
    // The gateway's per-file D1 migrations and per-test guard reset.
    setupFiles: [path.join(ROOT, "test/gateway/setup.ts")],
  },
});
