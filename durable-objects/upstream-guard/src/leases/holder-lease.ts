/**
 * One key's lease as a holder keeps it, the rate meter that sizes it, the
 * want a holder sends for it, admitting on it, spending and giving back its
 * tokens for attempts the guard decides, and which keys need a lease of their
 * own: pieces of holder.ts, pure. Counts in a lease are the holder's view;
 * {@link UNLIMITED} means the guard has no such limit.
 */
import type { GuardConfig, KeyLimits } from "../types";
import { UNLIMITED } from "./grant";
import type { LeaseGrant, LeaseWant } from "./protocol";

/**
 * Arrivals per TTL for one key, as an exponentially decaying average (time
 * constant: one TTL), and attempts in flight with their peak over the last
 * one to two TTLs (the current window and the one before).
 */
export class RateMeter {
  private rate = 0;
  private at = -Infinity;
  inFlight = 0;
  private peakNow = 0;
  private peakBefore = 0;
  private windowFrom = -Infinity;

  constructor(private readonly ttlMs: number) {}

  hit(now: number): void {
    this.rate = this.perTtl(now) + 1;
    this.at = now;
    this.rotate(now);
  }

  /** The most attempts in flight at once lately. */
  peak(now: number): number {
    this.rotate(now);
    return Math.max(this.peakNow, this.peakBefore, this.inFlight);
  }

  private rotate(now: number): void {
    if (now - this.windowFrom < this.ttlMs) return;
    this.peakBefore = now - this.windowFrom < 2 * this.ttlMs ? this.peakNow : 0;
    this.peakNow = this.inFlight;
    this.windowFrom = now;
  }

  /** Arrivals per TTL at `now`. */
  perTtl(now: number): number {
    return Number.isFinite(this.at) ? this.rate * Math.exp(-Math.max(0, now - this.at) / this.ttlMs) : 0;
  }

  start(): void {
    this.inFlight++;
    this.peakNow = Math.max(this.peakNow, this.inFlight);
  }

  end(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }
}

/** A lease of one key, in the holder. */
export class KeyLease {
  /** Rate tokens left to admit with. */
  tokens = 0;
  /** Tokens admitted with since the last want. */
  used = 0;
  /** Tokens spent on attempts the guard is deciding (leasedRate): used once admitted, back if refused. */
  pending = 0;
  /** Attempts that found it without room since the last want (demand it did not meet). */
  unmet = 0;
  /** Permits of the block, and how many are in use. */
  permits = 0;
  inUse = 0;
  /** The budget reservation, the estimates charged against it, and what ended since the last want. */
  budget = 0;
  pendingEstimate = 0;
  endedEstimate = 0;
  endedTokens = 0;
  /** Holder clock: admit while now < admitUntil; last use; last grant. */
  admitUntil = 0;
  lastUseAt: number;
  grantedAt = -Infinity;
  /** The guard granted nothing last time (breaker not closed, or limits near): give it back. */
  refused = false;
  /** Tokens the last grant added (the stale mode's allowance per TTL). */
  lastGrantTokens = 0;
  /** Tokens the last want asked for, and whether the guard then granted none (the cell is dry). */
  wanted = 0;
  starved = false;
  /** Stale mode: the window start and what it admitted. */
  staleFrom = -Infinity;
  staleUsed = 0;

  constructor(
    readonly keyId: string,
    readonly keyLimits: KeyLimits | undefined,
    public estimate: number,
    now: number,
  ) {
    this.lastUseAt = now;
  }

  /** In use, and past half its TTL, down to a quarter of its last grant, or short of demand: renew it. */
  needsRenewal(now: number, ttlMs: number): boolean {
    if (now - this.lastUseAt >= ttlMs) return false;
    const low =
      !this.starved &&
      ((this.tokens !== UNLIMITED && this.lastGrantTokens > 0 && this.tokens <= this.lastGrantTokens / 4) ||
        this.unmet > 0);
    return now >= this.admitUntil - ttlMs / 2 || low;
  }

  /** Unused for a TTL with nothing in flight: give it back. */
  idle(now: number, ttlMs: number): boolean {
    return now >= this.idleAt(ttlMs);
  }

  /** When it will be idle if nothing more is admitted from it (never while anything is in flight). */
  idleAt(ttlMs: number): number {
    return this.inUse > 0 ? Infinity : Math.max(this.lastUseAt + ttlMs, this.admitUntil - ttlMs / 2);
  }

  /** Applies a grant to an exchange sent at `admitUntil - ttl`. */
  grant(grant: LeaseGrant, admitUntil: number, now: number): void {
    this.refused = !grant.granted;
    this.starved = grant.granted && grant.tokens === 0 && this.wanted > 0;
    if (this.tokens !== UNLIMITED) this.tokens = grant.tokens === UNLIMITED ? UNLIMITED : this.tokens + grant.tokens;
    this.permits = grant.permits;
    this.budget = grant.budget;
    this.admitUntil = grant.granted ? admitUntil : 0;
    if (grant.granted) {
      // A renewal that adds nothing (the lease still had enough) leaves the stale allowance as it was.
      if (grant.tokens > 0 || this.lastGrantTokens === 0) this.lastGrantTokens = grant.tokens;
      this.grantedAt = now;
    }
    this.staleFrom = -Infinity;
    this.staleUsed = 0;
  }
}

/**
 * The want for `lease`, sized to `headroom` TTLs of the meter's rate and to
 * its peak concurrency, and what sending it changes in the lease: the
 * accounting moves to the guard, and a smaller block or reservation takes
 * effect at once (a larger one when the guard grants it).
 */
export function wantFor(
  now: number,
  lease: KeyLease,
  meter: RateMeter | undefined,
  headroom: number,
  release: boolean,
): LeaseWant {
  const perTtl = meter?.perTtl(now) ?? 0;
  const peak = Math.max(meter?.peak(now) ?? 0, lease.inUse);
  // Renewed at half its TTL: enough for `headroom` half-TTLs of the observed rate, and at least twice what it
  // used since the last want (a rising load outruns the average; this doubles like a slow start).
  const tokensTarget = Math.ceil(Math.max((perTtl / 2) * headroom, 2 * (lease.used + lease.unmet)));
  const permitsTarget = Math.max(lease.inUse, Math.ceil(peak * 1.25) + 1);
  const permits = lease.permits === UNLIMITED ? UNLIMITED : Math.min(lease.permits, permitsTarget);
  const pending = Math.max(0, lease.pendingEstimate - lease.endedEstimate);
  const budgetTarget = Math.ceil(lease.estimate * (tokensTarget + peak));
  const budget =
    lease.budget === UNLIMITED
      ? UNLIMITED
      : Math.max(pending, Math.min(lease.budget - lease.endedEstimate, budgetTarget));
  const want: LeaseWant = {
    keyId: lease.keyId,
    ...(lease.keyLimits ? { keyLimits: lease.keyLimits } : {}),
    // A lease given back reports its pending tokens as used: the guard returns the rest to the cell.
    used: lease.used + (release ? lease.pending : 0),
    tokens: lease.tokens === UNLIMITED ? 0 : Math.max(0, tokensTarget - lease.tokens),
    permits: permits === UNLIMITED ? 0 : permits,
    morePermits: permits === UNLIMITED ? 0 : Math.max(0, permitsTarget - permits),
    settledTokens: lease.endedTokens,
    budget: budget === UNLIMITED ? 0 : budget,
    moreBudget: budget === UNLIMITED ? 0 : Math.max(0, budgetTarget - budget),
    estimate: lease.estimate,
    ...(release ? { release: true } : {}),
  };
  lease.used = 0;
  if (release) lease.pending = 0;
  lease.wanted = want.tokens;
  lease.unmet = 0;
  lease.permits = permits;
  lease.budget = budget;
  lease.pendingEstimate = pending;
  lease.endedEstimate = 0;
  lease.endedTokens = 0;
  return want;
}

/** Whether `lease` can admit one more attempt of `estimate` at `now`. */
export function hasRoom(lease: KeyLease | undefined, now: number, estimate: number): lease is KeyLease {
  return (
    !!lease &&
    now < lease.admitUntil &&
    lease.tokens >= 1 &&
    lease.inUse < lease.permits &&
    lease.budget - lease.pendingEstimate >= estimate
  );
}

/** Counts an admission of `estimate` on `lease`. */
export function admitOn(lease: KeyLease, now: number, estimate: number): void {
  if (lease.tokens !== UNLIMITED) lease.tokens--;
  lease.used++;
  lease.inUse++;
  lease.pendingEstimate += estimate;
  lease.lastUseAt = now;
}

/** Rate tokens spent from the leases for an attempt the guard decides (see {@link AgentHolder.takeToken}). */
export interface TokenReceipt {
  scope: true | "agent" | "key";
  taken: KeyLease[];
}

/**
 * Spends a rate token of the agent's lease and, when `keyed` and usable, the
 * key's, for an attempt the guard admits otherwise (no free permit or budget
 * here, or no lease for the key yet, or one lease ran dry). The receipt's
 * `scope` is `true` when both were spent, `"agent"` when only the agent's,
 * `"key"` when only the key's (the guard then checks the agent's cell, so a
 * key's tokens are never stranded behind an empty agent lease); undefined when
 * neither lease has one. The attempt is sent with `leasedRate` set to the
 * scope; {@link settleTokens} then counts them used, or returns them.
 */
export function takeTokens(
  now: number,
  agent: KeyLease | undefined,
  key: KeyLease | undefined,
  keyed: boolean,
): TokenReceipt | undefined {
  const usable = (l: KeyLease | undefined): l is KeyLease => !!l && now < l.admitUntil && l.tokens >= 1;
  const agentUsable = usable(agent);
  const keyUsable = keyed && usable(key);
  if (!agentUsable && !keyUsable) return undefined;
  const taken = [...(agentUsable ? [agent] : []), ...(keyUsable ? [key] : [])];
  for (const l of taken) {
    if (l.tokens !== UNLIMITED) l.tokens--;
    l.pending++;
    l.lastUseAt = now;
  }
  return { scope: agentUsable && (keyUsable || !keyed) ? true : agentUsable ? "agent" : "key", taken };
}

/**
 * Settles the tokens of a receipt once the guard decided its attempt: used if
 * admitted, else back to the leases still live (`live(keyId)` is the same
 * lease). Until then they are `pending`, neither reported used nor held, so
 * what a lease holds plus what it used or has pending stays what the guard
 * counts as outstanding, and a refusal loses nothing. A lease given back
 * meanwhile reported its pending tokens as used (see {@link wantFor}): those
 * stay spent, and the guard admits a little less, never more.
 */
export function settleTokens(
  receipt: TokenReceipt,
  admitted: boolean,
  live: (keyId: string) => KeyLease | undefined,
): void {
  for (const lease of receipt.taken) {
    if (live(lease.keyId) !== lease || lease.pending < 1) continue;
    lease.pending--;
    if (admitted) lease.used++;
    else if (lease.tokens !== UNLIMITED) lease.tokens++;
  }
}

/** An attempt admitted from the leases, to be finished with `AgentHolder.finish`. */
export interface LeasedTicket {
  keyId: string;
  estimate: number;
}

/**
 * Whether a key's attempts need a lease of the key's own: when the agent sets a per-key rate limit or
 * concurrency cap, or the key carries limits of its own. Otherwise the agent's lease alone admits them.
 */
export function needsKeyLease(config: GuardConfig, keyLimits: KeyLimits | undefined): boolean {
  return (
    config.keyRateLimit !== undefined ||
    config.keyMaxConcurrent !== undefined ||
    keyLimits?.rateLimit !== undefined ||
    keyLimits?.maxTokensPerDay !== undefined
  );
}
