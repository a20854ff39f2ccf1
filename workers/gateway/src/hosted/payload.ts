/**
 * How a call reaches a hosted agent. The one hosted-agent Worker holds no
 * store: the gateway, which loaded the agent's manifest (hosted/directory.ts),
 * sends it with each call, next to the task and parameters, and the Worker
 * keeps the agent it built from it by name, version and digest. So a call
 * always runs the version the gateway routed it to, even one deleted or
 * replaced while the call is on its way.
 */
import type { AgentInfo } from "../../../shared/agents";

/** The field of a call's body that carries the hosted agent (`{task, parameters, hosted}`). */
export const HOSTED_FIELD = "hosted";

/** What the hosted-agent Worker receives about the agent. */
export interface HostedPayload {
  name: string;
  version: number;
  digest: string;
  manifest: unknown;
}

/** The serialized payload of each hosted agent of a registry (kept off AgentInfo, which `GET /agents` lists). */
const payloads = new WeakMap<AgentInfo, string>();

/** Marks `agent` as hosted: calls to it carry `payload` (JSON text of a {@link HostedPayload}). */
export function setHostedPayload(agent: AgentInfo, payload: string): void {
  payloads.set(agent, payload);
}

/** The body of a call to `agent`: `{task, parameters}`, plus the manifest for a hosted agent. */
export function callBody(agent: AgentInfo, task: string, parameters: Record<string, unknown>): string {
  const hosted = payloads.get(agent);
  const body = JSON.stringify({ task, parameters });
  return hosted === undefined ? body : `${body.slice(0, -1)},"${HOSTED_FIELD}":${hosted}}`;
}
