/**
 * Concurrency limiting with permits as expiring leases (a bulkhead in
 * cockatiel's terms, without a queue). A caller that dies without releasing
 * only holds its permit until the lease expires, so in-flight can never leak
 * upwards or go negative. Pure: time is passed in as `now` (ms).
 *
 * A lease may name its owner (the calling API key) with a per-owner cap, so
 * one key cannot hold every permit of an agent: a fair share. A lease may
 * also count for its owner only (`ownerOnly`): an isolate's allowance to
 * admit a key's attempts, whose agent-wide permits come from the isolate's
 * own block (leases/grant.ts), so nothing is counted twice.
 */
import { requireInt, requirePositive, snapshotEntries } from "./validate";

/** At most `maxConcurrent` leases, each valid for `leaseMs` after (re)acquisition. */
export interface ConcurrencyConfig {
  /** Permits (integer >= 1). */
  maxConcurrent: number;
  /** Lease lifetime in ms (> 0); longer than the slowest legitimate call. */
  leaseMs: number;
}

/** Result of {@link ConcurrencyLimiter.tryAcquire}. */
export type ConcurrencyAdmission =
  { allowed: true; inFlight: number } | { allowed: false; inFlight: number; retryAfterMs: number };

/**
 * Persisted form: `[leaseId, expiresAt]` pairs, `[leaseId, owner]` for leases
 * that have one, and the ids of leases that count for their owner only.
 */
export interface ConcurrencySnapshot {
  leases: [string, number][];
  owners?: [string, string][];
  ownerOnly?: string[];
}

/** Who asks for a permit, and how many it may hold at once. */
export interface PermitOwner {
  id: string;
  max: number;
}

/** Bulkhead whose permits are leases keyed by caller-chosen ids. */
export class ConcurrencyLimiter {
  private leases = new Map<string, number>();
  private owners = new Map<string, string>();
  private ownerOnly = new Set<string>();

  /** Validates `config` (`RangeError` on non-positive limits). */
  constructor(private readonly config: ConcurrencyConfig) {
    requireInt("maxConcurrent", config.maxConcurrent, 1);
    requirePositive("leaseMs", config.leaseMs);
  }

  /** Rebuilds a limiter from {@link ConcurrencyLimiter.toJSON} output (leases above a lowered limit drain as they end). */
  static restore(config: ConcurrencyConfig, snapshot: ConcurrencySnapshot): ConcurrencyLimiter {
    const limiter = new ConcurrencyLimiter(config);
    limiter.leases = snapshotEntries("leases", snapshot.leases);
    for (const entry of Array.isArray(snapshot.owners) ? snapshot.owners : []) {
      if (
        Array.isArray(entry) &&
        typeof entry[0] === "string" &&
        typeof entry[1] === "string" &&
        limiter.leases.has(entry[0])
      ) {
        limiter.owners.set(entry[0], entry[1]);
      }
    }
    for (const id of Array.isArray(snapshot.ownerOnly) ? snapshot.ownerOnly : [])
      if (limiter.owners.has(id)) limiter.ownerOnly.add(id);
    return limiter;
  }

  /** Plain JSON snapshot. */
  toJSON(): ConcurrencySnapshot {
    return {
      leases: [...this.leases],
      ...(this.owners.size > 0 ? { owners: [...this.owners] } : {}),
      ...(this.ownerOnly.size > 0 ? { ownerOnly: [...this.ownerOnly] } : {}),
    };
  }

  /** Whether `owner` may take one more permit at `now` (its unexpired leases below its cap). */
  ownerHasRoom(now: number, leaseId: string, owner: PermitOwner): boolean {
    if (this.leases.has(leaseId)) return true;
    return this.heldBy(now, owner.id) < owner.max;
  }

  /** Unexpired leases `ownerId` holds at `now` (its own permits and allowances). */
  heldBy(now: number, ownerId: string): number {
    let held = 0;
    for (const [id, who] of this.owners) if (who === ownerId && (this.leases.get(id) ?? 0) > now) held++;
    return held;
  }

  /**
   * Expires stale leases, then grants `leaseId` a lease until now + leaseMs if
   * a permit is free (agent-wide, unless `ownerOnly`) and the owner is below
   * its cap. Acquiring an id already held is idempotent and renews it. When
   * full, `retryAfterMs` (>= 1) is the time until the earliest lease expires
   * (an upper bound: a release may free a permit sooner).
   */
  tryAcquire(now: number, leaseId: string, owner?: PermitOwner, ownerOnly = false): ConcurrencyAdmission {
    this.expire(now);
    const held = this.leases.has(leaseId);
    const agentRoom = ownerOnly || this.inFlight(now) < this.config.maxConcurrent;
    if (held || (agentRoom && (!owner || this.ownerHasRoom(now, leaseId, owner)))) {
      this.leases.set(leaseId, now + this.config.leaseMs);
      if (owner) this.owners.set(leaseId, owner.id);
      if (ownerOnly && owner) this.ownerOnly.add(leaseId);
      return { allowed: true, inFlight: this.inFlight(now) };
    }
    const next = this.nextExpiry() ?? now;
    return { allowed: false, inFlight: this.inFlight(now), retryAfterMs: Math.max(1, next - now) };
  }

  /**
   * Ends a lease. False if the id is unknown (already released or expired), so
   * double releases are harmless. With `now`, a lease that has already expired
   * but was not yet dropped also answers false.
   */
  release(leaseId: string, now?: number): boolean {
    const expiry = this.leases.get(leaseId);
    if (expiry === undefined) return false;
    this.drop(leaseId);
    return now === undefined || expiry > now;
  }

  /** Drops leases whose expiry is <= `now`; returns how many. */
  expire(now: number): number {
    let dropped = 0;
    for (const [id, expiry] of this.leases) {
      if (expiry <= now) {
        this.drop(id);
        dropped++;
      }
    }
    return dropped;
  }

  /** Unexpired agent-wide leases at `now` (does not drop anything). */
  inFlight(now: number): number {
    let live = 0;
    for (const [id, expiry] of this.leases) if (expiry > now && !this.ownerOnly.has(id)) live++;
    return live;
  }

  /** Earliest lease expiry (for a Durable Object alarm), or undefined when idle. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const expiry of this.leases.values()) if (next === undefined || expiry < next) next = expiry;
    return next;
  }

  /** Lease ids currently held (expired ones included until {@link ConcurrencyLimiter.expire} runs). */
  leaseIds(): string[] {
    return [...this.leases.keys()];
  }

  private drop(id: string): void {
    this.leases.delete(id);
    this.owners.delete(id);
    this.ownerOnly.delete(id);
  }
}
