/**
 * The agents the gateway fronts, built from the compiled manifests: lookup
 * by name, routing by task, and the service binding of each.
 *
 * Lookups take what the caller may see (its scopes): an error's details list
 * only agents and capabilities the caller could call, as `GET /agents` does,
 * so a scoped key learns nothing about the rest from a typo.
 */
import { type AgentInfo, agentInfo } from "../../shared/agents";
import { ZaharaError } from "../../shared/errors";
import type { ZaharaAgentManifest } from "../../shared/manifest";

/** What a caller may see: whether it may call `capability` on `agent` (default: everything). */
export type Visibility = (agent: string, capability: string) => boolean;

const EVERYTHING: Visibility = () => true;

/** Immutable index of agents by name and by task. */
export class AgentRegistry {
  readonly agents: readonly AgentInfo[];
  private readonly byName: ReadonlyMap<string, AgentInfo>;
  private readonly byTask: ReadonlyMap<string, readonly AgentInfo[]>;

  constructor(manifests: readonly ZaharaAgentManifest[]) {
    this.agents = manifests.map(agentInfo);
    this.byName = new Map(this.agents.map((a) => [a.name, a]));
    const byTask = new Map<string, AgentInfo[]>();
    for (const agent of this.agents) {
      for (const cap of agent.capabilities) byTask.set(cap.name, [...(byTask.get(cap.name) ?? []), agent]);
    }
    this.byTask = byTask;
  }

  /** The agent named `name`, or 404 `AGENT_NOT_FOUND` (listing the agents `visible` allows). */
  agent(name: string, visible: Visibility = EVERYTHING): AgentInfo {
    const agent = this.byName.get(name);
    if (!agent) {
      throw new ZaharaError("AGENT_NOT_FOUND", {
        message: `No agent named "${name.slice(0, 64)}"`,
        details: {
          available: this.agents.filter((a) => a.capabilities.some((c) => visible(a.name, c.name))).map((a) => a.name),
        },
      });
    }
    return agent;
  }

  /**
   * Picks the agent for `task`: the named one (which must offer it), else the
   * only agent offering it, or the only one of them the caller may call.
   * 404 `TASK_NOT_FOUND` or 400 `AMBIGUOUS_TASK` otherwise; details name only
   * what `visible` allows.
   */
  route(task: string, agentName?: string, visible: Visibility = EVERYTHING): AgentInfo {
    if (agentName !== undefined) {
      const agent = this.agent(agentName, visible);
      if (!agent.capabilities.some((c) => c.name === task)) {
        throw new ZaharaError("TASK_NOT_FOUND", {
          message: `Agent "${agent.name}" does not offer task "${task.slice(0, 64)}"`,
          details: {
            agent: agent.name,
            available: agent.capabilities.filter((c) => visible(agent.name, c.name)).map((c) => c.name),
          },
        });
      }
      return agent;
    }
    const candidates = this.byTask.get(task) ?? [];
    if (candidates.length === 0) {
      const available = [...this.byTask.entries()]
        .filter(([t, agents]) => agents.some((a) => visible(a.name, t)))
        .map(([t]) => t);
      throw new ZaharaError("TASK_NOT_FOUND", {
        message: `No agent offers task "${task.slice(0, 64)}"`,
        details: { available: available.sort() },
      });
    }
    if (candidates.length === 1) return candidates[0] as AgentInfo;
    const callable = candidates.filter((a) => visible(a.name, task));
    if (callable.length === 1) return callable[0] as AgentInfo;
    const named = callable.map((a) => a.name);
    throw new ZaharaError("AMBIGUOUS_TASK", {
      message: `Task "${task.slice(0, 64)}" is offered by ${named.length > 0 ? named.join(", ") : "more than one agent"}; name the agent`,
      details: { agents: named },
    });
  }
}

/** Returns the service binding named `binding` from `env`, if bound. */
export function serviceBinding(env: object, binding: string): Fetcher | undefined {
  const value = (env as Record<string, unknown>)[binding];
  return typeof value === "object" && value !== null && typeof (value as Fetcher).fetch === "function"
    ? (value as Fetcher)
    : undefined;
}
