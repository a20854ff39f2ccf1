/**
 * Tallies of a simulation: each request's outcome as the caller sees it,
 * counted in the second it was sent, and the totals.
 */
import type { ZaharaError } from "../../../workers/shared/errors";
import type {
  BreakerState,
  BreakerTransition,
  LatencyPercentiles,
  RejectReason,
  RejectionCounts,
  SecondBucket,
  SimulationResult,
} from "./types";

const REJECT_REASONS: readonly RejectReason[] = [
  "circuit_open",
  "rate_limited",
  "key_rate_limited",
  "concurrency",
  "token_budget",
  "key_token_budget",
  "retry_budget",
];

/** A zero count for every rejection reason. */
export function noRejections(): RejectionCounts {
  return Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as RejectionCounts;
}

/** What a caller got. */
export type CallerOutcome =
  { kind: "ok" } | { kind: "failed" } | { kind: "timedOut" } | { kind: "rejected"; reason: RejectReason };

/**
 * Classifies the error `executeResilient` threw: a refusal of the first
 * attempt carries the guard's reason in `details.reason`; a 504 is a
 * timeout; anything else (502, a relayed status) is a failure.
 */
export function outcomeOf(error: ZaharaError): CallerOutcome {
  const reason = error.details?.reason;
  if (typeof reason === "string" && (REJECT_REASONS as readonly string[]).includes(reason))
    return { kind: "rejected", reason: reason as RejectReason };
  if (error.status === 504) return { kind: "timedOut" };
  return { kind: "failed" };
}

/** Nearest-rank percentiles of `values` (sorted here); null when empty. */
export function percentiles(values: number[]): LatencyPercentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { p50: rank(0.5), p95: rank(0.95) };
}

interface Tally {
  sent: number;
  ok: number;
  failed: number;
  timedOut: number;
  rejected: RejectionCounts;
  attempts: number;
  latencies: number[];
  breakerState: BreakerState;
}

/** Per-second tallies of one run. */
export class Recorder {
  private readonly seconds: Tally[];
  private readonly stopped: Record<string, number> = {};
  private endedAt = 0;

  constructor(durationSeconds: number) {
    this.seconds = Array.from({ length: durationSeconds }, () => ({
      sent: 0,
      ok: 0,
      failed: 0,
      timedOut: 0,
      rejected: noRejections(),
      attempts: 0,
      latencies: [],
      breakerState: "closed",
    }));
  }

  /** A request sent at `sentAt` got `outcome` at `endedAt` after `attempts` agent calls; `retryStoppedBy` is the executor's reason a due retry was not made. */
  request(sentAt: number, endedAt: number, outcome: CallerOutcome, attempts: number, retryStoppedBy?: string): void {
    const s = this.second(sentAt);
    s.sent++;
    s.attempts += attempts;
    if (outcome.kind === "rejected") s.rejected[outcome.reason]++;
    else s[outcome.kind]++;
    if (outcome.kind === "ok") s.latencies.push(endedAt - sentAt);
    if (retryStoppedBy !== undefined) this.stopped[retryStoppedBy] = (this.stopped[retryStoppedBy] ?? 0) + 1;
    this.endedAt = Math.max(this.endedAt, endedAt);
  }

  /** The breaker's state at the end of second `t`. */
  breakerAt(t: number, state: BreakerState): void {
    const s = this.seconds[t];
    if (s) s.breakerState = state;
  }

  /** Buckets and totals. */
  result(transitions: BreakerTransition[]): SimulationResult {
    const buckets: SecondBucket[] = this.seconds.map((s, t) => ({
      t,
      sent: s.sent,
      ok: s.ok,
      failed: s.failed,
      rejected: { ...s.rejected },
      timedOut: s.timedOut,
      attempts: s.attempts,
      breakerState: s.breakerState,
      latencyMs: percentiles(s.latencies),
    }));
    const sum = (pick: (b: Tally) => number) => this.seconds.reduce((n, b) => n + pick(b), 0);
    const requests = sum((b) => b.sent);
    const ok = sum((b) => b.ok);
    const attempts = sum((b) => b.attempts);
    const rejected = noRejections();
    for (const b of this.seconds) for (const r of REJECT_REASONS) rejected[r] += b.rejected[r];
    return {
      buckets,
      totals: {
        requests,
        ok,
        failed: sum((b) => b.failed),
        rejected,
        timedOut: sum((b) => b.timedOut),
        attempts,
        attemptsPerRequest: requests === 0 ? 0 : attempts / requests,
        successRate: requests === 0 ? 0 : ok / requests,
        retriesStoppedBy: { ...this.stopped },
        breakerTransitions: transitions.map((t) => ({ ...t })),
        latencyMs: percentiles(this.seconds.flatMap((b) => b.latencies)),
        endedAtMs: this.endedAt,
      },
    };
  }

  private second(at: number): Tally {
    const t = Math.min(this.seconds.length - 1, Math.floor(at / 1000));
    return this.seconds[t]!;
  }
}
