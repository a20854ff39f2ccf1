/**
 * The holder's half of the lease protocol: what one gateway isolate keeps for
 * one agent, pure (time is an argument) so the gateway and the simulation
 * (`scripts/sim/`) run the same code. It holds the agent's lease
 * ({@link AGENT_LEASE}) and one per key it serves, and admits a first attempt
 * when both are valid and have room (a rate token, a free permit, budget for
 * the estimate) and the breaker is known closed. It queues what the guard
 * must learn (outcomes in order, records, first attempts) and builds the next
 * {@link Exchange}: the queue, and a want per lease sized to the isolate's
 * observed rate (about {@link LEASE_HEADROOM} half-TTLs of it).
 *
 * An exchange is due when a failure waits (the breaker must see it at once),
 * when {@link FLUSH_OUTCOMES} outcomes wait, when anything waits and
 * {@link FLUSH_MS} passed since the last one, or when a lease in use is past
 * half its TTL (or running low). A lease unused for a TTL, with nothing in
 * flight, is given back at the next exchange (or simply expires). Renewals
 * carry unused tokens over; nothing is returned while in use.
 */
import type { RequestRecord } from "../metrics";
import type { BreakerState } from "../policies";
import type { AttemptOutcome, KeyLimits } from "../types";
import { AGENT_LEASE } from "./grant";
import {
  KeyLease,
  type LeasedTicket,
  RateMeter,
  type TokenReceipt,
  admitOn,
  hasRoom,
  needsKeyLease,
  settleTokens,
  takeTokens,
  wantFor,
} from "./holder-lease";
import { FLUSH_MS, FLUSH_OUTCOMES, ReportQueue } from "./holder-queue";
import { RetiredLeases, type StaleRefusal, admitStale } from "./holder-stale";
import type { Exchange, ExchangeReply, GuardFault, LeaseWant, Outcome } from "./protocol";

export { FLUSH_MS, FLUSH_OUTCOMES, type LeasedTicket, type StaleRefusal, type TokenReceipt, needsKeyLease };
/** A lease is sized for this many half-TTLs of the observed rate. */
export const LEASE_HEADROOM = 1.5;
/** A key is leased once it arrives this often per TTL. */
const LEASE_FROM_PER_TTL = 1.5;

/** One isolate's leases and queue for one agent. */
export class AgentHolder {
  /** The breaker as the guard last said, and when (holder clock). */
  breaker: { state: BreakerState; at: number } = { state: "closed", at: -Infinity };
  /** True while a background exchange of this holder is in flight (one at a time). */
  busy = false;
  /** When an armed flush timer fires (holder clock), if one is armed. */
  timerAt: number | undefined;
  private readonly leases = new Map<string, KeyLease>();
  /** Leases given back, kept as the last word to enforce from while the guard cannot answer. */
  private readonly retired = new RetiredLeases();
  private readonly meters = new Map<string, RateMeter>();
  private readonly reports = new ReportQueue();
  /** The guard's epoch as last heard (see {@link ExchangeReply.epoch}). */
  private epoch: string | undefined;
  /**
   * The TTL of the guard's last reply: `ttlMs` (the setting) unless the guard stretched it because it serves many
   * isolates (see leaseTtl in grant.ts). Renewals and idleness follow it; meters and the stale mode keep `ttlMs`.
   */
  private leaseTtlMs: number;
  /** Exchanges in flight that carry lease wants. */
  private renewing = 0;
  /**
   * Replies (and failures) applied so far: a waiter polls it from its own
   * request. It must not be woken by a callback: in Workers, whatever runs on
   * after another request's reply runs in that request, and its I/O fails.
   */
  replies = 0;

  constructor(
    readonly holder: string,
    readonly ttlMs: number,
  ) {
    this.leaseTtlMs = ttlMs;
  }

  /** Counts an arrival of a first attempt for `keyId` (the rate leases are sized by). */
  observe(now: number, keyId: string): void {
    this.meter(keyId).hit(now);
    this.meter(AGENT_LEASE).hit(now);
  }

  /** An attempt of `keyId` started (admitted any way): the blocks are sized by the peak. */
  started(keyId: string): void {
    this.meter(keyId).start();
    this.meter(AGENT_LEASE).start();
  }

  /** An attempt of `keyId` ended. */
  ended(keyId: string): void {
    this.meters.get(keyId)?.end();
    this.meters.get(AGENT_LEASE)?.end();
  }

  /**
   * Admits a first attempt from the agent's lease and, when `keyed`, `keyId`'s
   * (see {@link needsKeyLease}), or undefined when the guard must decide.
   */
  tryAdmit(now: number, keyId: string, estimate: number, keyed = true): LeasedTicket | undefined {
    const agent = this.leases.get(AGENT_LEASE);
    const key = keyed ? this.leases.get(keyId) : undefined;
    if (this.breaker.state !== "closed" || !hasRoom(agent, now, estimate) || (keyed && !hasRoom(key, now, estimate)))
      return undefined;
    admitOn(agent, now, estimate);
    if (key) admitOn(key, now, estimate);
    this.reports.firstAttempts++;
    return { keyId, estimate };
  }

  /**
   * Spends rate tokens of the leases for an attempt the guard decides
   * otherwise (see {@link takeTokens}); undefined when none were usable.
   */
  takeToken(now: number, keyId: string, keyed = true): TokenReceipt | undefined {
    if (this.breaker.state !== "closed") return undefined;
    return takeTokens(now, this.leases.get(AGENT_LEASE), keyed ? this.leases.get(keyId) : undefined, keyed);
  }

  /** Counts a decided attempt's tokens used (admitted) or gives them back (refused); see {@link settleTokens}. */
  settleTokens(receipt: TokenReceipt, admitted: boolean): void {
    settleTokens(receipt, admitted, (keyId) => this.leases.get(keyId));
  }

  /** Ends a leased attempt: frees its permits, queues its outcome; true when an exchange is due at once. */
  finish(ticket: LeasedTicket, outcome: AttemptOutcome, tokens: number): boolean {
    for (const lease of [this.known(AGENT_LEASE), this.known(ticket.keyId)]) {
      if (!lease) continue;
      lease.inUse = Math.max(0, lease.inUse - 1);
      lease.endedEstimate += ticket.estimate;
      lease.endedTokens += Math.max(0, tokens);
    }
    return this.queue({ keyId: ticket.keyId, outcome });
  }

  /** Queues an outcome (a one-by-one attempt's carries its callId); true when an exchange is due at once. */
  queue(outcome: Outcome): boolean {
    return this.reports.outcome(outcome);
  }

  /** Queues a request record for the agent's metrics. */
  record(at: number, record: RequestRecord): void {
    this.reports.record(at, record);
  }

  /** Counts an admission made without the guard: from an expired lease (`stale`) or with none (`open`). */
  bypassed(mode: "stale" | "open"): void {
    this.reports.bypassed(mode);
  }

  /** Whether an exchange should be sent now (in the background). */
  due(now: number): boolean {
    if (this.busy || this.backingOff(now)) return false;
    if (this.reports.due(now, this.flushMs())) return true;
    const ttl = this.leaseTtlMs;
    for (const lease of this.leases.values()) if (lease.needsRenewal(now, ttl) || lease.idle(now, ttl)) return true;
    return false;
  }

  /**
   * When an exchange will be due if nothing else happens (a timer sends it
   * then), or undefined: waiting reports at {@link FLUSH_MS}, and a lease
   * with nothing in flight when it goes idle, so its permits and unused
   * tokens go back instead of waiting for its expiry. Renewals wait for the
   * next request; an isolate with no lease and nothing to report arms no timer.
   */
  nextDue(now: number): number | undefined {
    const times = [...this.leases.values()].map((l) => l.idleAt(this.leaseTtlMs));
    const reportsAt = this.reports.dueAt(this.flushMs());
    if (reportsAt !== undefined) times.push(reportsAt);
    const next = Math.min(...times);
    return Number.isFinite(next) ? Math.max(now, next, this.reports.backoffUntil(now)) : undefined;
  }

  /**
   * Takes what waits into an exchange, with a want per lease and for `extra`
   * keys (a key to lease along an admission, once it arrives often enough).
   * One exchange with wants at a time: a want sets a block's size, so two in
   * flight could let a later one shrink a block the earlier reply grew, with
   * its permits in use; while one is in flight, exchanges carry no wants.
   * What is taken is gone: a failed exchange loses its reports (see
   * {@link AgentHolder.unsent}); the leases stay counted by the guard.
   */
  take(
    now: number,
    extra: { keyId: string; keyLimits?: KeyLimits; estimate: number; keyed?: boolean }[] = [],
  ): Omit<Exchange, "config"> {
    const wants: LeaseWant[] = [];
    if (this.renewing === 0) this.wantsInto(now, extra, wants);
    return this.takeQueue(now, wants);
  }

  /** The wants of every lease, and new leases for `extra` keys that arrive often enough. */
  private wantsInto(
    now: number,
    extra: { keyId: string; keyLimits?: KeyLimits; estimate: number; keyed?: boolean }[],
    wants: LeaseWant[],
  ): void {
    for (const e of extra) {
      if (!this.leases.has(AGENT_LEASE) && (this.meters.get(AGENT_LEASE)?.perTtl(now) ?? 0) >= LEASE_FROM_PER_TTL) {
        this.leases.set(AGENT_LEASE, new KeyLease(AGENT_LEASE, undefined, e.estimate, now));
      }
      if (
        e.keyed === false ||
        this.leases.has(e.keyId) ||
        (this.meters.get(e.keyId)?.perTtl(now) ?? 0) < LEASE_FROM_PER_TTL
      )
        continue;
      this.leases.set(e.keyId, new KeyLease(e.keyId, e.keyLimits, e.estimate, now));
    }
    for (const [keyId, lease] of this.leases) {
      // Given back when idle, refused, useless (breaker not closed) or run out, once nothing admitted from it is in
      // flight (its reservation covers those until their usage is reported): its unused tokens go back to the cells
      // now rather than at its expiry at the guard.
      const lapsed = lease.admitUntil > 0 && now >= lease.admitUntil;
      const release =
        (lapsed || lease.idle(now, this.leaseTtlMs) || this.breaker.state !== "closed" || lease.refused) &&
        lease.inUse === 0;
      // Sized for half of the guard's TTL, which may be longer than ours (see leaseTtl in grant.ts).
      const headroom = (LEASE_HEADROOM * this.leaseTtlMs) / this.ttlMs;
      wants.push(wantFor(now, lease, this.meters.get(keyId), headroom, release));
      if (!release) continue;
      this.leases.delete(keyId);
      this.retired.keep(lease);
    }
  }

  /** Moves what waits into an exchange body with `wants`. */
  private takeQueue(now: number, wants: LeaseWant[]): Omit<Exchange, "config"> {
    if (wants.length > 0) this.renewing++;
    return {
      holder: this.holder,
      ...(this.epoch !== undefined ? { epoch: this.epoch } : {}),
      ...this.reports.take(now),
      ...(wants.length > 0 ? { leases: wants } : {}),
    };
  }

  /**
   * Whether an attempt the leases could not admit should wait for a reply on
   * its way instead of asking the guard itself: a lease is being renewed (or
   * granted) right now. Many isolates' cold or exhausted leases would
   * otherwise each send a call per attempt exactly when the guard is slowest.
   */
  renewalPending(keyId: string, keyed = true): boolean {
    const agent = this.leases.get(AGENT_LEASE);
    const key = keyed ? this.leases.get(keyId) : undefined;
    return this.renewing > 0 && !!agent && !agent.starved && !key?.starved;
  }

  /**
   * Notes an attempt the leases had no room for: the next wants grow by it,
   * and an exhausted lease is renewed at once (due) so the attempt can wait
   * for that instead of a call of its own.
   */
  unmet(now: number, keyId: string): void {
    for (const lease of [this.leases.get(AGENT_LEASE), this.leases.get(keyId)]) {
      // Out of tokens or time only: a block at its share of the limit does not grow by asking again.
      // A lease the guard just refused more tokens waits for its next renewal at half its TTL.
      if (!lease || lease.starved || (lease.tokens >= 1 && now < lease.admitUntil)) continue;
      lease.unmet++;
      lease.lastUseAt = now;
    }
  }

  private settled(withWants: boolean): void {
    if (withWants) this.renewing = Math.max(0, this.renewing - 1);
    this.replies++;
  }

  /** A failed exchange: what must not be lost goes with the next, and the holder backs off (holder-queue.ts). */
  unsent(body: Omit<Exchange, "config">, now: number, fault: GuardFault): void {
    this.reports.restore(body);
    this.reports.failed(now, fault);
    this.settled((body.leases?.length ?? 0) > 0);
  }

  /** Why the guard is being left alone at `now` (backing off after failures), or undefined when it is not. */
  backingOff(now: number): GuardFault | undefined {
    return this.reports.backingOff(now);
  }

  /** Applies the guard's reply to an exchange sent at `sentAt` (holder clock). */
  apply(now: number, sentAt: number, reply: ExchangeReply, sent?: Omit<Exchange, "config">): void {
    this.reports.answered();
    this.applyReply(now, sentAt, reply);
    this.settled((sent?.leases?.length ?? 0) > 0);
  }

  private applyReply(now: number, sentAt: number, reply: ExchangeReply): void {
    this.breaker = { state: reply.breaker, at: now };
    this.leaseTtlMs = reply.ttlMs;
    if (reply.epoch !== this.epoch) {
      // The guard was reset (or this is its first answer): leases it does not know are void.
      if (this.epoch !== undefined) {
        this.leases.clear();
        this.retired.clear();
      }
      this.epoch = reply.epoch;
    }
    // A TTL from when the reply arrived, but never past two TTLs from when it was sent: the guard keeps a lease
    // for two TTLs from its grant, which came after the send, so the holder always stops using it first.
    const until = Math.min(now + reply.ttlMs, sentAt + 2 * reply.ttlMs);
    for (const grant of reply.leases) {
      const live = this.leases.get(grant.keyId);
      live?.grant(grant, until, now);
      // The reply to a release finds no live lease: what was given back stays the last word.
      if (live && grant.granted) this.retired.drop(grant.keyId);
    }
  }

  /**
   * Admission while the guard cannot answer (holder clock `now`), within
   * `graceMs` of the last grant (see holder-stale.ts): a ticket, a refusal,
   * or undefined when there is nothing to enforce from (the caller fails open).
   */
  tryStale(
    now: number,
    keyId: string,
    estimate: number,
    graceMs: number,
    keyed = true,
  ): LeasedTicket | StaleRefusal | undefined {
    const leases = [this.known(AGENT_LEASE), ...(keyed ? [this.known(keyId)] : [])];
    const verdict = admitStale(now, this.breaker, leases, estimate, graceMs, this.ttlMs);
    if (verdict !== true) return verdict;
    this.reports.bypassed("stale");
    return { keyId, estimate };
  }

  /** The lease of `keyId` ({@link AGENT_LEASE}: the agent's), for tests and the simulation. */
  lease(keyId: string): KeyLease | undefined {
    return this.leases.get(keyId);
  }

  /** How long reports wait: {@link FLUSH_MS}, or half the guard's TTL when it stretched it for many isolates. */
  private flushMs(): number {
    return this.leaseTtlMs > this.ttlMs ? Math.max(FLUSH_MS, this.leaseTtlMs / 2) : FLUSH_MS;
  }

  private known(keyId: string): KeyLease | undefined {
    return this.retired.known(this.leases.get(keyId), keyId);
  }

  private meter(keyId: string): RateMeter {
    let meter = this.meters.get(keyId);
    if (!meter) {
      if (this.meters.size >= 1000) this.meters.clear();
      meter = new RateMeter(this.ttlMs);
      this.meters.set(keyId, meter);
    }
    return meter;
  }
}
