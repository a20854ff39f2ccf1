/**
 * Daily LLM token budget (per UTC day). A call reserves its estimated tokens
 * before it starts and settles with the actual usage when it ends, so
 * concurrent calls cannot jointly overshoot the budget by more than the
 * estimation error. With `leaseMs`, a reservation is a lease like a
 * concurrency permit: if its settlement never comes (the caller died), it
 * stops counting `leaseMs` after it was made instead of holding budget until
 * UTC midnight. Pure: time is passed in as `now` (ms since the epoch).
 */
import { requirePositive, requireNonNegative, snapshotNumber } from "./validate";

/** At most `maxTokensPerDay` tokens (used + reserved) per UTC day. */
export interface TokenBudgetConfig {
  /** Tokens per UTC day (> 0). */
  maxTokensPerDay: number;
  /**
   * Lifetime of an unsettled reservation in ms (> 0), like a concurrency
   * permit's lease: longer than the slowest legitimate call. Absent: a
   * reservation is held until it is settled or released, or the day ends.
   */
  leaseMs?: number;
}

/** Result of {@link TokenBudget.reserve}. */
export type TokenReservation =
  { allowed: true; remaining: number } | { allowed: false; remaining: number; retryAfterMs: number };

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

/**
 * Persisted form: the day the counters belong to, usage, and reservations as
 * `[id, tokens, expiresAt]` triples (`expiresAt` in epoch ms). A `[id, tokens]`
 * pair is a reservation without expiry: made without `leaseMs`, or persisted
 * before reservations were leases (held until settled, released or the day ends).
 */
export interface TokenBudgetSnapshot {
  day: string;
  used: number;
  reservations: ([string, number, number] | [string, number])[];
}

/** One reservation: its tokens and, when it is a lease, when it stops counting. */
interface Reservation {
  tokens: number;
  /** Epoch ms; the reservation no longer counts at `now >= expiresAt`. Undefined: no expiry. */
  expiresAt: number | undefined;
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
  private reservations = new Map<string, Reservation>();

  /** Validates `config` (`RangeError` unless maxTokensPerDay > 0 and leaseMs, when given, > 0). */
  constructor(private readonly config: TokenBudgetConfig) {
    requirePositive("maxTokensPerDay", config.maxTokensPerDay);
    if (config.leaseMs !== undefined) requirePositive("leaseMs", config.leaseMs);
  }

  /**
   * Rebuilds a budget from {@link TokenBudget.toJSON} output (`TypeError` on a
   * malformed snapshot). Legacy `[id, tokens]` pairs restore as reservations
   * without expiry: when they were made is unknown, so they keep the old
   * behaviour and are held until settled, released or the day rolls over.
   */
  static restore(config: TokenBudgetConfig, snapshot: TokenBudgetSnapshot): TokenBudget {
    const budget = new TokenBudget(config);
    if (typeof snapshot.day !== "string") throw new TypeError("snapshot.day must be a string");
    budget.day = snapshot.day;
    budget.used = snapshotNumber("used", snapshot.used);
    budget.reservations = snapshotReservations(snapshot.reservations);
    return budget;
  }

  /** Plain JSON snapshot. */
  toJSON(): TokenBudgetSnapshot {
    return {
      day: this.day,
      used: this.used,
      reservations: [...this.reservations].map(([id, { tokens, expiresAt }]) =>
        expiresAt === undefined ? [id, tokens] : [id, tokens, expiresAt],
      ),
    };
  }

  /**
   * Drops expired reservations, then reserves `estimate` tokens (clamped to
   * maxTokensPerDay) under `id` until now + leaseMs; reserving an id again
   * replaces (and renews) its reservation. Denied when used + reserved +
   * estimate > max, with retryAfterMs = ms until next UTC midnight (an upper
   * bound: a settlement, release or expiry may free budget sooner).
   */
  reserve(now: number, id: string, estimate: number): TokenReservation {
    requireNonNegative("estimate", estimate);
    this.rollover(now);
    this.expire(now);
    const tokens = Math.min(estimate, this.config.maxTokensPerDay);
    const others = this.reserved(now) - (this.reservations.get(id)?.tokens ?? 0);
    if (this.used + others + tokens > this.config.maxTokensPerDay) {
      return { allowed: false, remaining: this.remainingAfter(others), retryAfterMs: msUntilUtcMidnight(now) };
    }
    const expiresAt = this.config.leaseMs === undefined ? undefined : now + this.config.leaseMs;
    this.reservations.set(id, { tokens, expiresAt });
    return { allowed: true, remaining: this.remainingAfter(others + tokens) };
  }

  /**
   * Replaces `id`'s reservation by the actual usage (counted even above the
   * estimate); an unknown id (never reserved, released, or expired and
   * dropped) just adds `actual`: the call did happen.
   */
  settle(now: number, id: string, actual: number): void {
    requireNonNegative("actual", actual);
    this.rollover(now);
    this.reservations.delete(id);
    this.used += actual;
  }

  /** Tokens `id` holds at `now` (0 when it holds none or its lease expired). */
  heldBy(id: string, now: number): number {
    const r = this.reservations.get(id);
    return r && this.day === utcDay(now) && (r.expiresAt === undefined || r.expiresAt > now) ? r.tokens : 0;
  }

  /** Cancels a reservation (the call never happened or used nothing). */
  release(id: string): void {
    this.reservations.delete(id);
  }

  /** Drops reservations whose lease has expired (expiresAt <= `now`); returns how many. */
  expire(now: number): number {
    let dropped = 0;
    for (const [id, { expiresAt }] of this.reservations) {
      if (expiresAt !== undefined && expiresAt <= now) {
        this.reservations.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  /** Today's usage at `now`, as if rolled over and expired (does not change anything: expired reservations are just not counted). */
  usage(now: number): TokenUsage {
    const day = utcDay(now);
    const stale = day > this.day;
    const used = stale ? 0 : this.used;
    const reserved = stale ? 0 : this.reserved(now);
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

  /** Tokens held at `now` by unexpired reservations. */
  private reserved(now: number): number {
    return heldAt(this.reservations.values(), now);
  }

  private remainingAfter(reserved: number): number {
    return Math.max(0, this.config.maxTokensPerDay - this.used - reserved);
  }
}

/** Tokens held at `now` by `reservations`: those without expiry, and leases not yet expired. */
function heldAt(reservations: Iterable<Reservation>, now: number): number {
  let total = 0;
  for (const r of reservations) if (r.expiresAt === undefined || r.expiresAt > now) total += r.tokens;
  return total;
}

/** Tokens still held at `now` by the reservations of a snapshot (expired ones and ones without expiry handled as in {@link TokenBudget}). */
export function reservedInSnapshot(snapshot: TokenBudgetSnapshot, now: number): number {
  return heldAt(snapshotReservations(snapshot.reservations).values(), now);
}

const RESERVATIONS_SHAPE =
  "snapshot.reservations must be an array of [id, tokens, expiresAt] triples or legacy [id, tokens] pairs";

/** Reads `snapshot.reservations`: `[id, tokens, expiresAt]` triples and legacy `[id, tokens]` pairs (no expiry). */
function snapshotReservations(value: unknown): Map<string, Reservation> {
  if (!Array.isArray(value)) throw new TypeError(RESERVATIONS_SHAPE);
  const map = new Map<string, Reservation>();
  for (const entry of value as unknown[]) {
    if (!Array.isArray(entry) || (entry.length !== 2 && entry.length !== 3) || typeof entry[0] !== "string")
      throw new TypeError(RESERVATIONS_SHAPE);
    const id = entry[0];
    const tokens = snapshotNumber(`reservations[${id}]`, entry[1]);
    const expiresAt = entry.length === 3 ? snapshotNumber(`reservations[${id}].expiresAt`, entry[2]) : undefined;
    map.set(id, { tokens, expiresAt });
  }
  return map;
}
