/**
 * The RPC contract of the {@link UpstreamGuard} Durable Object: the resolved
 * policy settings the gateway sends with every call, and what admission and
 * reporting take and return. Plain data only (structured-clonable).
 */
import type { MetricsSnapshot, StatsWindow } from "./metrics";
import type { BreakerState, BreakerTransition, RateLimitConfig, RateLimitDecision, RetryBudgetConfig } from "./policies";

export type { MetricsSnapshot, RequestRecord, StatsWindow } from "./metrics";

/** Breaker settings (cockatiel's ConsecutiveBreaker, plus a CountBreaker-style failure rate). */
export interface GuardBreakerConfig {
  failureThreshold: number;
  failureRate?: { threshold: number; size: number; minimumCalls: number };
  openMs: number;
  halfOpenProbes: number;
}

/** Everything one agent's guard enforces, resolved with defaults by the gateway. */
export interface GuardConfig {
  /** The agent (upstream) this guard protects; also the Durable Object's name. */
  agent: string;
  breaker: GuardBreakerConfig;
  /** Per-agent limit (OSSA `spec.safety.rate_limiting`); absent = unlimited. */
  rateLimit?: RateLimitConfig;
  /** Per (API key, agent) limit; absent = unlimited. */
  keyRateLimit?: RateLimitConfig;
  /** OSSA `maxConcurrentRequests`; absent = unlimited. */
  maxConcurrent?: number;
  /** OSSA `maxTokensPerDay`; absent = unlimited. */
  maxTokensPerDay?: number;
  retryBudget: RetryBudgetConfig;
  /** How long a concurrency permit or probe lease lives if never released (deadline + slack). */
  leaseMs: number;
}

/** One admission request: one upstream attempt. */
export interface AdmitRequest {
  config: GuardConfig;
  /** Unique per attempt (`<request id>#<attempt>`): names the permit, probe and token reservation. */
  callId: string;
  /** Authenticated key id, for the per-key rate limit. */
  keyId?: string;
  /** 1 for the first attempt; retries skip rate limits but spend the retry budget. */
  attempt: number;
  /** Tokens to reserve against the daily budget. */
  estimateTokens: number;
}

/** Why an attempt was not admitted. */
export type RejectReason = "circuit_open" | "rate_limited" | "key_rate_limited" | "concurrency" | "token_budget" | "retry_budget";

/** Which rate limit a decision is about, with the decision itself. */
export interface RateLimitReport {
  scope: "agent" | "key";
  config: RateLimitConfig;
  decision: RateLimitDecision;
}

/** Result of {@link AdmitRequest}. */
export type AdmitResult =
  | { admitted: true; probe: boolean; breaker: BreakerState; rateLimit?: RateLimitReport }
  | { admitted: false; reason: RejectReason; retryAfterMs: number; breaker: BreakerState; rateLimit?: RateLimitReport };

/** How an attempt ended, for the breaker: a failure is a 5xx, network error or timeout. */
export type AttemptOutcome = "success" | "failure" | "neutral";

/** One outcome report (sent after the response, with `waitUntil`). */
export interface ReportRequest {
  config: GuardConfig;
  callId: string;
  outcome: AttemptOutcome;
  /** Tokens the agent reported using; settles the reservation. */
  tokens?: number;
}

/** What the guard holds, for the admin API, metrics and the dashboard. */
export interface GuardSnapshot {
  agent: string;
  at: number;
  breaker: { state: BreakerState; retryAfterMs: number; consecutiveFailures: number; openUntil?: number };
  inFlight: number;
  rateLimit?: RateLimitDecision;
  tokens?: { day: string; used: number; reserved: number; remaining: number };
  retryBudget: { requests: number; retries: number; available: number };
  transitions: BreakerTransition[];
}

/** RPC `metrics`: the agent's cumulative counters and current gauges, for `GET /metrics`. */
export interface GuardMetrics {
  agent: string;
  at: number;
  counters: MetricsSnapshot;
  breaker: BreakerState;
  inFlight: number;
  /** Requests the per-agent rate limit would admit now; absent without a rate limit. */
  rateLimitRemaining?: number;
}

/** RPC `stats`: the agent's recent windows and breaker, for `GET /v1/stats`. */
export interface GuardStats {
  agent: string;
  at: number;
  breaker: { state: BreakerState; transitions: BreakerTransition[] };
  windows: Record<"1m" | "5m" | "60m", StatsWindow>;
}
