/** Gateway-test access to each agent's UpstreamGuard, with the settings the gateway under test uses. */
import { SELF, env } from "cloudflare:test";
import { MANIFESTS } from "../../workers/generated";
import type { GuardConfig } from "../../durable-objects/upstream-guard/src/types";
import { resolveResilience } from "../../workers/gateway/src/resilience/config";

/** Agent `agent`'s UpstreamGuard stub. */
export function guardOf(agent: string) {
  return env.UPSTREAM_GUARD.get(env.UPSTREAM_GUARD.idFromName(agent));
}

/** The guard settings the gateway under test uses for `agent` (GATEWAY_TIMEOUT_MS is 5000 in tests). */
export function configOf(agent: string) {
  const manifest = MANIFESTS.find((m) => m.metadata.name === agent);
  if (!manifest) throw new Error(`no manifest for ${agent}`);
  return resolveResilience(manifest, 5000).guard;
}

/** A guard of its own (a unique agent name starting with `prefix`), with default small settings and `overrides`. */
export function freshGuard(overrides: Partial<GuardConfig> = {}, prefix = "test-agent") {
  const agent = `${prefix}-${crypto.randomUUID()}`;
  const config: GuardConfig = {
    agent,
    breaker: { failureThreshold: 5, openMs: 60_000, halfOpenProbes: 1 },
    retryBudget: { ratio: 0.2, minPerWindow: 10, windowMs: 10_000 },
    leaseMs: 15_000,
    ...overrides,
  };
  return { config, stub: guardOf(agent) };
}

/**
 * Forces `agent`'s breaker open through the admin API, as an operator does: the isolate that handles it drops
 * its admission leases at once (others follow within a lease TTL), so the next request here sees it open.
 */
export async function forceOpen(agent: string, reason = "test"): Promise<void> {
  const res = await SELF.fetch(`https://gateway.test/v1/agents/${agent}/breaker/open`, {
    method: "POST",
    headers: { "X-API-Key": env.ADMIN_API_KEYS, "Content-Type": "application/json" },
    body: JSON.stringify({ reason }),
  });
  if (res.status !== 200) throw new Error(`forcing ${agent} open: ${res.status} ${await res.text()}`);
}
