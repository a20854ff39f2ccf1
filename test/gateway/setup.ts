/**
 * Runs before every gateway test: each agent's UpstreamGuard starts empty,
 * so a test that opens a breaker or spends a quota never leaks into the next.
 * The reset goes through the gateway's admin route (`DELETE
 * /v1/agents/:agent/guard`), which also drops the test isolate's admission
 * leases for the agent, as an operator's reset does for the isolate that
 * handles it. Before each test file, the D1 migrations (request log, access
 * control) are applied (D1 storage is per test file; applying is idempotent).
 */
import { SELF, applyD1Migrations, env } from "cloudflare:test";
import { beforeAll, beforeEach } from "vitest";

beforeAll(async () => {
  await applyD1Migrations(env.REQUEST_LOG, env.TEST_MIGRATIONS);
  await applyD1Migrations(env.ACCESS_DB, env.TEST_ACCESS_MIGRATIONS);
});

/** Agents whose guards are reset. */
export const GUARDED_AGENTS = ["agent-demo", "agent-custom"];

beforeEach(async () => {
  for (const agent of GUARDED_AGENTS) {
    const res = await SELF.fetch(`https://gateway.test/v1/agents/${agent}/guard`, {
      method: "DELETE",
      headers: { "X-API-Key": env.ADMIN_API_KEYS },
    });
    if (res.status !== 200) throw new Error(`resetting ${agent}'s guard: ${res.status} ${await res.text()}`);
  }
});
