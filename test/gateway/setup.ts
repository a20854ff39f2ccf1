/**
 * Runs before every gateway test: each agent's UpstreamGuard starts empty,
 * so a test that opens a breaker or spends a quota never leaks into the next.
 */
import { env } from "cloudflare:test";
import { beforeEach } from "vitest";

/** Agents whose guards are reset. */
export const GUARDED_AGENTS = ["agent-demo", "agent-custom"];

beforeEach(async () => {
  for (const agent of GUARDED_AGENTS) {
    await env.UPSTREAM_GUARD.get(env.UPSTREAM_GUARD.idFromName(agent)).resetAll();
  }
});
