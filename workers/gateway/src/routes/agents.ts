/** `GET /agents`: the agents, their capabilities and schemas, from the manifests. */
import type { Context } from "hono";
import type { AgentRegistry } from "../registry";

/** Creates the `GET /agents` handler. */
export function listAgentsHandler(registry: AgentRegistry) {
  const agents = registry.agents.map(({ binding: _binding, ...rest }) => rest);
  return function listAgents(c: Context): Response {
    return c.json({ agents, request_id: c.get("requestId") });
  };
}
