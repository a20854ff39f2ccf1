/**
 * The soak's phases: what agent-demo's `chaos` capability is asked to do,
 * for how many requests, in order. Failing phases (a failure rate above 0,
 * or a delay past the deadline) are each followed by a healthy recovery
 * phase, so the breaker is seen to open under the fault and close after it.
 */

/** One phase of the soak. */
export interface Phase {
  name: string;
  /** Requests sent in this phase. */
  requests: number;
  /** Share of chaos calls that fail (0–1), each with a 500, 502 or 503. */
  failRate: number;
  /** Delay chaos waits before answering, in ms. */
  delayMs: number;
  /** Share of requests that call `summarize` (the LLM double) instead of chaos, so token budgets move. */
  llmShare?: number;
  /**
   * The phase lasts at least this long: its i-th request starts no earlier
   * than i/requests of it. Recovery phases use it so a short run still spans
   * an open period and a probe.
   */
  minDurationMs?: number;
  /** Restart the runtime (state persisted) once this many of the phase's requests were answered. */
  restartAfter?: number;
  /**
   * `drained` (default): no new request starts and in-flight ones finish
   * first, so the state on both sides must be identical. `hard`: the runtime
   * is killed with requests in flight; those are cut, and the permits and
   * token reservations their attempts held must come back by their leases.
   */
  restartMode?: "drained" | "hard";
}

/** The deadline every soak request asks for (`X-Timeout-Ms`); a 12 s delay is past it. */
export const SOAK_DEADLINE_MS = 4000;

/** True for a phase that should open the breaker: failures, or a delay past the deadline. */
export function isFailing(phase: Phase): boolean {
  return phase.failRate > 0 || phase.delayMs >= SOAK_DEADLINE_MS;
}

/** The full soak: 10 000 requests. */
export const FULL_PHASES: readonly Phase[] = [
  { name: "healthy", requests: 1500, failRate: 0, delayMs: 0, llmShare: 0.05 },
  { name: "fail 10%", requests: 1500, failRate: 0.1, delayMs: 0 },
  { name: "recover after 10%", requests: 500, failRate: 0, delayMs: 0, minDurationMs: 4000 },
  { name: "fail 50%", requests: 1500, failRate: 0.5, delayMs: 0 },
  { name: "recover after 50%", requests: 500, failRate: 0, delayMs: 0, minDurationMs: 4000 },
  { name: "fail 100%", requests: 1500, failRate: 1, delayMs: 0, restartAfter: 750 },
  { name: "recover after 100%", requests: 500, failRate: 0, delayMs: 0, minDurationMs: 4000 },
  { name: "delay 2 s", requests: 320, failRate: 0, delayMs: 2000, restartAfter: 160, restartMode: "hard" },
  { name: "delay 12 s", requests: 700, failRate: 0, delayMs: 12_000 },
  { name: "recover after 12 s", requests: 1480, failRate: 0, delayMs: 0, minDurationMs: 8000 },
];

/** The same phases scaled to about `share` of the requests (at least 64 each), for CI. */
export function scalePhases(phases: readonly Phase[], share: number): Phase[] {
  if (!(share > 0 && share <= 1)) throw new RangeError(`share must be in (0, 1], got ${share}`);
  return phases.map((p) => {
    const requests = Math.max(64, Math.round(p.requests * share));
    const scaled: Phase = { ...p, requests };
    if (p.restartAfter !== undefined)
      scaled.restartAfter = Math.max(1, Math.round((p.restartAfter / p.requests) * requests));
    return scaled;
  });
}

/** Total requests of a list of phases. */
export function totalRequests(phases: readonly Phase[]): number {
  return phases.reduce((n, p) => n + p.requests, 0);
}
