/**
 * Request log, write side: a middleware that, once the response is built,
 * hands one entry per request (the request row and one row per attempt) to
 * the request log, in `waitUntil`, so it never fails or delays the caller's
 * response. Only the key id is stored, never the key.
 *
 * With the `REQUEST_LOG_QUEUE` binding the entry goes to the queue through
 * the isolate's outbox (outbox.ts: batches of up to 100, within 250 ms), and
 * the gateway's own consumer (consumer.ts) writes up to 100 of them per D1
 * batch; without it (a deployment without the queue, unit tests calling the
 * app directly) the entry is written here as one `db.batch()`, bounded by a
 * timeout. An entry too large for a queue message is written directly too
 * (message.ts). A failed send, like a failed write, is logged and dropped.
 *
 * Each row's key is a `log_id` the gateway generates, and rows are only ever
 * inserted (`INSERT OR IGNORE`: writing the same entry twice is harmless), so
 * no request, authenticated or not, can change another request's row by
 * reusing its `X-Request-Id`. An unauthenticated request's `traceparent` is
 * not taken as its trace id (only a traced request's own trace is).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Logger } from "../../../shared/logger";
import { formatPiiKinds, parsePiiKinds } from "../../../shared/safety/pii";
import { withTimeout } from "../../../shared/timeout";
import type { CallSummary } from "../calls/summary";
import { MESSAGE_BUDGET_BYTES, type RequestLogEntry, fitsInMessage, messageBytes } from "./message";
import { RequestLogOutbox } from "./outbox";
import type { AttemptRow, RequestRow } from "./rows";
import { insertStatements } from "./statements";

export type { AttemptRow, RequestRow } from "./rows";
export type { RequestLogEntry } from "./message";
export { insertStatements } from "./statements";

declare module "hono" {
  interface ContextVariableMap {
    /** W3C trace id (32 hex) of the request's trace, set by tracing when it runs. */
    traceId?: string;
    /** The API the request spoke, set by the routes that make calls (`http`, `mcp`, `a2a`). */
    protocol?: string;
  }
}

/** The bindings the request log uses. */
export interface RequestLogBindings {
  REQUEST_LOG?: D1Database;
  /** The request-log queue (`[[queues.producers]]`); without it each entry is written directly. */
  REQUEST_LOG_QUEUE?: Queue;
}

/** How long a write or a send may take before it is abandoned (and logged). */
export const WRITE_TIMEOUT_MS = 5_000;

/** Requests that are not logged: CORS preflights, health probes and metrics scrapes. */
function skipped(method: string, path: string): boolean {
  return method === "OPTIONS" || path === "/health" || path === "/metrics";
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The trace id of a W3C `traceparent` header, or null when the header is
 * absent or invalid (version `ff`, an all-zero trace or parent id).
 */
export function traceIdFromTraceparent(header: string | undefined | null): string | null {
  const m = TRACEPARENT.exec((header ?? "").trim().toLowerCase());
  if (!m || m[1] === "ff" || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return null;
  if (m[1] === "00" && m[5] !== undefined) return null;
  return m[2]!;
}

/**
 * Builds the log entries of a finished request from its context (no body is read): one row for the request,
 * or, when it made several calls (a protocol batch), one row per call, each with its own agent, task, status
 * and attempts. A protocol call's row has the status `/execute` would have answered for it (its HTTP answer is
 * 200 with any failure inside the protocol's message) and names the protocol.
 */
export function entriesFromContext(c: Context, now = Date.now()): RequestLogEntry[] {
  const keyId = str(c.get("keyId"));
  const startedAt = c.get("startedAt") ?? now;
  const fields = c.get("logFields") ?? {};
  const calls = c.get("calls") ?? [];
  const base: RequestRow = {
    log_id: crypto.randomUUID(),
    request_id: c.get("requestId"),
    ts: startedAt,
    key_id: keyId,
    agent: str(fields.agent),
    served_by: str(fields.served_by),
    task: str(fields.task),
    method: c.req.method,
    path: loggedPath(c.req.path),
    status: c.res.status,
    code: c.res.status >= 400 ? str(c.get("errorCode")) : null,
    duration_ms: Math.max(0, now - startedAt),
    // A caller's own traceparent is taken only from an authenticated caller.
    trace_id: str(c.get("traceId")) ?? (keyId !== null ? traceIdFromTraceparent(c.req.header("traceparent")) : null),
    protocol: str(c.get("protocol")) ?? calls[0]?.protocol ?? null,
    tokens: null,
    ttfb_ms: null,
    bytes_out: null,
    pii_kinds: null,
  };
  if (calls.length === 0) return [{ request: base, attempts: [] }];
  // Each call's row has its own status: for a protocol call or a stream, how the call ended (the HTTP answer was
  // 200 either way); for a plain /execute call, the status it was answered with.
  return calls.map((call, i) => {
    const logId = i === 0 ? base.log_id : crypto.randomUUID();
    const status = call.status ?? c.res.status;
    const request: RequestRow = {
      ...base,
      log_id: logId,
      ts: calls.length === 1 ? startedAt : call.startedAt,
      agent: call.agent,
      served_by: call.servedBy ?? null,
      task: call.task,
      status,
      code: status >= 400 ? (call.code ?? base.code) : null,
      duration_ms: calls.length === 1 ? base.duration_ms : Math.max(0, call.durationMs ?? now - call.startedAt),
      protocol: call.protocol,
      ...streamFields(call),
      pii_kinds: piiKindsOf(call),
    };
    return { request, attempts: attemptRows(logId, call) };
  });
}

function streamFields(call: CallSummary): Pick<RequestRow, "tokens" | "ttfb_ms" | "bytes_out"> {
  const ms = (v: number | undefined) => (v === undefined ? null : Math.max(0, Math.round(v)));
  return { tokens: ms(call.tokens), ttfb_ms: ms(call.ttfbMs), bytes_out: ms(call.bytesOut) };
}

/** The kinds of personal data the agent reported over the call's attempts (deduplicated), or null. */
function piiKindsOf(call: CallSummary): string | null {
  return formatPiiKinds(call.attempts.flatMap((a) => parsePiiKinds(a.pii_kinds))) || null;
}

function attemptRows(logId: string, call: CallSummary): AttemptRow[] {
  return call.attempts.map((a, i) => ({
    log_id: logId,
    n: i + 1,
    agent: a.agent,
    attempt: a.attempt,
    status: a.status,
    code: a.code ?? null,
    admission: a.admission,
    latency_ms: Math.round(a.latency_ms),
    backoff_ms: Math.round(a.backoff_ms),
    spans: a.spans && a.spans.length > 0 ? JSON.stringify(a.spans) : null,
  }));
}

/** Paths whose last segment is a bearer value (a dashboard session id): logged with it masked. */
const SECRET_SEGMENT = /^(\/v1\/sessions\/)[^/]+/;

/** The path as logged: at most 512 characters, a session id masked (the log keeps only what opens nothing). */
export function loggedPath(path: string): string {
  return path.replace(SECRET_SEGMENT, "$1:id").slice(0, 512);
}

function str(v: unknown): string | null {
  return typeof v === "string" && v.length > 0 ? v : null;
}

/**
 * Writes `entry` in one D1 batch, giving up after `timeoutMs`. Never throws:
 * a failure or a timeout is logged and the entry is dropped. Resolves to
 * whether the entry was written.
 */
export async function writeEntry(
  db: D1Database,
  entry: RequestLogEntry,
  logger?: Logger,
  timeoutMs = WRITE_TIMEOUT_MS,
): Promise<boolean> {
  try {
    await withTimeout(
      db.batch(insertStatements(db, entry)),
      timeoutMs,
      `request log write timed out after ${timeoutMs} ms`,
    );
    return true;
  } catch (err) {
    logger?.error("request log write failed", {
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      logged_request_id: entry.request.request_id,
    });
    return false;
  }
}

/** The app's outboxes, one per queue binding (a test may give each request a queue of its own). */
export class RequestLogOutboxes {
  private readonly byQueue = new WeakMap<Queue, RequestLogOutbox>();

  of(queue: Queue): RequestLogOutbox {
    let outbox = this.byQueue.get(queue);
    if (!outbox) {
      outbox = new RequestLogOutbox();
      this.byQueue.set(queue, outbox);
    }
    return outbox;
  }
}

/**
 * Hands `entry` to the queue through this isolate's outbox (outbox.ts: sent
 * in batches, in `waitUntil`); an entry too large for a message is written
 * directly instead. Never throws: a failed send is logged and the entries dropped.
 */
export function sendEntry(
  outboxes: RequestLogOutboxes,
  queue: Queue,
  db: D1Database,
  entry: RequestLogEntry,
  waitUntil: (p: Promise<unknown>) => void,
  logger?: Logger,
): void {
  const bytes = messageBytes(entry);
  if (!fitsInMessage(entry, MESSAGE_BUDGET_BYTES, bytes)) {
    logger?.warn("request log entry too large for a queue message, written directly", {
      logged_request_id: entry.request.request_id,
      bytes,
      attempts: entry.attempts.length,
    });
    waitUntil(writeEntry(db, entry, logger));
    return;
  }
  outboxes
    .of(queue)
    .add(entry, bytes, { queue, timeoutMs: WRITE_TIMEOUT_MS, waitUntil, ...(logger ? { logger } : {}) });
}

/**
 * Creates the request-log middleware. Register it right after
 * `requestContext` so it sees every response, including auth refusals,
 * 404s and other errors (their code comes from `errorCode`, set when the
 * error response is rendered).
 */
export function requestLog(outboxes = new RequestLogOutboxes()) {
  return createMiddleware<{ Bindings: RequestLogBindings }>(async function requestLog(c, next) {
    await next();
    const settled = c.get("callsSettled");
    if (settled) {
      // A streamed answer is logged once it has ended, with how it ended.
      const logged = settled.then(() => writeLog(c, outboxes));
      try {
        c.executionCtx.waitUntil(logged);
      } catch {
        // No execution context: the write runs unawaited.
      }
      return;
    }
    writeLog(c, outboxes);
  });
}

/** Hands the request's entries to the request log (see {@link requestLog}). */
function writeLog(c: Context<{ Bindings: RequestLogBindings }>, outboxes: RequestLogOutboxes): void {
  try {
    const db = c.env?.REQUEST_LOG;
    if (!db || skipped(c.req.method, c.req.path)) return;
    const entries = entriesFromContext(c);
    const queue = c.env.REQUEST_LOG_QUEUE;
    const waitUntil = (p: Promise<unknown>) => {
      try {
        c.executionCtx.waitUntil(p);
      } catch {
        // No execution context (app.request in a unit test): the write or send runs unawaited.
      }
    };
    for (const entry of entries) {
      if (queue) sendEntry(outboxes, queue, db, entry, waitUntil, c.get("logger"));
      else waitUntil(writeEntry(db, entry, c.get("logger")));
    }
  } catch (err) {
    c.get("logger")?.error("request log entry could not be built", {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
