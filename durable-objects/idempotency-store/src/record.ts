/**
 * Pure decisions of the idempotency store: given the record stored for one
 * `Idempotency-Key`, a request's body hash and the time, what `begin` answers
 * and what `complete` does. No storage, no clock: the Durable Object reads and
 * writes, this module decides, so every rule is unit-testable.
 */

/** How long a key is remembered: 24 h from when its record was created. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * How long an in-progress record holds the key before another request may take it over, unless its holder
 * renews it. A running request renews every {@link LEASE_RENEW_MS}, so it holds the key as long as it runs;
 * one that died (its isolate or the whole runtime restarted) stops renewing, and its key is free again within
 * LEASE_MS: a retry with the key (a resumed run, docs/runs.md) then runs the request again.
 */
export const LEASE_MS = 15_000;

/** How often the holder of an in-progress record renews its lease (a third of it: two renewals may fail). */
export const LEASE_RENEW_MS = 5_000;

/** Largest response body (UTF-8 bytes) that is stored for replay; larger ones are not kept. */
export const MAX_STORED_BODY_BYTES = 256 * 1024;

/** Longest `Retry-After` hint given to a concurrent duplicate (the original usually finishes sooner than its lease). */
export const MAX_RETRY_AFTER_MS = 1000;

/** A request holds the key and is running. */
export interface InProgressRecord {
  state: "in_progress";
  /** SHA-256 (hex) of the request body that took the key. */
  bodyHash: string;
  /** Epoch ms when the record was created. */
  createdAt: number;
  /** Proves which request holds the lease; `complete` ignores any other. */
  token: string;
  /** Epoch ms after which another request may take the key over. */
  leaseUntil: number;
}

/** The request finished with a replayable response. */
export interface DoneRecord {
  state: "done";
  /** SHA-256 (hex) of the request body that took the key. */
  bodyHash: string;
  /** Epoch ms when the record was created. */
  createdAt: number;
  /** The stored response's status. */
  status: number;
  /** The stored response's body text. */
  body: string;
  /** The stored response's `Content-Type`. */
  contentType: string;
}

/** The one record a store holds for its key. */
export type IdempotencyRecord = InProgressRecord | DoneRecord;

/** What `begin` answers. */
export type BeginResult =
  /** Run the request, then call `complete` with this token. */
  | { kind: "new"; token: string }
  /** The same request already ran: answer with its stored response. */
  | { kind: "replay"; status: number; body: string; contentType: string }
  /** The key was used with another body (422). */
  | { kind: "mismatch" }
  /** The same key is running now (409); try again after `retryAfterMs`. */
  | { kind: "in_progress"; retryAfterMs: number };

/** What `begin` should do: take the key (a new in-progress record) or answer from the stored one. */
export type BeginDecision = { action: "start" } | { action: "answer"; result: Exclude<BeginResult, { kind: "new" }> };

/** True when `record` is older than {@link IDEMPOTENCY_TTL_MS} at `now`, and so treated as absent. */
export function isExpired(record: IdempotencyRecord, now: number): boolean {
  return now - record.createdAt >= IDEMPOTENCY_TTL_MS;
}

/**
 * Decides `begin`. A missing or expired record, or an in-progress one whose
 * lease has run out (its request died), lets this request start. Otherwise a
 * different body is a mismatch, a finished record is replayed, and a running
 * one is reported in progress.
 */
export function decideBegin(record: IdempotencyRecord | null, bodyHash: string, now: number): BeginDecision {
  if (!record || isExpired(record, now)) return { action: "start" };
  if (record.state === "in_progress" && now >= record.leaseUntil) return { action: "start" };
  if (record.bodyHash !== bodyHash) return { action: "answer", result: { kind: "mismatch" } };
  if (record.state === "done") {
    return {
      action: "answer",
      result: { kind: "replay", status: record.status, body: record.body, contentType: record.contentType },
    };
  }
  return {
    action: "answer",
    result: { kind: "in_progress", retryAfterMs: Math.min(record.leaseUntil - now, MAX_RETRY_AFTER_MS) },
  };
}

/** The in-progress record a started request writes. */
export function startedRecord(bodyHash: string, token: string, now: number): InProgressRecord {
  return { state: "in_progress", bodyHash, createdAt: now, token, leaseUntil: now + LEASE_MS };
}

/**
 * True for responses worth replaying: 2xx, and 4xx except 408, 409 and 429
 * (those say "try again", so a retry must run again). 5xx and anything else
 * are never stored.
 */
export function isStorableStatus(status: number): boolean {
  if (status >= 200 && status < 300) return true;
  return status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429;
}

/**
 * Decides `renew` at `now`: the in-progress record `token` holds, with its lease extended to `now + LEASE_MS`,
 * or null when `token` no longer holds it (completed, taken over after a lapse, expired).
 */
export function decideRenew(record: IdempotencyRecord | null, token: string, now: number): InProgressRecord | null {
  if (!record || record.state !== "in_progress" || record.token !== token || isExpired(record, now)) return null;
  return { ...record, leaseUntil: Math.max(record.leaseUntil, now + LEASE_MS) };
}

/** What `complete` does with the record. */
export type CompleteAction = "store" | "delete" | "ignore";

/**
 * Decides `complete` at `now`. A token that does not hold the current
 * in-progress record (stale: taken over, already completed, or the record
 * expired) is ignored.
 * Otherwise a storable status with a body within {@link MAX_STORED_BODY_BYTES}
 * is stored; anything else deletes the record so a retry runs again.
 */
export function decideComplete(
  record: IdempotencyRecord | null,
  token: string,
  status: number,
  bodyBytes: number,
  now: number,
): CompleteAction {
  if (!record || record.state !== "in_progress" || record.token !== token || isExpired(record, now)) return "ignore";
  return isStorableStatus(status) && bodyBytes <= MAX_STORED_BODY_BYTES ? "store" : "delete";
}
