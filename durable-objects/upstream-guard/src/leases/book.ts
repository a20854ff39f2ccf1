/**
 * The guard's record of the leases it granted: per (holder, key), the rate
 * tokens still outstanding (granted, not yet reported used nor given back),
 * the permit block and the budget reservation the lease holds, and when it
 * expires. Pure and persisted with the guard's state, so a restart keeps
 * counting what isolates may still be using.
 *
 * Outstanding tokens cap the rate cells: the agent's level may not exceed
 * `burst - outstanding(agent)`, a key's `burst - outstanding(key)`. A lease
 * that expires without being renewed or given back is dropped as if all of
 * its tokens were used (nothing is refunded), so a holder that died can only
 * make the guard admit less, never more.
 */
import { snapshotNumber } from "../policies/validate";

/** One lease: a holder's right to admit for one key until `expiresAt`. */
export interface LeaseRecord {
  holder: string;
  keyId: string;
  /** Rate tokens granted and not yet accounted for (used or given back). */
  tokens: number;
  /** Permits of the block (concurrency leases `<id>#<i>`). */
  permits: number;
  /** Tokens of the budget reservation (`lease:<id>` in the agent's and the key's budgets). */
  budget: number;
  /** Epoch ms (guard clock) after which the holder may no longer admit from it. */
  expiresAt: number;
}

/** Persisted form: `[id, record]` pairs. */
export interface LeaseBookSnapshot {
  leases: [string, LeaseRecord][];
}

/** How long a holder counts as active after its last call. */
export const SEEN_WINDOW_MS = 10_000;
/** Most holders counted (a bound on memory). */
const MAX_SEEN = 100_000;

/** The key of a holder's agent-wide lease (its records, wants and grants). */
export const AGENT_LEASE = "*";

/** The lease id of `holder` for `keyId`. */
export function leaseId(holder: string, keyId: string): string {
  return `${holder}|${keyId}`;
}

/** Every lease an agent's guard has granted and not yet seen expire or return. */
export class LeaseBook {
  private leases = new Map<string, LeaseRecord>();
  /** Holders by when they last called, oldest first. */
  private readonly seen = new Map<string, number>();

  /** Rebuilds from {@link LeaseBook.toJSON} (absent: no leases). */
  static restore(snapshot: LeaseBookSnapshot | undefined): LeaseBook {
    const book = new LeaseBook();
    for (const entry of snapshot?.leases ?? []) {
      if (!Array.isArray(entry) || typeof entry[0] !== "string" || typeof entry[1] !== "object" || entry[1] === null) {
        throw new TypeError("snapshot.leases must be [id, lease] pairs");
      }
      const r = entry[1];
      book.leases.set(entry[0], {
        holder: String(r.holder),
        keyId: String(r.keyId),
        tokens: snapshotNumber("lease.tokens", r.tokens),
        permits: snapshotNumber("lease.permits", r.permits),
        budget: snapshotNumber("lease.budget", r.budget),
        expiresAt: snapshotNumber("lease.expiresAt", r.expiresAt),
      });
    }
    return book;
  }

  toJSON(): LeaseBookSnapshot {
    return { leases: [...this.leases].map(([id, r]) => [id, { ...r }]) };
  }

  get(id: string): LeaseRecord | undefined {
    return this.leases.get(id);
  }

  set(id: string, record: LeaseRecord): void {
    this.leases.set(id, record);
  }

  delete(id: string): void {
    this.leases.delete(id);
  }

  /** Live leases at `now`. */
  live(now: number): [string, LeaseRecord][] {
    return [...this.leases].filter(([, r]) => r.expiresAt > now);
  }

  /**
   * Notes that `holder` called at `now` (in memory only: a restarted guard counts afresh). The count of holders
   * seen lately sets the TTL (see leaseTtl in grant.ts); it follows isolates that call, granted or not, so a guard
   * that sheds calls does not shorten its TTL and drown further.
   */
  see(holder: string, now: number): void {
    this.seen.delete(holder);
    this.seen.set(holder, now);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.keys().next().value as string);
  }

  /** Holders seen within {@link SEEN_WINDOW_MS} of `now`. */
  holders(now: number): number {
    // Oldest first (see() moves a holder to the end): drop from the front what fell out of the window.
    for (const [holder, at] of this.seen) {
      if (now - at <= SEEN_WINDOW_MS) break;
      this.seen.delete(holder);
    }
    return this.seen.size;
  }

  /**
   * Outstanding rate tokens of live leases for one cell: the agent's ({@link AGENT_LEASE}) or a key's; with
   * `includeExpired`, also of leases expired but not dropped yet.
   */
  outstanding(now: number, keyId: string, includeExpired = false): number {
    let total = 0;
    for (const r of this.leases.values())
      if ((includeExpired || r.expiresAt > now) && r.keyId === keyId) total += r.tokens;
    return total;
  }

  /** Drops leases expired at `now` (their tokens count as used); returns their ids and records. */
  expire(now: number): [string, LeaseRecord][] {
    const gone: [string, LeaseRecord][] = [];
    for (const [id, r] of this.leases) {
      if (r.expiresAt <= now) {
        this.leases.delete(id);
        gone.push([id, r]);
      }
    }
    return gone;
  }

  /** Earliest expiry, for the alarm. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const r of this.leases.values()) if (next === undefined || r.expiresAt < next) next = r.expiresAt;
    return next;
  }

  get size(): number {
    return this.leases.size;
  }
}
