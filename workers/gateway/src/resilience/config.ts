/**
 * Resilience settings of one agent: the manifest as given (OSSA fields plus
 * `extensions.zahara.resilience` / `fallbacks`) resolved with the defaults
 * of the integration guide. Resolved once per agent when the app is built.
 */
import type { GuardConfig } from "../../../../durable-objects/upstream-guard/src/types";
import type { ZaharaAgentManifest } from "../../../shared/manifest";

/** Defaults (integration guide: 5 failures, 60 s open, 1/2/4/8/16 s backoff, 3 retries). */
export const RESILIENCE_DEFAULTS = {
  failureThreshold: 5,
  openMs: 60_000,
  halfOpenProbes: 1,
  maxRetries: 3,
  baseMs: 1000,
  capMs: 16_000,
  retryOn500: true,
  retryRatio: 0.2,
  retryMinPerWindow: 10,
  retryWindowMs: 10_000,
  tokenEstimate: 1000,
  /** Added to the longest possible deadline to get a lease's lifetime. */
  leaseSlackMs: 5000,
  /**
   * A key's fair share of the agent's limits when the manifest sets none of its own: half of
   * `maxConcurrentRequests` (at least 1) in flight, half of the agent's rate limit (and burst).
   */
  keyShare: 0.5,
} as const;

/** `share` of an agent-wide count, at least 1. */
export function fairShare(total: number, share: number = RESILIENCE_DEFAULTS.keyShare): number {
  return Math.max(1, Math.floor(total * share));
}

/** Retry policy for one agent. */
export interface RetrySettings {
  maxRetries: number;
  baseMs: number;
  capMs: number;
  retryOn500: boolean;
}

/** Everything the gateway needs to call one agent resiliently. */
export interface AgentResilience {
  guard: GuardConfig;
  retries: RetrySettings;
  /** Agent names to try, in order, when this one is open or exhausted. */
  fallbacks: string[];
  /** Tokens reserved per attempt when the agent or the calling API key has a daily budget. */
  tokenEstimate: number;
  /** What the guard's daily token budget comes from: `maxTokensPerDay`, or `maxCostPerDay` at the manifest's prices. */
  dailyBudget?: "tokens" | "cost";
}

/**
 * The daily token budget that keeps an agent within `maxCostPerDay` at `pricing` (per million tokens): every token
 * is priced as the dearer of input and output, so the spend never passes the budget (it may stop short of it
 * when input is cheaper; docs/manifests.md states the bound). Undefined without both.
 */
export function costTokenBudget(
  maxCostPerDay: number | undefined,
  pricing: { input_per_million: number; output_per_million: number } | undefined,
): number | undefined {
  if (maxCostPerDay === undefined || maxCostPerDay <= 0 || !pricing) return undefined;
  const perToken = Math.max(pricing.input_per_million, pricing.output_per_million) / 1_000_000;
  return perToken > 0 ? Math.max(1, Math.floor(maxCostPerDay / perToken)) : undefined;
}

/**
 * Resolves an agent's settings. `gatewayTimeoutMs` is the longest deadline a
 * request can have, so permits and probe leases outlive any live call.
 */
export function resolveResilience(manifest: ZaharaAgentManifest, gatewayTimeoutMs: number): AgentResilience {
  const given = manifest.extensions.zahara.resilience ?? {};
  const d = RESILIENCE_DEFAULTS;
  const spec = manifest.spec;
  const agentTimeoutMs = spec.constraints?.performance?.timeoutSeconds
    ? spec.constraints.performance.timeoutSeconds * 1000
    : Infinity;
  const guard: GuardConfig = {
    agent: manifest.metadata.name,
    breaker: {
      failureThreshold: given.breaker?.failure_threshold ?? d.failureThreshold,
      openMs: given.breaker?.open_ms ?? d.openMs,
      halfOpenProbes: given.breaker?.half_open_probes ?? d.halfOpenProbes,
      ...(given.breaker?.failure_rate
        ? {
            failureRate: {
              threshold: given.breaker.failure_rate.threshold,
              size: given.breaker.failure_rate.window,
              minimumCalls: given.breaker.failure_rate.minimum_calls,
            },
          }
        : {}),
    },
    retryBudget: {
      ratio: given.retry_budget?.ratio ?? d.retryRatio,
      minPerWindow: given.retry_budget?.min_per_window ?? d.retryMinPerWindow,
      windowMs: given.retry_budget?.window_ms ?? d.retryWindowMs,
    },
    leaseMs: Math.min(gatewayTimeoutMs, agentTimeoutMs) + d.leaseSlackMs,
  };
  const rl = spec.safety?.rate_limiting;
  if (rl && rl.enabled !== false && rl.requests_per_minute && rl.requests_per_minute > 0) {
    guard.rateLimit = {
      limit: rl.requests_per_minute,
      periodMs: 60_000,
      burst: Math.max(1, rl.burst_limit ?? rl.requests_per_minute),
    };
  }
  if (given.rate_limit_per_key) {
    const k = given.rate_limit_per_key;
    guard.keyRateLimit = { limit: k.requests_per_minute, periodMs: 60_000, burst: k.burst ?? k.requests_per_minute };
  } else if (guard.rateLimit) {
    // One key's flood must not drain the agent-wide limit for every other caller.
    guard.keyRateLimit = {
      limit: fairShare(guard.rateLimit.limit),
      periodMs: guard.rateLimit.periodMs,
      burst: fairShare(guard.rateLimit.burst),
    };
  }
  const maxConcurrent = spec.constraints?.performance?.maxConcurrentRequests;
  if (maxConcurrent && maxConcurrent > 0) {
    guard.maxConcurrent = maxConcurrent;
    guard.keyMaxConcurrent = Math.min(maxConcurrent, given.key_max_concurrent ?? fairShare(maxConcurrent));
  }
  const maxTokens = spec.constraints?.cost?.maxTokensPerDay;
  let dailyBudget: AgentResilience["dailyBudget"];
  if (maxTokens && maxTokens > 0) {
    guard.maxTokensPerDay = maxTokens;
    dailyBudget = "tokens";
  }
  const costTokens = costTokenBudget(spec.constraints?.cost?.maxCostPerDay, manifest.extensions.zahara.pricing);
  if (costTokens !== undefined && (guard.maxTokensPerDay === undefined || costTokens < guard.maxTokensPerDay)) {
    guard.maxTokensPerDay = costTokens;
    dailyBudget = "cost";
  }
  return {
    ...(dailyBudget ? { dailyBudget } : {}),
    guard,
    retries: {
      maxRetries: given.retries?.max_retries ?? d.maxRetries,
      baseMs: given.retries?.base_ms ?? d.baseMs,
      capMs: given.retries?.cap_ms ?? d.capMs,
      retryOn500: given.retries?.retry_on_500 ?? d.retryOn500,
    },
    fallbacks: [...(manifest.extensions.zahara.fallbacks ?? [])],
    tokenEstimate: given.token_estimate ?? d.tokenEstimate,
  };
}
