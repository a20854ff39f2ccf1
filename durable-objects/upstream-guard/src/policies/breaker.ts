/**
 * Circuit breaker as a pure state machine (cockatiel's vocabulary: Closed, Open, HalfOpen,
 * Isolated; consecutive and count-based failure-rate breaking). Time is always passed in as
 * `now` (ms); the owner persists `toJSON()` and rebuilds with `CircuitBreaker.restore`.
 *
 * Outcomes may name the principal (the caller) they came from: failures then open the breaker
 * only under the {@link PrincipalQuorum} rule, so one caller cannot open it for everyone.
 */
import { PrincipalQuorum, type QuorumSnapshot } from "./quorum";
import { requireInt, requirePositive, snapshotEntries, snapshotNumber } from "./validate";

/** Breaker states: "isolated" is an admin-forced Open with no end. */
export type BreakerState = "closed" | "open" | "half_open" | "isolated";

/** Breaker tuning; validated by the constructor (`RangeError` on bad values). */
export interface BreakerConfig {
  /** Consecutive failures (in Closed) that open the breaker, >= 1. */
  failureThreshold: number;
  /** Optional count-based sliding window: open when failures/calls >= threshold over the last `size` calls, once `minimumCalls` were seen. */
  failureRate?: { threshold: number; size: number; minimumCalls: number };
  /** How long Open lasts before probes are admitted (ms, > 0). */
  openMs: number;
  /** Concurrent probes admitted in HalfOpen, >= 1. */
  halfOpenProbes: number;
  /** A probe permit expires after this (ms, > 0), so a lost probe never wedges HalfOpen. */
  probeLeaseMs: number;
}

/** One recorded state change. */
export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  at: number;
  cause: string;
}

/** Result of {@link CircuitBreaker.tryAcquire}. */
export type BreakerAdmission =
  | { allowed: true; state: BreakerState; probe: boolean }
  | { allowed: false; state: BreakerState; retryAfterMs: number };

/** Counters for metrics and admin views. */
export interface BreakerStats {
  state: BreakerState;
  consecutiveFailures: number;
  windowCalls: number;
  windowFailures: number;
  openUntil?: number;
  activeProbes: number;
}

/**
 * Plain-JSON persisted form; `window` is the rate window oldest first, "1" = failure, "0" = success.
 * v2 added `quorum` (a v1 snapshot restores with an empty one).
 */
export interface BreakerSnapshot {
  v: 1 | 2;
  state: BreakerState;
  consecutiveFailures: number;
  window: string;
  openUntil: number | null;
  probes: [string, number][];
  pending: BreakerTransition[];
  quorum?: QuorumSnapshot;
}

const STATES: readonly BreakerState[] = ["closed", "open", "half_open", "isolated"];

/** Consecutive-failure and failure-rate circuit breaker with leased half-open probes. */
export class CircuitBreaker {
  private state: BreakerState = "closed";
  private consecutiveFailures = 0;
  private window: boolean[] = [];
  private openUntil: number | undefined;
  private probes = new Map<string, number>();
  private pending: BreakerTransition[] = [];
  private quorum = new PrincipalQuorum();

  /** Validates `config`; starts Closed with zeroed counters. */
  constructor(private readonly config: BreakerConfig) {
    requireInt("failureThreshold", config.failureThreshold, 1);
    requirePositive("openMs", config.openMs);
    requireInt("halfOpenProbes", config.halfOpenProbes, 1);
    requirePositive("probeLeaseMs", config.probeLeaseMs);
    const rate = config.failureRate;
    if (rate) {
      if (!(rate.threshold > 0 && rate.threshold <= 1)) {
        throw new RangeError(`failureRate.threshold must be in (0, 1], got ${String(rate.threshold)}`);
      }
      requireInt("failureRate.size", rate.size, 1);
      requireInt("failureRate.minimumCalls", rate.minimumCalls, 1);
      if (rate.minimumCalls > rate.size) {
        throw new RangeError(
          `failureRate.minimumCalls (${rate.minimumCalls}) must be <= failureRate.size (${rate.size})`,
        );
      }
    }
  }

  /** Rebuilds a breaker from {@link CircuitBreaker.toJSON} output (a smaller rate window keeps the newest calls). */
  static restore(config: BreakerConfig, snapshot: BreakerSnapshot): CircuitBreaker {
    const b = new CircuitBreaker(config);
    if (!STATES.includes(snapshot.state))
      throw new TypeError(`snapshot.state is not a breaker state: ${JSON.stringify(snapshot.state)}`);
    if (typeof snapshot.window !== "string" || !/^[01]*$/.test(snapshot.window))
      throw new TypeError("snapshot.window must be a string of 0/1");
    b.state = snapshot.state;
    b.consecutiveFailures = snapshotNumber("consecutiveFailures", snapshot.consecutiveFailures);
    const size = config.failureRate?.size ?? 0;
    b.window = [...snapshot.window].slice(Math.max(0, snapshot.window.length - size)).map((c) => c === "1");
    b.openUntil = snapshot.openUntil === null ? undefined : snapshotNumber("openUntil", snapshot.openUntil);
    b.probes = snapshotEntries("probes", snapshot.probes);
    b.pending = Array.isArray(snapshot.pending) ? snapshot.pending.map((t) => ({ ...t })) : [];
    b.quorum = PrincipalQuorum.restore(snapshot.quorum);
    return b;
  }

  /** Plain JSON snapshot of the whole state, including transitions not yet taken. */
  toJSON(): BreakerSnapshot {
    return {
      v: 2,
      state: this.state,
      consecutiveFailures: this.consecutiveFailures,
      window: this.window.map((f) => (f ? "1" : "0")).join(""),
      openUntil: this.openUntil ?? null,
      probes: [...this.probes],
      pending: this.pending.map((t) => ({ ...t })),
      quorum: this.quorum.toJSON(),
    };
  }

  /** Effective state at `now` without changing anything (Open whose openUntil passed reports "half_open"). */
  peek(now: number): { state: BreakerState; retryAfterMs: number; openUntil?: number } {
    switch (this.state) {
      case "closed":
        return { state: "closed", retryAfterMs: 0 };
      case "isolated":
        return { state: "isolated", retryAfterMs: this.config.openMs };
      case "open": {
        const openUntil = this.openUntil ?? now;
        if (now < openUntil) return { state: "open", retryAfterMs: openUntil - now, openUntil };
        return { state: "half_open", retryAfterMs: 0, openUntil };
      }
      case "half_open":
        return { state: "half_open", retryAfterMs: this.probeWait(now) };
    }
  }

  /** Admission: Closed admits; Open denies until openUntil, then moves to HalfOpen and leases up to `halfOpenProbes` probes; Isolated denies. */
  tryAcquire(now: number, probeId: string): BreakerAdmission {
    if (this.state === "closed") return { allowed: true, state: "closed", probe: false };
    if (this.state === "isolated") return { allowed: false, state: "isolated", retryAfterMs: this.config.openMs };
    if (this.state === "open") {
      const openUntil = this.openUntil ?? now;
      if (now < openUntil) return { allowed: false, state: "open", retryAfterMs: openUntil - now };
      this.transition(now, "half_open", "open_ms elapsed");
    }
    this.expireProbes(now);
    if (this.probes.has(probeId) || this.probes.size < this.config.halfOpenProbes) {
      this.probes.set(probeId, now + this.config.probeLeaseMs);
      return { allowed: true, state: "half_open", probe: true };
    }
    return { allowed: false, state: "half_open", retryAfterMs: this.probeWait(now) };
  }

  /** Success: resets the consecutive count in Closed; a leased probe's success closes the breaker. Ignored while Open/Isolated. */
  onSuccess(now: number, probeId?: string, principal?: string): void {
    if (principal !== undefined) this.quorum.called(now, principal);
    if (this.state === "closed") {
      this.consecutiveFailures = 0;
      this.record(false);
    } else if (this.state === "half_open" && this.takeProbe(now, probeId)) {
      this.transition(now, "closed", "probe succeeded");
    }
  }

  /**
   * Failure: counts toward opening in Closed; a leased probe's failure reopens with a fresh openUntil.
   * With a `principal`, opening (or reopening) also needs the quorum: otherwise the failure is counted
   * and the breaker stays as it is (a probe's slot is freed). Ignored while Open/Isolated.
   */
  onFailure(now: number, probeId?: string, principal?: string): void {
    if (principal !== undefined) this.quorum.failed(now, principal);
    const quorum = this.quorum.met(now, principal);
    if (this.state === "closed") {
      this.consecutiveFailures++;
      this.record(true);
      const rate = this.config.failureRate;
      const failures = this.window.filter(Boolean).length;
      if (!quorum) return;
      if (this.consecutiveFailures >= this.config.failureThreshold) {
        this.transition(now, "open", `${this.consecutiveFailures} consecutive failures`);
      } else if (
        rate &&
        this.window.length >= rate.minimumCalls &&
        failures / this.window.length >= rate.threshold - 1e-9
      ) {
        const pct = Math.round((failures / this.window.length) * 100);
        this.transition(now, "open", `failure rate ${pct}% over ${this.window.length} calls`);
      }
    } else if (this.state === "half_open" && this.takeProbe(now, probeId) && quorum) {
      this.transition(now, "open", "probe failed");
    }
  }

  /** Neutral outcome (4xx, cancel, local rejection): neither success nor failure, but frees the probe lease. */
  onNeutral(now: number, probeId?: string, principal?: string): void {
    if (principal !== undefined) this.quorum.called(now, principal);
    if (this.state === "half_open") this.takeProbe(now, probeId);
  }

  /** Admin: force Open with no end ("isolated"). Records a transition unless already isolated. */
  isolate(now: number, cause: string): void {
    if (this.state !== "isolated") this.transition(now, "isolated", cause);
  }

  /** Admin: force Closed with every counter reset. Records a transition unless already closed. */
  reset(now: number, cause: string): void {
    if (this.state !== "closed") this.transition(now, "closed", cause);
    else this.clearCounters();
  }

  /** Transitions since the last call, each returned exactly once, oldest first. */
  takeTransitions(): BreakerTransition[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** State (as {@link CircuitBreaker.peek}), counters and unexpired probe leases at `now`. */
  stats(now: number): BreakerStats {
    const { state, openUntil } = this.peek(now);
    const activeProbes = this.state === "half_open" ? [...this.probes.values()].filter((exp) => exp > now).length : 0;
    const windowFailures = this.window.filter(Boolean).length;
    const stats: BreakerStats = {
      state,
      consecutiveFailures: this.consecutiveFailures,
      windowCalls: this.window.length,
      windowFailures,
      activeProbes,
    };
    return openUntil === undefined ? stats : { ...stats, openUntil };
  }

  private transition(now: number, to: BreakerState, cause: string): void {
    this.pending.push({ from: this.state, to, at: now, cause });
    this.state = to;
    this.probes.clear();
    this.openUntil = to === "open" ? now + this.config.openMs : undefined;
    if (to === "closed") {
      this.clearCounters();
      this.quorum.clearFailures();
    }
  }

  private clearCounters(): void {
    this.consecutiveFailures = 0;
    this.window = [];
  }

  private record(failure: boolean): void {
    const size = this.config.failureRate?.size;
    if (size === undefined) return;
    this.window.push(failure);
    if (this.window.length > size) this.window.splice(0, this.window.length - size);
  }

  /** Removes `probeId`'s lease; true only if it was held and unexpired at `now`. */
  private takeProbe(now: number, probeId: string | undefined): boolean {
    if (probeId === undefined) return false;
    const expiry = this.probes.get(probeId);
    if (expiry === undefined) return false;
    this.probes.delete(probeId);
    return expiry > now;
  }

  private expireProbes(now: number): void {
    for (const [id, expiry] of this.probes) if (expiry <= now) this.probes.delete(id);
  }

  /** 0 if a probe slot is free at `now`, else ms (>= 1) until the earliest lease expires. */
  private probeWait(now: number): number {
    const live = [...this.probes.values()].filter((exp) => exp > now);
    if (live.length < this.config.halfOpenProbes) return 0;
    return Math.max(1, Math.min(...live) - now);
  }
}
