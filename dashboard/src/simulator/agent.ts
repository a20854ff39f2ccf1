/**
 * The simulated agent: decides each attempt's fate from the fault pattern
 * and answers, on the virtual clock, with the same {@link AttemptResult}
 * shapes the gateway's `callAgent` produces (an HTTP 5xx, a network error,
 * a timeout when the attempt's time runs out, or a 200 with usage).
 */
import { ZaharaError } from "../../../workers/shared/errors";
import type { AttemptResult } from "../../../workers/gateway/src/dispatch";
import type { FaultPattern, LatencySpec } from "./types";
import type { VirtualScheduler } from "./scheduler";

/** z-score of the 95th percentile of a standard normal distribution. */
const Z95 = 1.6448536269514722;

/**
 * Draws a latency in whole ms: fixed, or log-normal with median `p50` and
 * 95th percentile `p95` (Box–Muller on two uniform draws). Always consumes
 * two draws, so the random stream stays aligned whatever the spec.
 */
export function drawLatency(spec: LatencySpec, random: () => number): number {
  const u1 = 1 - random();
  const u2 = random();
  if (typeof spec === "number") return Math.round(spec);
  const sigma = Math.log(spec.p95 / spec.p50) / Z95;
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.max(0, Math.round(spec.p50 * Math.exp(sigma * z)));
}

/** What an attempt will do, decided when it starts. */
type Fate = { kind: "ok" | "error" | "network"; latencyMs: number } | { kind: "hang" };

/** The fault model of one agent, drawing from its own seeded stream. */
export class SimulatedAgent {
  constructor(
    private readonly name: string,
    private readonly faults: FaultPattern,
    private readonly clock: VirtualScheduler,
    private readonly random: () => number,
    private readonly tokensPerCall: number,
  ) {}

  /** The fate of an attempt starting now: four draws every time (hang, error, latency × 2). */
  private fate(): Fate {
    const hang = this.random() < (this.faults.timeoutRate ?? 0);
    const error = this.random() < this.faults.errorRate;
    const latencyMs = drawLatency(this.faults.latencyMs, this.random);
    const outage = this.faults.outage;
    const second = this.clock.now() / 1000;
    if (outage && second >= outage.startSecond && second < outage.endSecond) {
      return outage.mode === "hang" ? { kind: "hang" } : { kind: "network", latencyMs: 0 };
    }
    if (hang) return { kind: "hang" };
    return { kind: error ? "error" : "ok", latencyMs };
  }

  /** One attempt with `timeoutMs` left: resolves on the virtual clock when the agent answers or the time is up. */
  call(timeoutMs: number): Promise<AttemptResult> {
    const fate = this.fate();
    const limit = Math.max(0, timeoutMs);
    if (fate.kind === "hang" || fate.latencyMs >= limit) return this.clock.after(limit, () => this.timeout(limit));
    const { latencyMs } = fate;
    return this.clock.after(latencyMs, (): AttemptResult => {
      const agent = this.name;
      switch (fate.kind) {
        case "ok":
          return { ok: true, status: 200, result: null, usage: { total_tokens: this.tokensPerCall }, latencyMs };
        case "network": {
          const error = new ZaharaError("UPSTREAM_UNREACHABLE", {
            message: `Agent "${agent}" could not be reached`,
            details: { agent },
          });
          return { ok: false, kind: "network", status: 0, error, retryAfter: null, latencyMs };
        }
        case "error": {
          const status = this.faults.errorStatus ?? 500;
          const error = new ZaharaError("UPSTREAM_FAILED", {
            message: `Agent "${agent}" answered ${status}`,
            details: { agent, agent_status: status },
          });
          return { ok: false, kind: "http", status, error, retryAfter: null, latencyMs };
        }
      }
    });
  }

  private timeout(timeoutMs: number): AttemptResult {
    const agent = this.name;
    const error = new ZaharaError("UPSTREAM_TIMEOUT", {
      message: `Agent "${agent}" did not answer before the deadline`,
      details: { agent, timeout_ms: timeoutMs },
    });
    return { ok: false, kind: "timeout", status: 0, error, retryAfter: null, latencyMs: timeoutMs };
  }
}
