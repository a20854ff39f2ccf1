/**
 * Who the breaker's evidence comes from. A circuit breaker is shared by every
 * caller of an agent, so one caller's failures must not open it for the
 * others on their own: a caller can find an input that makes the agent fail,
 * or shorten its own deadline. The quorum rule: the breaker may open on
 * failures only when they come from at least two principals within
 * {@link QUORUM_WINDOW_MS}, or when no other principal has called the agent
 * in that window (the only caller there is: nobody else to protect, and a
 * failing agent must still open for a single-tenant deployment).
 *
 * Pure and bounded: at most {@link MAX_TRACKED} principals are remembered per
 * list (the least recent ones are forgotten first), time is an argument.
 */
import { snapshotEntries } from "./validate";

/** How long a principal counts as a recent caller, or a recent source of failures. */
export const QUORUM_WINDOW_MS = 60_000;
/** Principals remembered per list. */
export const MAX_TRACKED = 32;

/** Persisted form: `[principal, last seen at]` pairs. */
export interface QuorumSnapshot {
  seen: [string, number][];
  failing: [string, number][];
}

function touch(map: Map<string, number>, principal: string, now: number): void {
  map.delete(principal);
  map.set(principal, now);
  if (map.size > MAX_TRACKED) map.delete(map.keys().next().value as string);
}

function recent(map: Map<string, number>, now: number, windowMs: number): string[] {
  const out: string[] = [];
  for (const [p, at] of map) if (now - at < windowMs) out.push(p);
  return out;
}

/** Recent callers and recent sources of failures of one agent. */
export class PrincipalQuorum {
  private seen = new Map<string, number>();
  private failing = new Map<string, number>();

  constructor(private readonly windowMs: number = QUORUM_WINDOW_MS) {}

  /** Rebuilds from {@link PrincipalQuorum.toJSON} (absent in snapshots written before the rule: empty). */
  static restore(snapshot: Partial<QuorumSnapshot> | undefined, windowMs?: number): PrincipalQuorum {
    const q = new PrincipalQuorum(windowMs);
    if (snapshot?.seen !== undefined) q.seen = snapshotEntries("quorum.seen", snapshot.seen);
    if (snapshot?.failing !== undefined) q.failing = snapshotEntries("quorum.failing", snapshot.failing);
    return q;
  }

  toJSON(): QuorumSnapshot {
    return { seen: [...this.seen], failing: [...this.failing] };
  }

  /** `principal` called the agent at `now` (any outcome). */
  called(now: number, principal: string): void {
    touch(this.seen, principal, now);
  }

  /** `principal`'s call failed at `now` through the agent's fault. */
  failed(now: number, principal: string): void {
    touch(this.seen, principal, now);
    touch(this.failing, principal, now);
  }

  /**
   * Whether failures may open the breaker at `now`, the latest from
   * `principal` (undefined: an unattributed failure, which always may).
   */
  met(now: number, principal: string | undefined): boolean {
    if (principal === undefined) return true;
    if (recent(this.failing, now, this.windowMs).some((p) => p !== principal)) return true;
    return !recent(this.seen, now, this.windowMs).some((p) => p !== principal);
  }

  /** Forgets the failures (the breaker closed); callers are kept. */
  clearFailures(): void {
    this.failing.clear();
  }
}
