/**
 * Daily LLM token budget (per UTC day). A call reserves its estimated tokens
 * before it starts and settles with the actual usage when it ends, so
 * concurrent calls cannot jointly overshoot the budget by more than the
 * estimation error. Pure: time is passed in as `now` (ms since the epoch).
 */
import { requirePositive, requireNonNegative, snapshotEntries, snapshotNumber } from "./validate";

/** At most `maxTokensPerDay` tokens (used + reserved) per UTC day. */
export interface TokenBudgetConfig {
  /** Tokens per UTC day (> 0). */
  maxTokensPerDay: number;
}

/** Result of {@link TokenBudget.reserve}. */
export type TokenReservation =
  | { allowed: true; remaining: number }
  | { allowed: false; remaining: number; retryAfterMs: number };

/** Today's figures, from {@link TokenBudget.usage}. */
export interface TokenUsage {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  used: number;
  reserved: number;
  remaining: number;
  /** ms until the next UTC midnight, when the budget resets. */
  resetsInMs: number;
}

/** Persisted form: the day the counters belong to, usage, and `[id, tokens]` reservations. */
export interface TokenBudgetSnapshot {
  day: string;
  used: number;
  reservations: [string, number][];
}

const DAY_MS = 86_400_000;

/** The UTC calendar day of `now` as YYYY-MM-DD. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** ms from `now` until the next UTC midnight (a full day when `now` is exactly midnight). */
export function msUntilUtcMidnight(now: number): number {
  return DAY_MS - (((now % DAY_MS) + DAY_MS) % DAY_MS);
}

/** Reserve/settle token budget that rolls over at UTC midnight. */
export class TokenBudget {
  private day = "";
  private used = 0;
  private reservations = new Map<string, number>();

  /** Validates `config` (`RangeError` unless maxTokensPerDay > 0). */
  constructor(private readonly config: TokenBudgetConfig) {
    requirePositive("maxTokensPerDay", config.maxTokensPerDay);
  }

  /** Rebuilds a budget from {@link TokenBudget.toJSON} output. */
  static restore(config: TokenBudgetConfig, snapshot: TokenBudgetSnapshot): TokenBudget {
    const budget = new TokenBudget(config);
    if (typeof snapshot.day !== "string") throw new TypeError("snapshot.day must be a string");
    budget.day = snapshot.day;
    budget.used = snapshotNumber("used", snapshot.used);
    budget.reservations = snapshotEntries("reservations", snapshot.reservations);
    return budget;
  }

  /** Plain JSON snapshot. */
  toJSON(): TokenBudgetSnapshot {
    return { day: this.day, used: this.used, reservations: [...this.reservations] };
  }

  /**
   * Reserves `estimate` tokens (clamped to maxTokensPerDay) under `id`;
   * reserving an id again replaces its reservation. Denied when used +
   * reserved + estimate > max, with retryAfterMs = ms until next UTC midnight.
   */
  reserve(now: number, id: string, estimate: number): TokenReservation {
    requireNonNegative("estimate", estimate);
    this.rollover(now);
    const tokens = Math.min(estimate, this.config.maxTokensPerDay);
    const others = this.reserved() - (this.reservations.get(id) ?? 0);
    if (this.used + others + tokens > this.config.maxTokensPerDay) {
      return { allowed: false, remaining: this.remainingAfter(others), retryAfterMs: msUntilUtcMidnight(now) };
    }
    this.reservations.set(id, tokens);
    return { allowed: true, remaining: this.remainingAfter(others + tokens) };
  }

  /** Replaces `id`'s reservation by the actual usage (counted even above the estimate); an unknown id just adds `actual`. */
  settle(now: number, id: string, actual: number): void {
    requireNonNegative("actual", actual);
    this.rollover(now);
    this.reservations.delete(id);
    this.used += actual;
  }

  /** Cancels a reservation (the call never happened or used nothing). */
  release(id: string): void {
    this.reservations.delete(id);
  }

  /** Today's usage at `now`, as if rolled over (does not change anything). */
  usage(now: number): TokenUsage {
    const day = utcDay(now);
    const stale = day > this.day;
    const used = stale ? 0 : this.used;
    const reserved = stale ? 0 : this.reserved();
    return {
      day,
      used,
      reserved,
      remaining: Math.max(0, this.config.maxTokensPerDay - used - reserved),
      resetsInMs: msUntilUtcMidnight(now),
    };
  }

  /** Starts a new day when `now` is in a later UTC day than the stored one (an earlier `now`, i.e. clock skew, keeps the counters). */
  private rollover(now: number): void {
    const day = utcDay(now);
    if (day > this.day) {
      this.day = day;
      this.used = 0;
      this.reservations.clear();
    }
  }

  private reserved(): number {
    let total = 0;
    for (const tokens of this.reservations.values()) total += tokens;
    return total;
  }

  private remainingAfter(reserved: number): number {
    return Math.max(0, this.config.maxTokensPerDay - this.used - reserved);
  }
}
