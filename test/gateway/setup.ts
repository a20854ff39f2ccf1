/**
 * Runs before every gateway test: each agent's UpstreamGuard starts empty,
 * so a test that opens a breaker or spends a quota never leaks into the next.
 * Before each test file, the D1 migrations (request log, access control) are
 * applied (D1 storage is per test file; applying is idempotent).
 */
import { applyD1Migrations, env } from "cloudflare:test";
import { beforeAll, beforeEach } from "vitest";

beforeAll(async () => {
  await applyD1Migrations(env.REQUEST_LOG, env.TEST_MIGRATIONS);
  await applyD1Migrations(env.ACCESS_DB, env.TEST_ACCESS_MIGRATIONS);
});

/** Agents whose guards are reset. */
export const GUARDED_AGENTS = ["agent-demo", "agent-custom"];

beforeEach(async () => {
  for (const agent of GUARDED_AGENTS) {
    await env.UPSTREAM_GUARD.get(env.UPSTREAM_GUARD.idFromName(agent)).resetAll();
  }
});
