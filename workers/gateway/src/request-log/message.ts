/**
 * The request log's queue message: one {@link RequestLogEntry} (a request
 * row and its attempt rows), sent as JSON by the `requestLog()` middleware
 * (writer.ts) and written by the gateway's queue consumer (consumer.ts).
 *
 * It is a contract between versions as much as between files: a message
 * outlives the gateway version that sent it (a deploy, a retry minutes
 * later), so the consumer checks every column's type before binding it
 * ({@link parseEntry}). One message it cannot write must not fail the batch
 * it arrived in on every retry: a malformed one is acked and logged instead.
 *
 * Size: Queues refuses a message over 128 KB. A request row is small and
 * bounded (every string in it is capped upstream: request id 128, path 512,
 * task 128 characters), but the attempts are not: each carries up to 16 of
 * the agent's spans (~3 KB), and a manifest can configure many retries and
 * fallbacks. {@link fitsInMessage} measures the JSON that would be sent; an
 * entry over {@link MESSAGE_BUDGET_BYTES} (about 35 attempts with full spans,
 * several hundred without) is written directly to D1 instead of sent, so no
 * send ever fails for size and nothing is trimmed.
 */
import type { AttemptRow, RequestRow } from "./rows";
import { isJsonObject } from "../../../shared/json-object";

/** A request and its attempts: what one message carries (and one request-log write stores). */
export interface RequestLogEntry {
  request: RequestRow;
  attempts: AttemptRow[];
}

/**
 * Longest an entry waits in an isolate's outbox for companions before the batch is sent (outbox.ts); also what
 * an isolate that dies abruptly can lose. Here, free of Workers types, for the soak's check of that bound.
 */
export const OUTBOX_FLUSH_MS = 250;

/** Queues' limit on one message (128 KB, counted in 1000s). */
export const MAX_MESSAGE_BYTES = 128_000;

/** The largest entry sent: below {@link MAX_MESSAGE_BYTES}, leaving room for the message's own metadata. */
export const MESSAGE_BUDGET_BYTES = 120_000;

const encoder = new TextEncoder();

/** Bytes of `entry` as the queue carries it (JSON, UTF-8). */
export function messageBytes(entry: RequestLogEntry): number {
  return encoder.encode(JSON.stringify(entry)).byteLength;
}

/** Whether `entry` may be sent as one message (else it is written directly). */
export function fitsInMessage(
  entry: RequestLogEntry,
  budget = MESSAGE_BUDGET_BYTES,
  bytes = messageBytes(entry),
): boolean {
  return bytes <= budget;
}

type Check = (value: unknown) => boolean;

const text: Check = (v) => typeof v === "string";
const id: Check = (v) => typeof v === "string" && v.length > 0;
const optionalText: Check = (v) => v === null || typeof v === "string";
const integer: Check = (v) => typeof v === "number" && Number.isSafeInteger(v);
const count: Check = (v) => integer(v) && (v as number) >= 0;

/** Every column of a request row and what it must hold (its table's types and NOT NULLs). */
const REQUEST_CHECKS: Record<keyof RequestRow, Check> = {
  log_id: id,
  request_id: id,
  ts: count,
  key_id: optionalText,
  agent: optionalText,
  served_by: optionalText,
  task: optionalText,
  method: id,
  path: text,
  status: count,
  code: optionalText,
  duration_ms: count,
  trace_id: optionalText,
  // Absent from the messages of a gateway older than the column (stored as NULL).
  protocol: (v) => v === undefined || optionalText(v),
  tokens: (v) => v === undefined || v === null || count(v),
  ttfb_ms: (v) => v === undefined || v === null || count(v),
  bytes_out: (v) => v === undefined || v === null || count(v),
  pii_kinds: (v) => v === undefined || optionalText(v),
};

/** Every column of an attempt row and what it must hold. */
const ATTEMPT_CHECKS: Record<keyof AttemptRow, Check> = {
  log_id: id,
  n: count,
  agent: text,
  attempt: count,
  status: count,
  code: optionalText,
  admission: text,
  latency_ms: count,
  backoff_ms: count,
  spans: optionalText,
};

/** The row `path` built from `value`'s known columns only, or what is wrong with it (the first bad column). */
function rowOf<R>(value: unknown, checks: Record<keyof R & string, Check>, path: string): { row: R } | { bad: string } {
  if (!isJsonObject(value)) return { bad: `${path} is not an object` };
  const row: Record<string, unknown> = {};
  for (const [column, check] of Object.entries<Check>(checks)) {
    if (!check(value[column])) return { bad: `${path}.${column}` };
    row[column] = value[column];
  }
  return { row: row as R };
}

/** A message body read as an entry, or why it is not one. */
export type ParsedEntry = { ok: true; entry: RequestLogEntry } | { ok: false; reason: string };

/**
 * Reads a message body as a {@link RequestLogEntry}: every column present
 * with its type, every attempt belonging to the request. Unknown fields are
 * left out (a newer producer may send more than this version stores).
 */
export function parseEntry(body: unknown): ParsedEntry {
  if (!isJsonObject(body)) return { ok: false, reason: "body is not an object" };
  const request = rowOf<RequestRow>(body.request, REQUEST_CHECKS, "request");
  if ("bad" in request) return { ok: false, reason: request.bad };
  if (!Array.isArray(body.attempts)) return { ok: false, reason: "attempts is not an array" };
  const attempts: AttemptRow[] = [];
  for (const [i, value] of body.attempts.entries()) {
    const attempt = rowOf<AttemptRow>(value, ATTEMPT_CHECKS, `attempts[${i}]`);
    if ("bad" in attempt) return { ok: false, reason: attempt.bad };
    if (attempt.row.log_id !== request.row.log_id) {
      return { ok: false, reason: `attempts[${i}].log_id is another request's` };
    }
    attempts.push(attempt.row);
  }
  return { ok: true, entry: { request: request.row, attempts } };
}
