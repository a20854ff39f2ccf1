/**
 * `GET /v1/stats` (admin): JSON for the dashboard. Per agent: requests, rate,
 * error rate (status >= 500) and estimated p50/p95/p99 latency over the last
 * 1, 5 and 60 minutes, the breaker state and its latest transitions. Read
 * from each agent's UpstreamGuard (global, not per isolate); an agent whose
 * guard cannot answer is listed in `unavailable`, never a 500.
 */
import type { Context } from "hono";
import type { GuardStats } from "../../../../durable-objects/upstream-guard/src/types";
import { resolveGatewayConfig } from "../config";
import { collectFromGuards } from "../observability/collect";
import type { AgentRegistry } from "../registry";
import type { GuardNamespace } from "../resilience/guard-client";
import type { ResilienceCatalog } from "../resilience/plans";

/** What the handler reads. */
export interface StatsDeps {
  registry: AgentRegistry;
  catalog: ResilienceCatalog;
}

/** One agent in the response. */
export interface AgentStatsBody {
  breaker: {
    state: GuardStats["breaker"]["state"];
    transitions: { from: string; to: string; at: string; cause: string }[];
  };
  windows: GuardStats["windows"];
}

/** Creates the `GET /v1/stats` handler (mount behind `adminAuth()`). */
export function statsHandler(deps: StatsDeps) {
  return async function stats(c: Context): Promise<Response> {
    const env = c.env as { UPSTREAM_GUARD?: GuardNamespace; GATEWAY_TIMEOUT_MS?: string };
    const now = Date.now();
    const collected = await collectFromGuards(
      {
        registry: deps.registry,
        catalog: deps.catalog,
        namespace: env.UPSTREAM_GUARD,
        gatewayTimeoutMs: resolveGatewayConfig(env).timeoutMs,
        logger: c.get("logger"),
        what: "stats",
      },
      (stub, config) => stub.stats(config) as Promise<GuardStats>,
    );
    const agents: Record<string, AgentStatsBody> = {};
    const unavailable: string[] = [];
    for (const entry of collected) {
      if (!entry.ok) {
        unavailable.push(entry.agent);
        continue;
      }
      const s = entry.value;
      agents[entry.agent] = {
        breaker: {
          state: s.breaker.state,
          transitions: s.breaker.transitions.map((t) => ({
            from: t.from,
            to: t.to,
            at: new Date(t.at).toISOString(),
            cause: t.cause,
          })),
        },
        windows: s.windows,
      };
    }
    c.header("Cache-Control", "no-store");
    return c.json({
      agents,
      ...(unavailable.length > 0 ? { unavailable } : {}),
      generated_at: new Date(now).toISOString(),
    });
  };
}
