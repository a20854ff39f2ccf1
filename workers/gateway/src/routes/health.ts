/**
 * `GET /health`: always 200 while the gateway runs; reports its version and,
 * for each agent, whether its binding answers the agent's own `/health`.
 */
import type { Context } from "hono";
import type { AgentInfo } from "../../../shared/agents";
import { REQUEST_ID_HEADER } from "../../../shared/request-id";
import { type AgentRegistry, serviceBinding } from "../registry";

/** Time allowed for each agent's health check. */
export const HEALTH_TIMEOUT_MS = 2_000;

/** Health of one agent as seen through its binding. */
export interface AgentHealth {
  status: "ok" | "error" | "unreachable" | "unbound";
  http_status?: number;
  latency_ms?: number;
}

/** Calls `agent`'s `/health` through its binding (also used by `/metrics` for `agent_up`). */
export async function probe(env: object, agent: AgentInfo, requestId: string): Promise<AgentHealth> {
  const binding = serviceBinding(env, agent.binding);
  if (!binding) return { status: "unbound" };
  const started = Date.now();
  try {
    const res = await binding.fetch(`https://${agent.name}.agent.internal/health`, {
      headers: { [REQUEST_ID_HEADER]: requestId },
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return { status: res.ok ? "ok" : "error", http_status: res.status, latency_ms: Date.now() - started };
  } catch {
    return { status: "unreachable", latency_ms: Date.now() - started };
  }
}

/** Creates the `GET /health` handler. */
export function healthHandler(registry: AgentRegistry, version: string) {
  return async function health(c: Context): Promise<Response> {
    const results = await Promise.all(registry.agents.map((a) => probe(c.env as object, a, c.get("requestId"))));
    const agents = Object.fromEntries(registry.agents.map((a, i) => [a.name, results[i]]));
    const allOk = results.every((r) => r?.status === "ok");
    return c.json({ status: allOk ? "ok" : "degraded", service: "gateway", version, agents, request_id: c.get("requestId") });
  };
}
