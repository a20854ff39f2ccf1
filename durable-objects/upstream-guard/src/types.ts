/**
 * The RPC contract of the {@link UpstreamGuard} Durable Object: the resolved
 * policy settings the gateway sends with every call, and what admission and
 * reporting take and return. Plain data only (structured-clonable).
 */
import type { MetricsSnapshot, StatsWindow } from "./metrics";
import type {
  BreakerState,
  BreakerTransition,
  RateLimitConfig,
  RateLimitDecision,
  RetryBudgetConfig,
} from "./policies";

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
  /** Permits one API key may hold at once (its fair share of `maxConcurrent`); absent = no per-key cap. */
  keyMaxConcurrent?: number;
  /** OSSA `maxTokensPerDay`; absent = unlimited. */
  maxTokensPerDay?: number;
  retryBudget: RetryBudgetConfig;
  /** How long a concurrency permit or probe lease lives if never released (deadline + slack). */
  leaseMs: number;
  /** How long an admission lease may be used (`LEASE_TTL_MS`, default 1000); absent: the default. */
  leaseTtlMs?: number;
}

/**
 * Limits a managed API key carries, enforced per (key, agent) by each agent's
 * guard. Absent fields: the agent's default (`GuardConfig.keyRateLimit`) or
 * no limit.
 */
export interface KeyLimits {
  /** Replaces `GuardConfig.keyRateLimit` for this key (first attempts only). */
  rateLimit?: RateLimitConfig;
  /** Tokens per UTC day this key may use on the agent (>= 0; 0 refuses every attempt). */
  maxTokensPerDay?: number;
}

/** One admission request: one upstream attempt. */
export interface AdmitRequest {
  config: GuardConfig;
  /** A gateway nonce per attempt, never caller-chosen: names the permit, probe and token reservations. */
  callId: string;
  /** Authenticated key id, for the per-key rate limit and token budget. */
  keyId?: string;
  /** The key's own limits; ignored without `keyId`. */
  keyLimits?: KeyLimits;
  /** 1 for the first attempt; retries skip rate limits but spend the retry budget. */
  attempt: number;
  /** Tokens to reserve against the daily budgets (the agent's and the key's). */
  estimateTokens: number;
  /**
   * The holder spent rate tokens of its leases on this first attempt (it could not admit it alone): `true`,
   * the agent's and the key's; `"agent"`, the agent's only (it holds no usable lease for the key); `"key"`, the
   * key's only (its agent lease ran dry). Those rate limits are already accounted for; the rest is checked here.
   */
  leasedRate?: boolean | "agent" | "key";
}

/** Why an attempt was not admitted. */
export type RejectReason =
  | "circuit_open"
  | "rate_limited"
  | "key_rate_limited"
  | "concurrency"
  | "key_concurrency"
  | "token_budget"
  | "key_token_budget"
  | "retry_budget";

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
  /** Tokens the agent reported using; settles the reservations. */
  tokens?: number;
  /**
   * The key the attempt was admitted for (as in its {@link AdmitRequest}), so its token reservation is settled
   * too. It is also the breaker's principal: one caller's failures alone cannot open the breaker while others call.
   */
  keyId?: string;
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

/** RPC `keyUsage`: what one API key has used on this agent, for the admin API. */
export interface KeyUsage {
  agent: string;
  keyId: string;
  /** Today's (UTC) tokens against the key's daily budget; absent when the key has none. */
  tokens?: { day: string; used: number; reserved: number; remaining: number };
  /** The key's rate-limit cell now, under its own limit or else the agent's per-key default; absent when neither exists. */
  rateLimit?: RateLimitDecision;
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
