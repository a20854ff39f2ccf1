/**
 * The guard's side of a lease renewal, pure. A holder keeps one lease for the
 * agent ({@link AGENT_LEASE}: the agent's rate cell, a block of the agent's
 * permits, a reservation of the agent's budget) and one per key it serves
 * (the key's rate cell, an allowance against the key's concurrency cap, a
 * reservation of the key's budget). A local admission needs room in both,
 * so nothing is fragmented across keys that need not be.
 *
 * - Rate tokens are taken from the cell at grant time, after its level is
 *   capped at `burst - outstanding`, so the tokens isolates hold and the
 *   bucket together never exceed one burst (docs/admission-leases.md derives
 *   the bound: admitted requests in any window W ≤ rate × W + burst). One
 *   lease holds at most {@link MAX_LEASE_TOKENS_SHARE} of a burst, so one
 *   isolate's cold burst cannot take a whole cell from the others.
 * - A block (or an allowance) grows only while the agent's in-flight count
 *   (or the key's) stays at or below {@link LEASE_SHARE} of its limit; above,
 *   holders admit per request. The limits themselves are never exceeded.
 * - A budget reservation grows by at most half of what is left of the day,
 *   in whole estimates.
 * - Nothing grows unless the breaker is closed.
 */
import type { Guard } from "../guard";
import type { KeyLimiter } from "../keys";
import type { ConcurrencyLimiter, Gcra } from "../policies";
import { AGENT_LEASE, type LeaseRecord, leaseId } from "./book";
import type { LeaseGrant, LeaseWant } from "./protocol";

export { AGENT_LEASE };
/** Share of a concurrency limit (or cap) that blocks and allowances may fill; above it, per request. */
export const LEASE_SHARE = 0.5;
/** Share of a rate cell's burst one lease may hold. */
export const MAX_LEASE_TOKENS_SHARE = 0.25;
/**
 * Lease renewals per second one guard aims to stay under (a Durable Object serves about 1,000 calls/s; the rest is
 * left for failure reports, per-request admissions and admin calls). See {@link leaseTtl}.
 */
export const RENEWALS_PER_S = 400;
/** The longest a stretched TTL gets, as a multiple of the setting (and never above a minute). */
export const MAX_TTL_STRETCH = 16;

/**
 * The TTL a guard grants with, given `holders` isolates holding live leases: the setting `baseMs`, stretched so
 * their renewals (about two per TTL each) stay under {@link RENEWALS_PER_S}. More isolates than one guard can
 * renew every second cost a slower propagation of a forced opening (one stretched TTL), not a guard that drowns.
 */
export function leaseTtl(baseMs: number, holders: number): number {
  const needed = Math.ceil((2 * holders * 1000) / RENEWALS_PER_S);
  return Math.min(Math.max(baseMs, needed), baseMs * MAX_TTL_STRETCH, Math.max(baseMs, 60_000));
}

/** "No limit" in a grant: the holder need not count. */
export const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** What one lease draws on: a rate cell, concurrency permits, a budget. */
interface Limits {
  cell?: { gcra: Gcra; burst: number };
  permits?: {
    limiter: ConcurrencyLimiter;
    max: number;
    owner?: { id: string; max: number };
    ownerOnly: boolean;
    held: () => number;
  };
  budget?: {
    reserve(n: number): void;
    left(): number;
    heldBy(): number;
    release(): void;
    settle(tokens: number): void;
  };
}

/** The agent's limits as its lease draws on them. */
function agentLimits(now: number, guard: Guard, rid: string): Limits {
  const max = guard.config.maxConcurrent;
  const tokens = guard.tokens;
  return {
    ...(guard.rate && guard.config.rateLimit
      ? { cell: { gcra: guard.rate, burst: guard.config.rateLimit.burst } }
      : {}),
    ...(guard.concurrency && max !== undefined
      ? { permits: { limiter: guard.concurrency, max, ownerOnly: false, held: () => guard.concurrency!.inFlight(now) } }
      : {}),
    ...(tokens
      ? {
          budget: {
            reserve: (n: number) => void tokens.reserve(now, rid, n),
            left: () => tokens.usage(now).remaining,
            heldBy: () => tokens.heldBy(rid, now),
            release: () => tokens.release(rid),
            settle: (n: number) => tokens.settle(now, `${rid}~settled`, n),
          },
        }
      : {}),
  };
}

/** A key's limits as its lease draws on them. */
function keyLimits(now: number, guard: Guard, key: KeyLimiter | undefined, keyId: string, rid: string): Limits {
  const cap = guard.config.keyMaxConcurrent;
  const usage = key?.tokenUsage(now);
  const owner = { id: keyId, max: cap ?? 0 };
  return {
    ...(key?.rate && key.rateLimit ? { cell: { gcra: key.rate, burst: key.rateLimit.burst } } : {}),
    ...(guard.concurrency && cap !== undefined
      ? {
          permits: {
            limiter: guard.concurrency,
            max: cap,
            owner,
            ownerOnly: true,
            held: () => guard.concurrency!.heldBy(now, keyId),
          },
        }
      : {}),
    ...(key && usage
      ? {
          budget: {
            reserve: (n: number) => key.reserve(now, rid, n),
            left: () => key.tokenUsage(now)?.remaining ?? 0,
            heldBy: () => key.reservedBy(rid, now),
            release: () => key.settle(now, rid, 0),
            settle: (n: number) => key.settle(now, `${rid}~settled`, n),
          },
        }
      : {}),
  };
}

/** Sets the block `id` to `size` permits (renewing each), then adds up to `more`; returns its size. */
function setBlock(now: number, p: NonNullable<Limits["permits"]>, id: string, size: number, more: number): number {
  for (let i = size; p.limiter.release(`${id}#${i}`); i++);
  let held = 0;
  while (held < size + more && p.limiter.tryAcquire(now, `${id}#${held}`, p.owner, p.ownerOnly).allowed) held++;
  return held;
}

/** Accounts for `want` and grants what the limits can spare, for `ttlMs` from now. Drop expired leases first. */
export function renewLease(
  now: number,
  guard: Guard,
  key: KeyLimiter | undefined,
  holder: string,
  want: LeaseWant,
  ttlMs: number,
): LeaseGrant {
  const agent = want.keyId === AGENT_LEASE;
  const id = agent ? holder : leaseId(holder, want.keyId);
  const rid = `lease:${id}`;
  const book = guard.leases;
  const limits = agent ? agentLimits(now, guard, rid) : keyLimits(now, guard, key, want.keyId, rid);
  const rec: LeaseRecord = book.get(id) ?? {
    holder,
    keyId: want.keyId,
    tokens: 0,
    permits: 0,
    budget: 0,
    expiresAt: now,
  };
  const outstanding = () => book.outstanding(now, want.keyId);
  // What the holder used is accounted for; the rest stays outstanding, carried into the next period.
  // The bucket refills between calls without looking at the leases: cap it while the tokens it reports used still
  // count as outstanding, or that refill would be had twice (once in the bucket, once by the lease that used them).
  if (limits.cell) limits.cell.gcra.capLevel(now, limits.cell.burst - outstanding());
  rec.tokens -= Math.min(rec.tokens, Math.max(0, Math.floor(want.used)));
  if (limits.budget && want.settledTokens > 0) limits.budget.settle(want.settledTokens);
  if (want.release) {
    // Unused tokens go back to the cell (never above its cap); the block and the reservation end.
    const cell = limits.cell;
    if (cell) cell.gcra.giveBack(now, rec.tokens, cell.burst - (outstanding() - (book.get(id) ? rec.tokens : 0)));
    if (limits.permits) setBlock(now, limits.permits, id, 0, 0);
    limits.budget?.release();
    book.delete(id);
    return { keyId: want.keyId, tokens: 0, permits: 0, budget: 0, granted: false };
  }
  const closed = guard.breaker.peek(now).state === "closed";
  let tokens = closed ? UNLIMITED : 0;
  if (limits.cell) {
    const { gcra, burst } = limits.cell;
    gcra.capLevel(now, burst - outstanding());
    const perLease = Math.max(1, Math.floor(burst * MAX_LEASE_TOKENS_SHARE)) - rec.tokens;
    tokens = closed ? Math.max(0, Math.min(Math.floor(want.tokens), perLease, Math.floor(gcra.level(now) + 1e-9))) : 0;
    if (tokens > 0) gcra.takeMany(now, tokens);
    rec.tokens += tokens;
  }
  let permits = UNLIMITED;
  if (limits.permits) {
    const p = limits.permits;
    const room = Math.max(0, Math.floor(p.max * LEASE_SHARE) - p.held());
    permits = setBlock(
      now,
      p,
      id,
      Math.min(Math.max(0, Math.floor(want.permits)), p.max),
      closed ? Math.min(Math.max(0, want.morePermits), room) : 0,
    );
  }
  rec.permits = limits.permits ? permits : 0;
  let budget = UNLIMITED;
  if (limits.budget) {
    const b = limits.budget;
    const available = b.left() + b.heldBy();
    const unit = Math.max(1, want.estimate);
    const growth = closed
      ? Math.floor(Math.min(Math.max(0, want.moreBudget), Math.floor(b.left() / 2)) / unit) * unit
      : 0;
    budget = Math.max(0, Math.min(Math.floor(want.budget) + growth, available));
    b.reserve(budget);
  }
  rec.budget = limits.budget ? budget : 0;
  // Two TTLs: the holder admits for a TTL from when the reply reaches it, at most two from its send (holder.ts).
  rec.expiresAt = now + 2 * ttlMs;
  book.set(id, rec);
  return { keyId: want.keyId, tokens, permits, budget, granted: closed };
}
