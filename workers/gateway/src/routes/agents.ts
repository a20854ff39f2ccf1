/**
 * `GET /agents`: the agents and capabilities the caller may call, with their
 * schemas, from the manifests (agents and capabilities outside the
 * credential's scopes are left out).
 */
import type { Context } from "hono";
import { allowsCall } from "../auth/scopes";
import type { AgentsView } from "../hosted/directory";

/** Creates the `GET /agents` handler. */
export function listAgentsHandler(view: Pick<AgentsView, "registry">) {
  return function listAgents(c: Context): Response {
    const agents = view.registry.agents.map(({ binding: _binding, ...rest }) => rest);
    const principal = c.get("principal");
    const visible = agents
      .map((agent) => ({
        ...agent,
        capabilities: agent.capabilities.filter((cap) => allowsCall(principal, agent.name, cap.name)),
      }))
      .filter((agent) => agent.capabilities.length > 0);
    return c.json({ agents: visible, request_id: c.get("requestId") });
  };
}
