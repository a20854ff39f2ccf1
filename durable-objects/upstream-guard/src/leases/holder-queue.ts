/**
 * What one isolate's holder must tell an agent's guard, queued between
 * exchanges: attempt outcomes in order, request records for metrics, the
 * count of first attempts admitted from leases (the retry budget's base),
 * and the admissions made without the guard (`stale`, `open`). Pure; a piece
 * of holder.ts. A failure, or {@link FLUSH_OUTCOMES} outcomes, make an
 * exchange due at once; anything else waits up to {@link FLUSH_MS} (longer
 * when the guard stretched its TTL, so reports ride with the renewals).
 * After a failed exchange, the queue backs off before anything is sent again.
 */
import type { RequestRecord } from "../metrics";
import type { Exchange, GuardFault, Outcome } from "./protocol";

/**
 * Reports (and the renewals riding with them) are sent at most this often per isolate and agent,
 * unless a failure or {@link FLUSH_OUTCOMES} outcomes wait: two calls a second for a busy isolate.
 */
export const FLUSH_MS = 500;
/** A batch this large is sent at once. */
export const FLUSH_OUTCOMES = 100;
/** The first backoff after a failed exchange; it doubles per failure in a row, up to {@link MAX_BACKOFF_MS}. */
export const BACKOFF_MS = 250;
export const MAX_BACKOFF_MS = 5000;

/** The queued reports of one holder. */
export class ReportQueue {
  private outcomes: Outcome[] = [];
  private records: { at: number; record: RequestRecord }[] = [];
  firstAttempts = 0;
  private stale = 0;
  private open = 0;
  private failurePending = false;
  private lastFlushAt = -Infinity;
  /** Failed exchanges in a row, and the backoff they started. */
  private failures = 0;
  private fault: { reason: GuardFault; until: number } | undefined;

  /**
   * An exchange failed at `now`: nothing is sent, and no attempt awaits the guard, for {@link BACKOFF_MS}
   * doubling per failure in a row up to {@link MAX_BACKOFF_MS}. Every request retrying a guard that cannot
   * answer would only bury it deeper; meanwhile attempts are decided from the last lease, or open.
   */
  failed(now: number, fault: GuardFault): void {
    this.failures++;
    this.fault = { reason: fault, until: now + Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** (this.failures - 1)) };
  }

  /** The guard answered: no more backoff. */
  answered(): void {
    this.failures = 0;
    this.fault = undefined;
  }

  /** Why the guard is being left alone at `now`, or undefined. */
  backingOff(now: number): GuardFault | undefined {
    return this.fault && now < this.fault.until ? this.fault.reason : undefined;
  }

  /** When the backoff ends (`now` if there is none). */
  backoffUntil(now: number): number {
    return Math.max(now, this.fault?.until ?? now);
  }

  /** Queues an outcome; true when an exchange is due at once. */
  outcome(outcome: Outcome): boolean {
    this.outcomes.push(outcome);
    if (outcome.outcome === "failure") this.failurePending = true;
    return this.urgent();
  }

  record(at: number, record: RequestRecord): void {
    this.records.push({ at, record });
  }

  /** Counts an admission made without the guard: from an expired lease (`stale`) or with none (`open`). */
  bypassed(mode: "stale" | "open"): void {
    if (mode === "stale") this.stale++;
    else this.open++;
  }

  /** A failure waits, or a full batch. */
  urgent(): boolean {
    return this.failurePending || this.outcomes.length >= FLUSH_OUTCOMES;
  }

  /**
   * Anything waits, and `intervalMs` ({@link FLUSH_MS}, or half a TTL the guard stretched: see holder.ts) passed
   * since the last exchange.
   */
  due(now: number, intervalMs = FLUSH_MS): boolean {
    return this.urgent() || (this.waiting() && now >= this.lastFlushAt + intervalMs);
  }

  /** When waiting reports will be due, if any wait. */
  dueAt(intervalMs = FLUSH_MS): number | undefined {
    return this.waiting() ? this.lastFlushAt + intervalMs : undefined;
  }

  /** Moves everything queued into an exchange body. */
  take(now: number): Pick<Exchange, "outcomes" | "records" | "firstAttempts" | "staleAdmissions" | "failedOpen"> {
    const out = {
      ...(this.outcomes.length > 0 ? { outcomes: this.outcomes } : {}),
      ...(this.records.length > 0 ? { records: this.records } : {}),
      ...(this.firstAttempts > 0 ? { firstAttempts: this.firstAttempts } : {}),
      ...(this.stale > 0 ? { staleAdmissions: this.stale } : {}),
      ...(this.open > 0 ? { failedOpen: this.open } : {}),
    };
    this.outcomes = [];
    this.records = [];
    this.firstAttempts = 0;
    this.stale = 0;
    this.open = 0;
    this.failurePending = false;
    this.lastFlushAt = now;
    return out;
  }

  /**
   * Puts back what a failed exchange carried that must not be lost: the counts
   * of admissions made without the guard (they are what an operator alerts on).
   * Reports and records of a failed exchange are dropped, like a failed write.
   */
  restore(body: Pick<Exchange, "staleAdmissions" | "failedOpen">): void {
    this.stale += body.staleAdmissions ?? 0;
    this.open += body.failedOpen ?? 0;
  }

  private waiting(): boolean {
    return this.outcomes.length + this.records.length + this.firstAttempts + this.stale + this.open > 0;
  }
}
