/**
 * The admission-lease protocol between a gateway isolate (the holder) and an
 * agent's guard: plain data, structured-clonable, with no Workers types, so
 * the gateway, the guard and the simulation (`scripts/sim/`) share it.
 *
 * One RPC, `exchange`, carries everything an isolate has for the guard: the
 * outcomes of attempts since the last exchange (in order: a failure is sent at
 * once with the successes before it), the request records for metrics, an
 * optional per-request admission, and one lease want per API key the isolate
 * serves. A lease is what lets the isolate admit on its own until it expires:
 * rate-limit tokens (taken from the agent's cell and the key's), a block of
 * concurrency permits, a token-budget reservation, and the breaker's state.
 * See docs/admission-leases.md for the semantics and their bounds.
 */
import type { RequestRecord } from "../metrics";
import type { AdmitRequest, AdmitResult, AttemptOutcome, GuardConfig, KeyLimits } from "../types";
import type { BreakerState } from "../policies";

/** Default lease time to live (`LEASE_TTL_MS`). */
export const DEFAULT_LEASE_TTL_MS = 1000;

/**
 * How one attempt ended. Without `callId` it was admitted from a lease (only
 * the breaker learns of it; its token use travels with the lease). With it,
 * it was admitted one by one: its permit, probe and reservations are settled.
 */
export interface Outcome {
  keyId?: string;
  outcome: AttemptOutcome;
  callId?: string;
  /** Tokens the attempt used (a one-by-one attempt's; a leased one reports through its lease). */
  tokens?: number;
}

/** One key's lease, as the holder asks to keep, grow or give it back. */
export interface LeaseWant {
  keyId: string;
  /** The key's own limits (a managed key's), as for an admission. */
  keyLimits?: KeyLimits;
  /** Rate tokens admitted from the lease since the last exchange (first attempts). */
  used: number;
  /** More rate tokens wanted for the next TTL (0: none). */
  tokens: number;
  /** Permits to hold from now on: the block is set to this size (it only grows when the guard replies). */
  permits: number;
  /** More permits wanted on top of `permits`. */
  morePermits: number;
  /** Tokens the attempts that ended since the last exchange really used (they count as used today). */
  settledTokens: number;
  /**
   * Budget the reservation should hold from now on: what it held less the estimates of those attempts
   * (it only grows when the guard replies).
   */
  budget: number;
  /** More budget wanted on top of `budget`. */
  moreBudget: number;
  /** Tokens one attempt reserves (`token_estimate`): budget is granted in whole estimates. */
  estimate: number;
  /** True: give the lease back (the holder stopped using it); everything unused returns. */
  release?: boolean;
}

/** One key's lease, as the guard grants it. */
export interface LeaseGrant {
  keyId: string;
  /** Rate tokens added to the lease (the holder may use them until the lease expires). */
  tokens: number;
  /** Permits the block holds now. */
  permits: number;
  /** Budget the reservation holds now. */
  budget: number;
  /** False: no lease (breaker not closed, limits near, or the key refused); admit per request. */
  granted: boolean;
}

/** Everything a holder sends in one call. */
export interface Exchange {
  config: GuardConfig;
  /** The holder's id (random per isolate). */
  holder: string;
  /** The guard's epoch as the holder last heard it (none yet: anything goes). */
  epoch?: string;
  /** Outcomes of attempts since the last exchange, oldest first. */
  outcomes?: Outcome[];
  /** First attempts admitted from leases since the last exchange (for the retry budget). */
  firstAttempts?: number;
  /** Request records for the agent's metrics. */
  records?: { at: number; record: RequestRecord }[];
  /** Admissions made with no guard past the stale grace (counted in /metrics). */
  failedOpen?: number;
  /** Admissions made from an expired lease while the guard could not answer (counted in /metrics). */
  staleAdmissions?: number;
  /** One attempt to admit now (a cold isolate, an exhausted lease, a retry, a breaker not closed). */
  admit?: AdmitRequest;
  /** Leases to renew, grow or give back. */
  leases?: LeaseWant[];
}

/** The guard's answer to an {@link Exchange}. */
export interface ExchangeReply {
  admission?: AdmitResult;
  leases: LeaseGrant[];
  /** The breaker after the outcomes were applied; leases are granted only while it is closed. */
  breaker: BreakerState;
  /** How long the leases may be used, from when the holder sent the exchange. */
  ttlMs: number;
  /**
   * The guard's epoch. When it differs from the exchange's, the guard was reset since: the exchange's
   * reports and lease wants were dropped, and the holder must drop its leases.
   */
  epoch: string;
}

/** Why an exchange failed, as the holder saw it. */
export type GuardFault = "timeout" | "overloaded" | "error";
