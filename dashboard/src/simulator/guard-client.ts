/**
 * The gateway's {@link GuardClient} over an in-process {@link Guard}: what
 * the `UpstreamGuard` Durable Object does per RPC, minus SQLite — restore the
 * calling key's rate-limit cell (`keyLimitsFor` + {@link KeyLimiter}), admit
 * or report atomically at the virtual `now`, keep the key's cell, and take
 * the breaker's transitions. Admissions and reports take no virtual time.
 */
import { Guard } from "../../../durable-objects/upstream-guard/src/guard";
import { KeyLimiter, keyLimitsFor } from "../../../durable-objects/upstream-guard/src/keys";
import type { BreakerTransition } from "../../../durable-objects/upstream-guard/src/policies";
import type {
  AdmitRequest,
  AdmitResult,
  GuardConfig,
  ReportRequest,
} from "../../../durable-objects/upstream-guard/src/types";
import type { GuardClient } from "../../../workers/gateway/src/resilience/guard-client";

/** One agent's guard, driven by a clock the caller owns. */
export class SimulatedGuard implements GuardClient {
  /** The real policies. */
  readonly guard: Guard;
  /** Every breaker transition so far, oldest first. */
  readonly transitions: BreakerTransition[] = [];
  /** Each key's GCRA theoretical arrival time (the Durable Object's `key_rate` cells). */
  private readonly keyTats = new Map<string, number>();

  constructor(
    config: GuardConfig,
    private readonly now: () => number,
  ) {
    this.guard = new Guard(config);
  }

  /** Admission as the Durable Object's `admit` RPC does it (the timeout is moot: the guard always answers). */
  admit(request: AdmitRequest): Promise<AdmitResult> {
    const now = this.now();
    const key = this.keyLimiter(request);
    const result = this.guard.admit(now, request, key);
    if (result.admitted && key && request.keyId !== undefined) {
      const tat = key.toJSON().tat;
      if (tat !== undefined) this.keyTats.set(request.keyId, tat);
    }
    this.collect();
    return Promise.resolve(result);
  }

  /** The outcome report, applied at once (the gateway sends it with `waitUntil` right after the response). */
  report(request: ReportRequest): Promise<void> {
    this.guard.report(this.now(), request);
    this.collect();
    return Promise.resolve();
  }

  /** The key's cells for this attempt, as the Durable Object restores them; undefined when the key has no limit here. */
  private keyLimiter(request: AdmitRequest): KeyLimiter | undefined {
    if (request.keyId === undefined) return undefined;
    const limits = keyLimitsFor(request.config, request.keyLimits, request.attempt);
    if (!limits.rateLimit && limits.maxTokensPerDay === undefined) return undefined;
    const tat = limits.rateLimit ? this.keyTats.get(request.keyId) : undefined;
    return new KeyLimiter(limits, tat !== undefined ? { tat } : {}, request.config.leaseMs);
  }

  private collect(): void {
    for (const t of this.guard.breaker.takeTransitions()) this.transitions.push(t);
  }
}
