/**
 * Request metrics of one agent, kept by its {@link UpstreamGuard} (the one
 * writer per agent, so the counters are global, not per gateway isolate).
 * Pure and serialisable: the Durable Object persists {@link MetricsSnapshot}
 * and each {@link MinuteBucket} in SQLite and rebuilds with {@link AgentMetrics.restore}.
 *
 * Two views:
 * - cumulative counters for Prometheus (requests by capability and status,
 *   a latency histogram per capability, retries, rejections by reason,
 *   breaker transitions by target state, tokens used);
 * - per-minute buckets of the last {@link MINUTES_KEPT} minutes for
 *   `/v1/stats`: count, errors (status >= 500), the slowest request, and a
 *   latency histogram on the same bounds, from which p50/p95/p99 are
 *   *estimated* by linear interpolation inside the bucket holding the rank
 *   (exact to within one bucket; never above the slowest request seen).
 */
import type { BreakerState, BreakerTransition } from "./policies";
import type { RejectReason } from "./types";

/** Upper bounds (seconds) of the latency histogram buckets; `+Inf` is implicit. */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30] as const;
/** The same bounds in milliseconds. */
const BOUNDS_MS = LATENCY_BUCKETS_S.map((s) => Math.round(s * 1000));
/** Per-minute buckets kept for `/v1/stats` (the longest window). */
export const MINUTES_KEPT = 60;
/** The windows `/v1/stats` reports, in minutes. */
export const STATS_WINDOWS_MIN = [1, 5, 60] as const;

/** What the gateway records once per request and agent (RPC `recordRequest`). */
export interface RequestRecord {
  /** The capability (task) asked for. */
  capability: string;
  /**
   * The caller-visible outcome, present for the agent the request was routed
   * to (final HTTP status, whole-request duration), absent for a fallback
   * agent that only took attempts.
   */
  outcome?: { status: number; durationMs: number };
  /** Retries this agent took for the request (attempts after the first that were made). */
  retries: number;
  /** Why this agent's guard refused an attempt, if it did (at most once per request). */
  rejection?: RejectReason;
}

/** A latency histogram: per-bucket counts (not cumulative; last = +Inf), sum in seconds, count. */
export interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

/** One minute of traffic, for `/v1/stats`. */
export interface MinuteBucket {
  /** Epoch minute (`floor(ms / 60000)`). */
  minute: number;
  count: number;
  /** Requests that ended with status >= 500. */
  errors: number;
  /** Slowest request in ms. */
  maxMs: number;
  /** Per-bucket counts on {@link LATENCY_BUCKETS_S} (last = +Inf). */
  latency: number[];
}

/** Persisted cumulative counters. */
export interface MetricsSnapshot {
  /** capability → status → count. */
  requests: Record<string, Record<string, number>>;
  /** capability → histogram. */
  latency: Record<string, Histogram>;
  retries: number;
  /** reason → count. */
  rejections: Partial<Record<RejectReason, number>>;
  /** target breaker state → count. */
  transitions: Partial<Record<BreakerState, number>>;
  tokens: number;
  /**
   * Admissions made without the guard because it could not answer: from an expired lease within the
   * stale grace (`stale`), or with no guard at all past it (`open`). Absent in snapshots written before.
   */
  bypass?: { stale: number; open: number };
}

/** One stats window. `null` where there was no request to measure. */
export interface StatsWindow {
  requests: number;
  rate_per_s: number;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

const emptyBuckets = () => new Array<number>(BOUNDS_MS.length + 1).fill(0);

/** Index of the bucket `ms` falls into (`le` semantics: a value equal to a bound goes in that bound's bucket). */
export function bucketIndex(ms: number): number {
  const i = BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? BOUNDS_MS.length : i;
}

/**
 * Estimates the `q` quantile (0..1) from per-bucket counts: finds the bucket
 * holding rank `q·n` and interpolates linearly between its bounds (0 below
 * the first). The `+Inf` bucket and the result are capped at `maxMs`.
 */
export function estimateQuantileMs(buckets: readonly number[], q: number, maxMs: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i] ?? 0;
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : (BOUNDS_MS[i - 1] ?? 0);
      const upper = Math.min(BOUNDS_MS[i] ?? maxMs, Math.max(maxMs, lower));
      const estimate = lower + ((upper - lower) * Math.max(0, rank - below)) / n;
      return Math.round(Math.min(estimate, maxMs) * 10) / 10;
    }
    below += n;
  }
  return maxMs;
}

/** The counters and minute buckets of one agent. */
export class AgentMetrics {
  private counters: MetricsSnapshot;
  private readonly minutes = new Map<number, MinuteBucket>();
  /** Minutes changed since the last {@link takeDirtyMinutes}. */
  private readonly dirty = new Set<number>();

  constructor(snapshot?: MetricsSnapshot, minutes: readonly MinuteBucket[] = []) {
    this.counters = snapshot
      ? structuredClone(snapshot)
      : { requests: {}, latency: {}, retries: 0, rejections: {}, transitions: {}, tokens: 0 };
    for (const m of minutes) this.minutes.set(m.minute, { ...m, latency: [...m.latency] });
  }

  /** Rebuilds from what was persisted. */
  static restore(snapshot: MetricsSnapshot | undefined, minutes: readonly MinuteBucket[]): AgentMetrics {
    return new AgentMetrics(snapshot, minutes);
  }

  /** Counts admissions made without the guard (see {@link MetricsSnapshot.bypass}). */
  countBypass(stale: number, open: number): void {
    if (stale <= 0 && open <= 0) return;
    const b = (this.counters.bypass ??= { stale: 0, open: 0 });
    b.stale += Math.max(0, stale);
    b.open += Math.max(0, open);
  }

  /** The persisted counters (a copy). */
  toJSON(): MetricsSnapshot {
    return structuredClone(this.counters);
  }

  /** Counts one request's record at `now`. */
  record(now: number, record: RequestRecord): void {
    const c = this.counters;
    if (record.retries > 0) c.retries += record.retries;
    if (record.rejection) c.rejections[record.rejection] = (c.rejections[record.rejection] ?? 0) + 1;
    const outcome = record.outcome;
    if (!outcome) return;
    const status = String(outcome.status);
    const byStatus = (c.requests[record.capability] ??= {});
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    const ms = Math.max(0, outcome.durationMs);
    const index = bucketIndex(ms);
    const histogram = (c.latency[record.capability] ??= { buckets: emptyBuckets(), sum: 0, count: 0 });
    histogram.buckets[index] = (histogram.buckets[index] ?? 0) + 1;
    histogram.sum += ms / 1000;
    histogram.count += 1;
    const minute = Math.floor(now / 60_000);
    let bucket = this.minutes.get(minute);
    if (!bucket) {
      bucket = { minute, count: 0, errors: 0, maxMs: 0, latency: emptyBuckets() };
      this.minutes.set(minute, bucket);
    }
    bucket.count += 1;
    if (outcome.status >= 500) bucket.errors += 1;
    bucket.maxMs = Math.max(bucket.maxMs, ms);
    bucket.latency[index] = (bucket.latency[index] ?? 0) + 1;
    this.dirty.add(minute);
    this.prune(minute);
  }

  /** Counts breaker transitions by target state. */
  countTransitions(transitions: readonly BreakerTransition[]): void {
    for (const t of transitions) this.counters.transitions[t.to] = (this.counters.transitions[t.to] ?? 0) + 1;
  }

  /** Counts tokens an agent reported using. */
  addTokens(tokens: number): void {
    if (Number.isFinite(tokens) && tokens > 0) this.counters.tokens += Math.round(tokens);
  }

  /** Minute buckets changed since the last call (to write through), and the oldest minute still kept. */
  takeDirtyMinutes(): { changed: MinuteBucket[]; oldestKept: number } {
    const changed = [...this.dirty].map((m) => this.minutes.get(m)).filter((m): m is MinuteBucket => m !== undefined);
    this.dirty.clear();
    const newest = Math.max(...this.minutes.keys(), 0);
    return { changed: changed.map((m) => ({ ...m, latency: [...m.latency] })), oldestKept: newest - MINUTES_KEPT + 1 };
  }

  /**
   * The window of the last `minutes` minute buckets at `now`: the current
   * (partial) minute and the `minutes − 1` before it. The rate divides by the
   * time those buckets cover ((minutes − 1)·60 s plus the seconds elapsed in
   * the current minute, at least 1 s).
   */
  window(now: number, minutes: number): StatsWindow {
    const current = Math.floor(now / 60_000);
    const latency = emptyBuckets();
    let requests = 0;
    let errors = 0;
    let maxMs = 0;
    for (const b of this.minutes.values()) {
      if (b.minute > current || b.minute <= current - minutes) continue;
      requests += b.count;
      errors += b.errors;
      maxMs = Math.max(maxMs, b.maxMs);
      b.latency.forEach((n, i) => (latency[i] = (latency[i] ?? 0) + n));
    }
    const coveredS = Math.max(1, (minutes - 1) * 60 + (now - current * 60_000) / 1000);
    return {
      requests,
      rate_per_s: Math.round((requests / coveredS) * 1000) / 1000,
      error_rate: requests === 0 ? null : Math.round((errors / requests) * 10_000) / 10_000,
      p50_ms: estimateQuantileMs(latency, 0.5, maxMs),
      p95_ms: estimateQuantileMs(latency, 0.95, maxMs),
      p99_ms: estimateQuantileMs(latency, 0.99, maxMs),
    };
  }

  /** The 1, 5 and 60 minute windows. */
  windows(now: number): Record<"1m" | "5m" | "60m", StatsWindow> {
    return { "1m": this.window(now, 1), "5m": this.window(now, 5), "60m": this.window(now, 60) };
  }

  private prune(newest: number): void {
    for (const minute of this.minutes.keys()) if (minute <= newest - MINUTES_KEPT) this.minutes.delete(minute);
  }
}
