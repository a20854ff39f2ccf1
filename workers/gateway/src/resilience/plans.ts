/**
 * Turns a routed request into the ordered list of {@link AgentPlan}s the
 * executor runs: the agent itself, then each fallback that offers the task
 * and is bound, each with its resolved settings and its guard client.
 */
import type { KeyLimits } from "../../../../durable-objects/upstream-guard/src/types";
import type { AgentInfo } from "../../../shared/agents";
import type { DurableObjectCalls } from "../../../shared/http/context";
import type { Logger } from "../../../shared/logger";
import type { ZaharaAgentManifest } from "../../../shared/manifest";
import { callAgent } from "../dispatch";
import { type AgentRegistry, serviceBinding } from "../registry";
import { timeoutFloorMs } from "./classify";
import { type AgentResilience, resolveResilience } from "./config";
import type { AgentPlan } from "./executor";
import { type GuardClient, type GuardNamespace, guardClient } from "./guard-client";
import type { IsolateLeases, LeaseSettings } from "./leases";

/** Resolved settings per agent, computed once per gateway timeout value. */
export class ResilienceCatalog {
  private readonly manifests: ReadonlyMap<string, ZaharaAgentManifest>;
  private readonly resolved = new Map<string, AgentResilience>();

  /**
   * The catalog this one replaced (hosted agents change at runtime): a call already routed to an agent that has
   * since gone still gets its settings from it. Only one step back is kept.
   */
  private previous: ResilienceCatalog | undefined;

  constructor(manifests: readonly ZaharaAgentManifest[], previous?: ResilienceCatalog) {
    this.manifests = new Map(manifests.map((m) => [m.metadata.name, m]));
    if (previous) previous.previous = undefined;
    this.previous = previous;
  }

  /** `agent`'s settings for a gateway whose longest deadline is `gatewayTimeoutMs`. */
  settings(agent: string, gatewayTimeoutMs: number): AgentResilience {
    const key = `${agent}\u0000${gatewayTimeoutMs}`;
    let settings = this.resolved.get(key);
    if (!settings) {
      const manifest = this.manifests.get(agent);
      if (!manifest && this.previous) return this.previous.settings(agent, gatewayTimeoutMs);
      if (!manifest) throw new Error(`No manifest for agent ${agent}`);
      settings = resolveResilience(manifest, gatewayTimeoutMs);
      this.resolved.set(key, settings);
    }
    return settings;
  }
}

/** Everything about the request that plans need. */
export interface PlanRequest {
  env: object & { UPSTREAM_GUARD?: GuardNamespace };
  registry: AgentRegistry;
  catalog: ResilienceCatalog;
  agent: AgentInfo;
  task: string;
  parameters: Record<string, unknown>;
  requestId: string;
  /** The caller asked for an event stream, which must end by `endsAt` (epoch ms). */
  stream?: { endsAt: number };
  /** The agent-facing idempotency key, when the caller sent one. */
  idempotencyKey?: string;
  keyId?: string;
  /** The key's own limits (a managed key's rate limit and daily token budget), enforced per agent with `keyId`. */
  keyLimits?: KeyLimits;
  gatewayTimeoutMs: number;
  /** `BREAKER_TIMEOUT_FLOOR_MS`: an attempt given less cannot count as the agent timing out. */
  breakerTimeoutFloorMs?: number;
  /** Largest agent response body read per attempt (`MAX_RESPONSE_BYTES`); default 8 MiB. */
  maxResponseBytes?: number;
  /**
   * Whether the caller may call the task on a fallback agent (its scopes and
   * `agents` claim); a fallback it may not call is skipped, so a fallback never
   * widens a credential. The gateway always passes it; absent = no check.
   */
  mayCall?: (agent: string) => boolean;
  logger: Logger;
  signal?: AbortSignal;
  /** Counts the guard's round trips for the request's log line. */
  doCalls?: DurableObjectCalls;
  /** This isolate's admission leases and their settings. */
  leases: IsolateLeases;
  leaseSettings: LeaseSettings;
  /** Background work of the request (reports, renewals). */
  waitUntil(promise: Promise<unknown>): void;
}

/** A guard that is never there: every admission fails open (no retries). */
const NO_GUARD: GuardClient = {
  admit: async () => ({ unavailable: true, reason: "error" }),
  report: () => {},
};

function planFor(req: PlanRequest, agent: AgentInfo, binding: Fetcher): AgentPlan {
  const settings = req.catalog.settings(agent.name, req.gatewayTimeoutMs);
  const namespace = req.env.UPSTREAM_GUARD;
  const transport = namespace && {
    namespace,
    agent: agent.name,
    config: settings.guard,
    waitUntil: req.waitUntil,
    logger: req.logger,
    ...(req.doCalls ? { calls: req.doCalls } : {}),
  };
  const guard = transport ? guardClient(transport, req.leases, req.leaseSettings) : NO_GUARD;
  const budgeted =
    settings.guard.maxTokensPerDay !== undefined ||
    (req.keyId !== undefined && req.keyLimits?.maxTokensPerDay !== undefined);
  const estimate = budgeted ? settings.tokenEstimate : 0;
  const agentDeadlineMs = Math.min(
    req.gatewayTimeoutMs,
    agent.timeout_seconds !== undefined ? agent.timeout_seconds * 1000 : Infinity,
  );
  return {
    agent: agent.name,
    retries: settings.retries,
    guard,
    ...(settings.dailyBudget ? { dailyBudget: settings.dailyBudget } : {}),
    ...(req.breakerTimeoutFloorMs !== undefined
      ? { timeoutFloorMs: timeoutFloorMs(req.breakerTimeoutFloorMs, agentDeadlineMs) }
      : {}),
    admitRequest: (attempt) => ({
      config: settings.guard,
      // A nonce per attempt, never the caller's request id: permits, probes and reservations are keyed by it,
      // so no caller can share (and so multiply) or release another request's.
      callId: crypto.randomUUID(),
      attempt,
      estimateTokens: estimate,
      ...(req.keyId !== undefined ? { keyId: req.keyId } : {}),
      ...(req.keyId !== undefined && req.keyLimits ? { keyLimits: req.keyLimits } : {}),
    }),
    call: (attempt, timeoutMs) =>
      callAgent({
        agent,
        binding,
        task: req.task,
        parameters: req.parameters,
        requestId: req.requestId,
        ...(req.idempotencyKey !== undefined ? { idempotencyKey: req.idempotencyKey } : {}),
        attempt,
        timeoutMs,
        ...(req.signal ? { signal: req.signal } : {}),
        ...(req.maxResponseBytes !== undefined ? { maxResponseBytes: req.maxResponseBytes } : {}),
        ...(req.stream ? { stream: { deadlineMs: req.stream.endsAt - Date.now() } } : {}),
      }),
  };
}

/**
 * The plans for a request, primary first. Fallbacks that do not offer the
 * task, are not bound here, or that the caller may not call are skipped
 * (logged), never fatal.
 */
export function buildPlans(req: PlanRequest, primaryBinding: Fetcher): AgentPlan[] {
  const plans = [planFor(req, req.agent, primaryBinding)];
  for (const name of req.catalog.settings(req.agent.name, req.gatewayTimeoutMs).fallbacks) {
    const fallback = req.registry.agents.find((a) => a.name === name);
    const binding = fallback && serviceBinding(req.env, fallback.binding);
    if (
      !fallback ||
      !binding ||
      !fallback.capabilities.some((c) => c.name === req.task) ||
      (req.mayCall && !req.mayCall(fallback.name))
    ) {
      req.logger.debug("fallback skipped", { agent: req.agent.name, fallback: name });
      continue;
    }
    plans.push(planFor(req, fallback, binding));
  }
  return plans;
}
