/**
 * `GET /health`: always 200 while the gateway runs; reports its version and,
 * for each agent, whether its binding answers the agent's own `/health`.
 * `degraded` when an agent is not ok, or when the configuration has problems
 * (`problems`: bootstrap keys a deployment refuses; never a key itself).
 */
import type { Context } from "hono";
import type { AgentInfo } from "../../../shared/agents";
import { isLocalDevelopment } from "../../../shared/http/deployment";
import { bootstrapKeyProblems } from "../auth/bootstrap-policy";
import { REQUEST_ID_HEADER } from "../../../shared/request-id";
import type { AgentsView } from "../hosted/directory";
import { serviceBinding } from "../registry";

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
export function healthHandler(view: Pick<AgentsView, "registry">, version: string) {
  return async function health(c: Context): Promise<Response> {
    const registry = view.registry;
    const results = await Promise.all(registry.agents.map((a) => probe(c.env as object, a, c.get("requestId"))));
    const agents = Object.fromEntries(registry.agents.map((a, i) => [a.name, results[i]]));
    const allOk = results.every((r) => r?.status === "ok");
    const env = (c.env ?? {}) as Record<string, string | undefined>;
    const problems = isLocalDevelopment(env) ? [] : bootstrapKeyProblems(env);
    const status = allOk && problems.length === 0 ? "ok" : "degraded";
    return c.json({
      status,
      service: "gateway",
      version,
      agents,
      ...(problems.length > 0 ? { problems } : {}),
      request_id: c.get("requestId"),
    });
  };
}
