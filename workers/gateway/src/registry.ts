/**
 * The agents the gateway fronts, built from the compiled manifests: lookup
 * by name, routing by task, and the service binding of each.
 */
import { type AgentInfo, agentInfo } from "../../shared/agents";
import { ZaharaError } from "../../shared/errors";
import type { ZaharaAgentManifest } from "../../shared/manifest";

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

  /** The agent named `name`, or 404 `AGENT_NOT_FOUND`. */
  agent(name: string): AgentInfo {
    const agent = this.byName.get(name);
    if (!agent) {
      throw new ZaharaError("AGENT_NOT_FOUND", {
        message: `No agent named "${name.slice(0, 64)}"`,
        details: { available: [...this.byName.keys()] },
      });
    }
    return agent;
  }

  /**
   * Picks the agent for `task`: the named one (which must offer it), else the
   * only agent offering it. 404 `TASK_NOT_FOUND` or 400 `AMBIGUOUS_TASK` otherwise.
   */
  route(task: string, agentName?: string): AgentInfo {
    if (agentName !== undefined) {
      const agent = this.agent(agentName);
      if (!agent.capabilities.some((c) => c.name === task)) {
        throw new ZaharaError("TASK_NOT_FOUND", {
          message: `Agent "${agent.name}" does not offer task "${task.slice(0, 64)}"`,
          details: { agent: agent.name, available: agent.capabilities.map((c) => c.name) },
        });
      }
      return agent;
    }
    const candidates = this.byTask.get(task) ?? [];
    if (candidates.length === 0) {
      throw new ZaharaError("TASK_NOT_FOUND", {
        message: `No agent offers task "${task.slice(0, 64)}"`,
        details: { available: [...this.byTask.keys()].sort() },
      });
    }
    if (candidates.length > 1) {
      throw new ZaharaError("AMBIGUOUS_TASK", {
        message: `Task "${task}" is offered by ${candidates.map((a) => a.name).join(", ")}; name the agent`,
        details: { agents: candidates.map((a) => a.name) },
      });
    }
    return candidates[0] as AgentInfo;
  }
}

/** Returns the service binding named `binding` from `env`, if bound. */
export function serviceBinding(env: object, binding: string): Fetcher | undefined {
  const value = (env as Record<string, unknown>)[binding];
  return typeof value === "object" && value !== null && typeof (value as Fetcher).fetch === "function" ? (value as Fetcher) : undefined;
}
