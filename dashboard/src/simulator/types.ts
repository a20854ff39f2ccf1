/**
 * What the resilience simulator takes and returns. The policy settings are
 * exactly what the gateway resolves from a manifest (`resolveResilience`):
 * a {@link GuardConfig} and {@link RetrySettings}; the rest describes the
 * callers (traffic) and the agent's misbehaviour (faults). Plain data only.
 */
import type { BreakerState, BreakerTransition } from "../../../durable-objects/upstream-guard/src/policies";
import type { GuardConfig, RejectReason } from "../../../durable-objects/upstream-guard/src/types";
import type { RetrySettings } from "../../../workers/gateway/src/resilience/config";

export type { BreakerState, BreakerTransition, GuardConfig, RejectReason, RetrySettings };

/** Latency of one agent attempt: a fixed number of ms, or a log-normal distribution given by its median and 95th percentile. */
export type LatencySpec = number | { p50: number; p95: number };

/** A window in which the agent is down. */
export interface OutageWindow {
  /** First second (from the start of the run, inclusive) of the outage. */
  startSecond: number;
  /** Second at which the agent is back (exclusive). */
  endSecond: number;
  /**
   * How attempts that start inside the window fail: `"refuse"` (default) —
   * at once, as a network error (unreachable agent); `"hang"` — no answer
   * at all, so the attempt runs until its time is up (a timeout).
   */
  mode?: "refuse" | "hang";
}

/** How the simulated agent misbehaves. Each attempt draws its fate independently. */
export interface FaultPattern {
  /** Probability (0–1) that an attempt answers with `errorStatus`. */
  errorRate: number;
  /** The agent's error status (500–599, default 500: retried unless `retryOn500` is off; 501 never is). */
  errorStatus?: number;
  /** How long an attempt takes to answer (successes and errors alike). */
  latencyMs: LatencySpec;
  /** Probability (0–1) that an attempt never answers (it times out when the request's time is up). */
  timeoutRate?: number;
  /** A window in which every attempt fails (see {@link OutageWindow.mode}). */
  outage?: OutageWindow;
}

/** The callers: evenly spaced requests, round-robin over `keys` API keys. */
export interface TrafficPattern {
  /** Requests per second (> 0; fractions allowed, e.g. 0.5 = one every 2 s). */
  requestsPerSecond: number;
  /** Length of the run in whole seconds (1–3600); requests still running at the end are followed to their answer. */
  durationSeconds: number;
  /** Distinct API keys the requests come from (default 1); matters with a per-key rate limit. */
  keys?: number;
}

/** Everything one simulation needs. */
export interface SimulationInput {
  /** The agent's guard settings, as `resolveResilience` produces them. */
  guard: GuardConfig;
  /** The agent's retry settings, as `resolveResilience` produces them. */
  retries: RetrySettings;
  /** Each request's deadline (ms), covering every attempt and backoff sleep. */
  deadlineMs: number;
  traffic: TrafficPattern;
  faults: FaultPattern;
  /** Seed of every random draw (faults, latencies, backoff jitter): same seed, same result. */
  seed: number;
  /** Tokens each attempt reserves (and each success reports) when the guard has a daily token budget (default 1000). */
  tokenEstimate?: number;
}

/** Rejections per reason: the gateway refused the request's first attempt without calling the agent. */
export type RejectionCounts = Record<RejectReason, number>;

/** Latency percentiles (ms) of the requests that got a successful answer. */
export interface LatencyPercentiles {
  p50: number;
  p95: number;
}

/** What happened to the requests sent during one second of the run. */
export interface SecondBucket {
  /** Second index from the start (0-based). */
  t: number;
  /** Requests sent in this second. */
  sent: number;
  /** Of those, answered 200. */
  ok: number;
  /** Answered 502: the agent failed (retries exhausted, not retryable, or a retry refused). */
  failed: number;
  /** Refused before any call to the agent (503 circuit open / concurrency, 429 rate limits and token budgets). */
  rejected: RejectionCounts;
  /** Answered 504: the deadline passed (or an attempt timed out). */
  timedOut: number;
  /** Agent calls made for those requests (first attempts and retries, whenever they happened). */
  attempts: number;
  /** The breaker's state at the end of this second. */
  breakerState: BreakerState;
  /** End-to-end latency of this second's successful requests (retries and sleeps included); null when none succeeded. */
  latencyMs: LatencyPercentiles | null;
}

/** The whole run. */
export interface SimulationTotals {
  requests: number;
  ok: number;
  failed: number;
  rejected: RejectionCounts;
  timedOut: number;
  /** Agent calls, first attempts and retries. */
  attempts: number;
  /** `attempts / requests` (0 without requests): the load amplification retries cause. */
  attemptsPerRequest: number;
  /** `ok / requests` (0 without requests): what callers experience. */
  successRate: number;
  /** Why retries that were due did not happen: `retry_budget`, `circuit_open`, `deadline`, … (from the executor's `retry_stopped_by`). */
  retriesStoppedBy: Record<string, number>;
  /** Every breaker state change, oldest first (`at`: ms from the start of the run). */
  breakerTransitions: BreakerTransition[];
  /** End-to-end latency of all successful requests; null when none succeeded. */
  latencyMs: LatencyPercentiles | null;
  /** Virtual ms from the start until the last request was answered. */
  endedAtMs: number;
}

/** Result of {@link simulate}: one bucket per second of the run, and totals. */
export interface SimulationResult {
  buckets: SecondBucket[];
  totals: SimulationTotals;
}
