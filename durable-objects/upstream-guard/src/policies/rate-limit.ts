/**
 * Rate limiting with GCRA (generic cell rate algorithm): one number of state,
 * the theoretical arrival time (TAT), gives an exact sliding limit with no
 * double burst at window edges. Requests are spaced by the emission interval
 * T = periodMs / limit; up to `burst` may arrive at once (tolerance
 * T * (burst - 1)). Also builds the IETF RateLimit / RateLimit-Policy headers.
 */
import { requireInt, requirePositive, snapshotNumber } from "./validate";

/** `limit` requests per `periodMs`, at most `burst` at once. */
export interface RateLimitConfig {
  /** Requests per period (integer >= 1). */
  limit: number;
  /** Period in ms (> 0). */
  periodMs: number;
  /** Max simultaneous requests (integer >= 1). */
  burst: number;
}

/** Outcome of {@link Gcra.peek} / {@link Gcra.take}. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Further requests that would pass immediately after this decision. */
  remaining: number;
  /** 0 when allowed; otherwise ms (integer, >= 1) until one request passes. */
  retryAfterMs: number;
  /** ms (integer) until the bucket is full again. */
  resetMs: number;
  /** The configured `limit` (requests per period). */
  limit: number;
}

/** Persisted form of a {@link Gcra}. */
export interface GcraSnapshot {
  tat: number;
}

/**
 * Slack for float noise when T is fractional (e.g. 1000 ms / 3); at epoch-ms
 * magnitudes one ulp is ~0.0002 ms, so a request arriving this close to its
 * slot is let through instead of being denied for a rounding error.
 */
const EPSILON_MS = 0.01;

/** GCRA limiter; state is only the theoretical arrival time `tat`. */
export class Gcra {
  private readonly interval: number;
  private readonly tolerance: number;

  /** Validates `config`; `tat` defaults to 0, a full bucket for any `now` >= 0. */
  constructor(
    private readonly config: RateLimitConfig,
    private tat = 0,
  ) {
    requireInt("limit", config.limit, 1);
    requirePositive("periodMs", config.periodMs);
    requireInt("burst", config.burst, 1);
    snapshotNumber("tat", tat);
    this.interval = config.periodMs / config.limit;
    this.tolerance = this.interval * (config.burst - 1);
  }

  /** Rebuilds a limiter from {@link Gcra.toJSON} output. */
  static restore(config: RateLimitConfig, snapshot: GcraSnapshot): Gcra {
    return new Gcra(config, snapshotNumber("tat", snapshot.tat));
  }

  /** Plain JSON snapshot. */
  toJSON(): GcraSnapshot {
    return { tat: this.tat };
  }

  /** The decision {@link Gcra.take} would return at `now`, without consuming anything. */
  peek(now: number): RateLimitDecision {
    return this.decide(now).decision;
  }

  /** Consumes one request if allowed; a denied request consumes nothing. */
  take(now: number): RateLimitDecision {
    const { decision, tat } = this.decide(now);
    if (decision.allowed) this.tat = tat;
    return decision;
  }

  /**
   * Requests the cell would pass right now (0 to `burst`, fractional: the
   * bucket's level). Leases (`leases/`) take and give back whole requests
   * and cap the level below `burst` while tokens are held elsewhere.
   */
  level(now: number): number {
    return Math.min(this.config.burst, this.config.burst - Math.max(0, this.tat - now) / this.interval);
  }

  /**
   * Lowers the level to at most `max` (never raises it): refill that would
   * go past a cap is lost, as a full bucket overflows. Leases call it with
   * `burst - outstanding` before every change, so tokens held by isolates
   * and the bucket together never exceed one burst.
   */
  capLevel(now: number, max: number): void {
    if (this.level(now) > max) this.tat = now + (this.config.burst - Math.max(0, max)) * this.interval;
  }

  /** Takes up to `n` whole requests from the level; returns how many were taken. */
  takeMany(now: number, n: number): number {
    const taken = Math.max(0, Math.min(Math.floor(n), Math.floor(this.level(now) + EPSILON_MS / this.interval)));
    if (taken > 0) this.tat = Math.max(this.tat, now) + taken * this.interval;
    return taken;
  }

  /** Puts `n` unused requests back (the level never goes above `max`, nor above `burst`). */
  giveBack(now: number, n: number, max: number = this.config.burst): void {
    const level = Math.min(this.level(now) + Math.max(0, n), max, this.config.burst);
    this.tat = now + (this.config.burst - level) * this.interval;
  }

  private decide(now: number): { decision: RateLimitDecision; tat: number } {
    const start = Math.max(this.tat, now);
    const allowed = start - now <= this.tolerance + EPSILON_MS;
    const tat = allowed ? start + this.interval : this.tat;
    const ahead = Math.max(0, tat - now);
    const remaining = Math.max(0, Math.floor((this.tolerance + this.interval - ahead + EPSILON_MS) / this.interval));
    const decision: RateLimitDecision = {
      allowed,
      remaining: Math.min(remaining, this.config.burst),
      retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil(start - this.tolerance - now - EPSILON_MS)),
      resetMs: Math.max(0, Math.ceil(ahead - EPSILON_MS)),
      limit: this.config.limit,
    };
    return { decision, tat };
  }
}

/**
 * Headers per draft-ietf-httpapi-ratelimit-headers (-08 and later):
 * `RateLimit-Policy: "<name>";q=<limit>;w=<period seconds>` and
 * `RateLimit: "<name>";r=<remaining>;t=<seconds until reset, ceil>`, plus
 * `Retry-After` (seconds) when the decision is a denial.
 */
export function rateLimitHeaders(
  name: string,
  config: RateLimitConfig,
  decision: RateLimitDecision,
): Record<string, string> {
  const policy = sfString(name);
  const headers: Record<string, string> = {
    "RateLimit-Policy": `${policy};q=${config.limit};w=${Math.max(1, Math.ceil(config.periodMs / 1000))}`,
    RateLimit: `${policy};r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`,
  };
  if (!decision.allowed) headers["Retry-After"] = String(retryAfterSeconds(decision.retryAfterMs));
  return headers;
}

/** Whole seconds for a Retry-After header: ceil(ms/1000), at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.max(1, Math.ceil(ms / 1000)) : 1;
}

/** RFC 8941 sf-string: printable ASCII, with `"` and `\` escaped. */
function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value))
    throw new RangeError(`rate limit policy name must be printable ASCII: ${JSON.stringify(value)}`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
