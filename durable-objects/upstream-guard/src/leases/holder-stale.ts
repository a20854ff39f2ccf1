/**
 * Admission while an agent's guard cannot answer, from what the holder last
 * heard: the breaker as last known (open: refused), and each lease's permits,
 * budget and at most its last grant's tokens per TTL, for a grace period after
 * the last grant. Leases the holder gave back stay here as the last word
 * (an isolate whose traffic paused still knows the limits when the guard
 * stops answering). Pure; a piece of holder.ts.
 */
import type { BreakerState } from "../policies";
import type { KeyLease } from "./holder-lease";
import { UNLIMITED } from "./grant";

/** Why an attempt was refused from an expired lease while the guard could not answer. */
export type StaleRefusal = "circuit_open" | "rate_limited" | "concurrency" | "token_budget";

/** Most given-back leases kept per holder. */
const MAX_RETIRED = 1000;

/** Leases given back, by key. */
export class RetiredLeases {
  private readonly retired = new Map<string, KeyLease>();

  /** Keeps `lease` (if the guard ever granted it) as the last word for its key. */
  keep(lease: KeyLease): void {
    if (!Number.isFinite(lease.grantedAt)) return;
    if (this.retired.size >= MAX_RETIRED) this.retired.clear();
    this.retired.set(lease.keyId, lease);
  }

  /** A new grant for the key supersedes what was given back. */
  drop(keyId: string): void {
    this.retired.delete(keyId);
  }

  clear(): void {
    this.retired.clear();
  }

  /** The live lease if the guard granted it, else the last one given back (or the one asked for). */
  known(live: KeyLease | undefined, keyId: string): KeyLease | undefined {
    return live && Number.isFinite(live.grantedAt) ? live : (this.retired.get(keyId) ?? live);
  }
}

/**
 * Whether an attempt of `estimate` may go ahead at `now` from `leases` (the
 * agent's, and the key's if keyed), within `graceMs` of their last grants:
 * true (and counted on them), a refusal, or undefined when there is nothing
 * to enforce from (no lease, or past the grace): the caller fails open.
 */
export function admitStale(
  now: number,
  breaker: { state: BreakerState; at: number },
  leases: (KeyLease | undefined)[],
  estimate: number,
  graceMs: number,
  ttlMs: number,
): true | StaleRefusal | undefined {
  if (breaker.state !== "closed" && now - breaker.at <= graceMs) return "circuit_open";
  if (leases.some((l) => !l || now - l.grantedAt > graceMs)) return undefined;
  for (const l of leases as KeyLease[]) {
    if (now - l.staleFrom >= ttlMs) {
      l.staleFrom = now;
      l.staleUsed = 0;
    }
    if (l.lastGrantTokens !== UNLIMITED && l.staleUsed >= Math.max(1, l.lastGrantTokens)) return "rate_limited";
    if (l.inUse >= l.permits) return "concurrency";
    if (l.budget - l.pendingEstimate < estimate) return "token_budget";
  }
  for (const l of leases as KeyLease[]) {
    l.staleUsed++;
    l.inUse++;
    l.pendingEstimate += estimate;
    l.lastUseAt = now;
  }
  return true;
}
