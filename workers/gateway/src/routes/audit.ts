/** `GET /v1/audit` (admin scope): the audit log, newest first, filtered and paged. */
import type { Context } from "hono";
import { ZaharaError } from "../../../shared/errors";
import type { FieldIssue } from "../../../shared/http/validation";
import { type AuditFilter, listAudit } from "../audit/audit-log";
import { type KeyRouteBindings, withKeyStore } from "./keys";

const FIELDS = new Set(["actor", "action", "target", "since", "cursor", "limit"]);

/** Parses the query of `GET /v1/audit`; 400 naming every bad parameter. */
export function parseAuditFilter(query: Record<string, string>): AuditFilter {
  const fields: FieldIssue[] = [];
  const filter: AuditFilter = { limit: 50 };
  for (const name of Object.keys(query))
    if (!FIELDS.has(name)) fields.push({ field: name, message: "Unknown query parameter" });
  for (const name of ["actor", "action", "target"] as const) {
    const value = query[name];
    if (value === undefined) continue;
    if (value.length < 1 || value.length > 253) fields.push({ field: name, message: "expected 1-253 characters" });
    else filter[name] = value;
  }
  if (query.since !== undefined) {
    const ms = /^\d{1,15}$/.test(query.since) ? Number(query.since) : Date.parse(query.since);
    if (Number.isFinite(ms)) filter.since = ms;
    else fields.push({ field: "since", message: "expected an ISO 8601 date or epoch milliseconds" });
  }
  if (query.cursor !== undefined) {
    if (/^\d{1,15}$/.test(query.cursor)) filter.before = Number(query.cursor);
    else fields.push({ field: "cursor", message: "expected a next_cursor from a previous page" });
  }
  if (query.limit !== undefined) {
    const n = Number(query.limit);
    if (/^\d{1,3}$/.test(query.limit) && n >= 1 && n <= 200) filter.limit = n;
    else fields.push({ field: "limit", message: "expected an integer from 1 to 200" });
  }
  if (fields.length > 0) {
    throw new ZaharaError("INVALID_REQUEST", {
      message: `Invalid query: ${fields.map((f) => `${f.field}: ${f.message}`).join("; ")}`,
      details: { fields },
    });
  }
  return filter;
}

/** Creates the `GET /v1/audit` handler: `{ entries, next_cursor }`. */
export function auditHandler() {
  return async function auditRoute(c: Context<{ Bindings: KeyRouteBindings }>): Promise<Response> {
    const filter = parseAuditFilter(c.req.query());
    const page = await withKeyStore(c, "audit read", (db) => listAudit(db, filter));
    return c.json({
      entries: page.entries,
      next_cursor: page.next === null ? null : String(page.next),
      request_id: c.get("requestId"),
    });
  };
}
