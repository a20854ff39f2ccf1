/**
 * `GET /v1/requests` and `GET /v1/requests/:id`: the request log, for
 * admins. Query parameters are validated into a filter (400 with
 * `details.fields` otherwise); a D1 fault is a 503 `LOG_UNAVAILABLE`.
 * `POST /v1/requests/purge` runs the retention purge now (request log and runs: what the daily cron
 * does; the way to run it in local development, where the scheduled handler
 * does nothing because anyone on the machine could trigger it), audited.
 */
import { type Context, Hono } from "hono";
import { auditStatement } from "../audit/audit-log";
import { ZaharaError } from "../../../shared/errors";
import { runRetention } from "../request-log/retention";
import { type RunRetentionEnv, purgeExpiredRuns } from "../runs/retention";
import { auditOf } from "./keys";
import type { FieldIssue } from "../../../shared/http/validation";
import { REQUEST_ID_PATTERN } from "../../../shared/request-id";
import { type RequestFilter, decodeCursor, getRequests, listRequests } from "../request-log/queries";
import type { RequestLogBindings } from "../request-log/writer";

/** Rows per page when `limit` is absent, and the most a page may hold. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

const QUERY_FIELDS = new Set(["agent", "status", "since", "cursor", "limit", "kind"]);

type LogContext = Context<{ Bindings: RequestLogBindings }>;

/**
 * Parses the query of `GET /v1/requests` into a filter, or throws 400
 * `INVALID_REQUEST` naming every bad parameter.
 */
export function parseRequestFilter(query: Record<string, string>): RequestFilter {
  const fields: FieldIssue[] = [];
  const filter: RequestFilter = { limit: DEFAULT_PAGE_SIZE };
  for (const name of Object.keys(query)) {
    if (!QUERY_FIELDS.has(name)) fields.push({ field: name, message: "Unknown query parameter" });
  }
  const { agent, status, since, cursor, limit, kind } = query;
  if (kind !== undefined) {
    if (kind === "calls") filter.callsOnly = true;
    else if (kind !== "all") fields.push({ field: "kind", message: "expected calls (agent calls only) or all" });
  }
  if (agent !== undefined) {
    if (agent.length < 1 || agent.length > 253)
      fields.push({ field: "agent", message: "expected an agent name (1-253 characters)" });
    else filter.agent = agent;
  }
  if (status !== undefined) {
    const exact = /^[1-5]\d\d$/.exec(status);
    const cls = /^([1-5])xx$/i.exec(status);
    if (exact) filter.status = [Number(status), Number(status)];
    else if (cls) filter.status = [Number(cls[1]) * 100, Number(cls[1]) * 100 + 99];
    else fields.push({ field: "status", message: "expected an HTTP status (e.g. 404) or a class (e.g. 5xx)" });
  }
  if (since !== undefined) {
    const ms = /^\d{1,15}$/.test(since) ? Number(since) : /^\d{4}-\d{2}-\d{2}/.test(since) ? Date.parse(since) : NaN;
    if (Number.isFinite(ms)) filter.since = ms;
    else fields.push({ field: "since", message: "expected an ISO 8601 date or epoch milliseconds" });
  }
  if (limit !== undefined) {
    const n = Number(limit);
    if (/^\d{1,3}$/.test(limit) && n >= 1 && n <= MAX_PAGE_SIZE) filter.limit = n;
    else fields.push({ field: "limit", message: `expected an integer from 1 to ${MAX_PAGE_SIZE}` });
  }
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    if (after) filter.after = after;
    else fields.push({ field: "cursor", message: "expected a next_cursor from a previous page" });
  }
  if (fields.length > 0) {
    throw new ZaharaError("INVALID_REQUEST", {
      message: `Invalid query: ${fields.map((f) => `${f.field}: ${f.message}`).join("; ")}`,
      details: { fields },
    });
  }
  return filter;
}

function logDb(c: LogContext): D1Database {
  const db = c.env.REQUEST_LOG;
  if (!db)
    throw new ZaharaError("LOG_UNAVAILABLE", { message: "The request log is not configured (no REQUEST_LOG binding)" });
  return db;
}

/** Runs a read, turning a D1 fault into 503 `LOG_UNAVAILABLE` (cause logged, never sent). */
async function read<T>(c: LogContext, query: (db: D1Database) => Promise<T>): Promise<T> {
  const db = logDb(c);
  try {
    return await query(db);
  } catch (err) {
    c.get("logger").error("request log read failed", {
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    throw new ZaharaError("LOG_UNAVAILABLE", { cause: err });
  }
}

/** Creates the `GET /v1/requests` handler: `{ requests, next_cursor }`, newest first. */
export function listRequestsHandler() {
  return async function listRequestsRoute(c: LogContext): Promise<Response> {
    const filter = parseRequestFilter(c.req.query());
    return c.json(await read(c, (db) => listRequests(db, filter)));
  };
}

/**
 * Creates the `GET /v1/requests/:id` handler: `{request_id, requests}`, every
 * logged request that carried the id (newest first, at most 50), each with
 * its principal (`key_id`) and its `timeline` of attempts.
 */
export function getRequestHandler() {
  return async function getRequestRoute(c: LogContext): Promise<Response> {
    const id = c.req.param("id") ?? "";
    if (!REQUEST_ID_PATTERN.test(id)) {
      throw new ZaharaError("INVALID_REQUEST", {
        message: "Invalid request id",
        details: { fields: [{ field: "id", message: "expected a request id ([A-Za-z0-9._:-], 1-128 characters)" }] },
      });
    }
    const found = await read(c, (db) => getRequests(db, id));
    if (found.length === 0) {
      throw new ZaharaError("REQUEST_NOT_FOUND", {
        message: `No request ${id} in the log (unknown, not yet written, or past retention)`,
      });
    }
    return c.json({ request_id: id, requests: found });
  };
}

/** Creates the `POST /v1/requests/purge` handler: `{cutoff, deleted, truncated}` (audited as `request_log.purge`). */
export function purgeRequestsHandler() {
  return async function purgeRequestsRoute(
    c: Context<{ Bindings: RequestLogBindings & RunRetentionEnv & { ACCESS_DB?: D1Database } }>,
  ): Promise<Response> {
    logDb(c);
    const result = await read(c, () => runRetention(c.env, Date.now()));
    if (!result) throw new ZaharaError("LOG_UNAVAILABLE");
    const runsDeleted = await purgeExpiredRuns(c.env, Date.now(), c.get("logger")).catch(() => 0);
    const details = {
      cutoff: new Date(result.cutoff).toISOString(),
      deleted: result.deleted,
      truncated: result.truncated,
      runs_deleted: runsDeleted,
    };
    try {
      await c.env.ACCESS_DB?.batch([
        auditStatement(c.env.ACCESS_DB, auditOf(c, "request_log.purge", null, details), Date.now()),
      ]);
    } catch (err) {
      c.get("logger").error("request log purged but not audited", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return c.json({ ...details, request_id: c.get("requestId") });
  };
}

/** The request-log routes; mount behind the admin scope with `app.route("/v1/requests", requestLogRoutes())`. */
export function requestLogRoutes() {
  const routes = new Hono<{ Bindings: RequestLogBindings }>();
  routes.get("/", listRequestsHandler());
  routes.post("/purge", purgeRequestsHandler());
  routes.get("/:id", getRequestHandler());
  return routes;
}
