/**
 * From a simulator result to what the panel draws: per-second series for
 * `LineChart`, the breaker's state per second, the totals callers care
 * about, and the policy settings the run used. Pure; the types here are the
 * parts of the simulator's own types the panel reads (sim-runtime/run.ts,
 * type-checked against the simulator, proves they match).
 */
import type { ZaharaAgentManifest } from "../../../../workers/shared/manifest";
import type { Scenario } from "./scenario";

/** One line of a chart (the shape of `Series` in clinic/line-chart.tsx). */
export interface PlotSeries {
  name: string;
  color: string;
  points: { t: number; v: number | null }[];
}

/** The breaker states the guard reports. */
export type PlotBreakerState = "closed" | "open" | "half_open" | "isolated";

/** The parts of a simulator `SecondBucket` the plot reads. */
export interface BucketLike {
  t: number;
  sent: number;
  ok: number;
  failed: number;
  rejected: Record<string, number>;
  timedOut: number;
  attempts: number;
  breakerState: PlotBreakerState;
}

/** The parts of a simulator `SimulationResult` the plot reads. */
export interface ResultLike {
  buckets: readonly BucketLike[];
  totals: {
    requests: number;
    ok: number;
    failed: number;
    rejected: Record<string, number>;
    timedOut: number;
    attempts: number;
    attemptsPerRequest: number;
    successRate: number;
    retriesStoppedBy: Record<string, number>;
    breakerTransitions: readonly { from: PlotBreakerState; to: PlotBreakerState; at: number; cause: string }[];
    latencyMs: { p50: number; p95: number } | null;
    endedAtMs: number;
  };
}

/** The parts of a simulator `SimulationInput` the settings summary reads. */
export interface InputLike {
  guard: {
    breaker: {
      failureThreshold: number;
      openMs: number;
      halfOpenProbes: number;
      failureRate?: { threshold: number; size: number; minimumCalls: number };
    };
    retryBudget: { ratio: number; minPerWindow: number; windowMs: number };
    rateLimit?: { limit: number; periodMs: number; burst: number };
    keyRateLimit?: { limit: number; periodMs: number; burst: number };
    maxConcurrent?: number;
    maxTokensPerDay?: number;
  };
  retries: { maxRetries: number; baseMs: number; capMs: number; retryOn500: boolean };
  deadlineMs: number;
  tokenEstimate?: number;
}

/** Everything the panel shows about one run. */
export interface SimulationPlot {
  /** Requests per second by what the caller got: ok, failed, rejected, timed out. */
  outcomes: PlotSeries[];
  /** Requests sent and agent calls made (first attempts and retries), per second. */
  load: PlotSeries[];
  /** The breaker's state at the end of each second. */
  breaker: { t: number; state: PlotBreakerState }[];
  totals: {
    requests: number;
    ok: number;
    failed: number;
    rejected: number;
    timedOut: number;
    successRate: number;
    attemptsPerRequest: number;
    /** Non-zero rejection counts, largest first. */
    rejectedBy: [reason: string, count: number][];
    /** Why due retries did not happen, largest first. */
    retriesStoppedBy: [reason: string, count: number][];
    transitions: { atMs: number; from: PlotBreakerState; to: PlotBreakerState; cause: string }[];
    latencyMs: { p50: number; p95: number } | null;
    endedAtMs: number;
  };
  /** The resolved policy settings the run used, as label/value pairs. */
  settings: [label: string, value: string][];
}

/** Series colours (4.5:1 on white). */
export const OUTCOME_COLORS = {
  ok: "#1a7f37",
  failed: "#b42318",
  rejected: "#8250df",
  timedOut: "#7d4e00",
  sent: "#57606a",
  attempts: "#0b57d0",
} as const;

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
const ranked = (record: Record<string, number>): [string, number][] =>
  Object.entries(record)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);

/** Label/value pairs of the policy settings a run used (as `resolveResilience` resolved them). */
export function describeSettings(input: InputLike): [string, string][] {
  const { guard, retries } = input;
  const b = guard.breaker;
  const rate = (r: { limit: number; periodMs: number; burst: number } | undefined) =>
    r ? `${r.limit} per ${r.periodMs / 1000} s, burst ${r.burst}` : "none";
  const out: [string, string][] = [
    ["Deadline per request", `${input.deadlineMs} ms`],
    [
      "Breaker",
      `opens after ${b.failureThreshold} consecutive failures, for ${b.openMs} ms; ${b.halfOpenProbes} half-open probe${b.halfOpenProbes === 1 ? "" : "s"}`,
    ],
  ];
  if (b.failureRate)
    out.push([
      "Breaker failure rate",
      `${b.failureRate.threshold * 100}% of the last ${b.failureRate.size} calls (at least ${b.failureRate.minimumCalls})`,
    ]);
  out.push(
    [
      "Retries",
      `up to ${retries.maxRetries}, backoff ${retries.baseMs}–${retries.capMs} ms with jitter${retries.retryOn500 ? "" : ", not on 500"}`,
    ],
    [
      "Retry budget",
      `${guard.retryBudget.ratio * 100}% of requests + ${guard.retryBudget.minPerWindow} per ${guard.retryBudget.windowMs / 1000} s`,
    ],
    ["Agent rate limit", rate(guard.rateLimit)],
    ["Per-key rate limit", rate(guard.keyRateLimit)],
    ["Concurrency", guard.maxConcurrent === undefined ? "unlimited" : `${guard.maxConcurrent} at once`],
    [
      "Tokens per day",
      guard.maxTokensPerDay === undefined
        ? "not counted"
        : `${guard.maxTokensPerDay.toLocaleString("en")} (${(input.tokenEstimate ?? 0).toLocaleString("en")} per call)`,
    ],
  );
  return out;
}

/** The plot of a run (`settings` from {@link describeSettings} of its input). */
export function toPlot(result: ResultLike, settings: [string, string][] = []): SimulationPlot {
  const series = (name: string, color: string, pick: (b: BucketLike) => number): PlotSeries => ({
    name,
    color,
    points: result.buckets.map((b) => ({ t: b.t, v: pick(b) })),
  });
  const c = OUTCOME_COLORS;
  const t = result.totals;
  return {
    outcomes: [
      series("ok", c.ok, (b) => b.ok),
      series("failed", c.failed, (b) => b.failed),
      series("rejected", c.rejected, (b) => sum(b.rejected)),
      series("timed out", c.timedOut, (b) => b.timedOut),
    ],
    load: [series("requests sent", c.sent, (b) => b.sent), series("agent calls", c.attempts, (b) => b.attempts)],
    breaker: result.buckets.map((b) => ({ t: b.t, state: b.breakerState })),
    totals: {
      requests: t.requests,
      ok: t.ok,
      failed: t.failed,
      rejected: sum(t.rejected),
      timedOut: t.timedOut,
      successRate: t.successRate,
      attemptsPerRequest: t.attemptsPerRequest,
      rejectedBy: ranked(t.rejected),
      retriesStoppedBy: ranked(t.retriesStoppedBy),
      transitions: t.breakerTransitions.map((x) => ({ atMs: x.at, from: x.from, to: x.to, cause: x.cause })),
      latencyMs: t.latencyMs,
      endedAtMs: t.endedAtMs,
    },
    settings,
  };
}

/** What the page sends the simulation worker. */
export interface RunRequest {
  manifest: ZaharaAgentManifest;
  scenario: Scenario;
}

/** What the simulation worker answers. */
export type RunResponse = { ok: true; plot: SimulationPlot } | { ok: false; message: string };

/** A stretch of seconds with one breaker state (`from` to `to`, inclusive). */
export interface StateRun {
  state: PlotBreakerState;
  from: number;
  to: number;
}

/** The breaker's states as runs of consecutive seconds, in order. */
export function stateRuns(breaker: readonly { t: number; state: PlotBreakerState }[]): StateRun[] {
  const runs: StateRun[] = [];
  for (const { t, state } of breaker) {
    const last = runs.at(-1);
    if (last && last.state === state) last.to = t;
    else runs.push({ state, from: t, to: t });
  }
  return runs;
}
