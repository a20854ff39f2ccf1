/**
 * Request log, read side: the filtered, keyset-paginated list (newest first)
 * and every logged request that carried one request id, each with its
 * attempt timeline (request ids are the caller's to choose, so several rows,
 * even of different principals, may share one).
 */
import type { AgentSpan, AttemptRow, RequestDetail, RequestRow, RequestView, TimelineEntry } from "./rows";

export type { RequestDetail, RequestView, TimelineEntry } from "./rows";

/** Filters and page of `GET /v1/requests` (already validated). */
export interface RequestFilter {
  agent?: string;
  /** Inclusive status range: `[404, 404]` for `404`, `[500, 599]` for `5xx`. */
  status?: readonly [number, number];
  /** Only requests at or after this time (epoch ms). */
  since?: number;
  /** Only calls to agents (`POST /execute`, `POST /agents/:agent/execute`, MCP and A2A calls), not admin or listing requests. */
  callsOnly?: boolean;
  /** Rows per page. */
  limit: number;
  /** Position after which the page starts (the last row of the previous page). */
  after?: Cursor;
}

/** A keyset position: the `(ts, log_id)` of a row. */
export interface Cursor {
  ts: number;
  logId: string;
}

/** One page of requests. */
export interface RequestPage {
  requests: RequestView[];
  /** Opaque cursor for the next page, or null on the last page. */
  next_cursor: string | null;
}

const COLUMNS =
  "r.log_id, r.request_id, r.ts, r.key_id, r.agent, r.served_by, r.task, r.method, r.path, r.status, r.code, r.duration_ms, r.trace_id, r.protocol, r.tokens, r.ttfb_ms, r.bytes_out, r.pii_kinds";

/** Encodes a cursor as base64url of `ts:log_id`. */
export function encodeCursor({ ts, logId }: Cursor): string {
  return btoa(`${ts}:${logId}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes a cursor from {@link encodeCursor}; null when it is not one. */
export function decodeCursor(value: string): Cursor | null {
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(value)) return null;
  let text: string;
  try {
    text = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const m = /^(\d{1,15}):([A-Za-z0-9._:-]{1,128})$/.exec(text);
  return m ? { ts: Number(m[1]), logId: m[2]! } : null;
}

function view(row: RequestRow & { attempts: number }): RequestView {
  return { ...row, time: new Date(row.ts).toISOString() };
}

/** Lists requests matching `filter`, newest first (ts, then log id, descending). */
export async function listRequests(db: D1Database, filter: RequestFilter): Promise<RequestPage> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.agent !== undefined) {
    where.push("r.agent = ?");
    args.push(filter.agent);
  }
  if (filter.status !== undefined) {
    if (filter.status[0] === filter.status[1]) {
      where.push("r.status = ?");
      args.push(filter.status[0]);
    } else {
      where.push("r.status BETWEEN ? AND ?");
      args.push(filter.status[0], filter.status[1]);
    }
  }
  if (filter.since !== undefined) {
    where.push("r.ts >= ?");
    args.push(filter.since);
  }
  if (filter.callsOnly) where.push("(r.path = '/execute' OR r.path LIKE '/agents/%/execute' OR r.task IS NOT NULL)");
  if (filter.after !== undefined) {
    where.push("(r.ts < ? OR (r.ts = ? AND r.log_id < ?))");
    args.push(filter.after.ts, filter.after.ts, filter.after.logId);
  }
  const sql =
    `SELECT ${COLUMNS}, (SELECT COUNT(*) FROM request_attempts a WHERE a.log_id = r.log_id) AS attempts FROM requests r` +
    (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "") +
    " ORDER BY r.ts DESC, r.log_id DESC LIMIT ?";
  const { results } = await db
    .prepare(sql)
    .bind(...args, filter.limit + 1)
    .all<RequestRow & { attempts: number }>();
  const page = results.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    requests: page.map(view),
    next_cursor: results.length > filter.limit && last ? encodeCursor({ ts: last.ts, logId: last.log_id }) : null,
  };
}

function parseSpans(text: string | null): AgentSpan[] {
  if (!text) return [];
  try {
    const spans: unknown = JSON.parse(text);
    return Array.isArray(spans) ? (spans as AgentSpan[]) : [];
  } catch {
    return [];
  }
}

function timelineEntry({ spans, log_id: _logId, ...attempt }: AttemptRow): TimelineEntry {
  return { ...attempt, spans: parseSpans(spans) };
}

/** Most rows one request id lists (a caller reusing an id many times cannot make the answer unbounded). */
export const MAX_ROWS_PER_REQUEST_ID = 50;

/**
 * Every logged request that carried `requestId`, newest first, each with its
 * attempts in order (each with the agent's spans) and the principal that made
 * it (`key_id`); empty when none is in the log.
 */
export async function getRequests(db: D1Database, requestId: string): Promise<RequestDetail[]> {
  const rows = `SELECT log_id FROM requests WHERE request_id = ?1 ORDER BY ts DESC, log_id DESC LIMIT ${MAX_ROWS_PER_REQUEST_ID}`;
  const [requests, attempts] = await db.batch([
    db
      .prepare(`SELECT ${COLUMNS} FROM requests r WHERE r.log_id IN (${rows}) ORDER BY r.ts DESC, r.log_id DESC`)
      .bind(requestId),
    db
      .prepare(
        `SELECT log_id, n, agent, attempt, status, code, admission, latency_ms, backoff_ms, spans FROM request_attempts
         WHERE log_id IN (${rows}) ORDER BY log_id, n`,
      )
      .bind(requestId),
  ]);
  const timelines = new Map<string, TimelineEntry[]>();
  for (const a of (attempts?.results ?? []) as AttemptRow[]) {
    const list = timelines.get(a.log_id) ?? [];
    list.push(timelineEntry(a));
    timelines.set(a.log_id, list);
  }
  return ((requests?.results ?? []) as RequestRow[]).map((row) => {
    const timeline = timelines.get(row.log_id) ?? [];
    return { ...view({ ...row, attempts: timeline.length }), timeline };
  });
}
