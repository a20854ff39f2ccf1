/**
 * The admin audit log (`audit_log` in `ACCESS_DB`): who did what, when, to
 * what. An entry is written in the same D1 batch (one transaction) as the
 * change it records, so there is never a change without its entry. Details
 * hold names, scopes, prefixes and settings: never a secret or a hash.
 */

/** One admin action, as recorded. */
export interface AuditEntry {
  /** Principal id of the admin (`key_...`), never a credential. */
  actor: string;
  /** e.g. `key.create`, `key.rotate`, `key.revoke`, `breaker.open`. */
  action: string;
  /** Key id or agent name the action applied to. */
  target: string | null;
  requestId: string;
  clientIp: string | null;
  details?: Record<string, unknown>;
}

/** An audit entry as the API returns it. */
export interface AuditView {
  id: number;
  ts: number;
  time: string;
  actor: string;
  action: string;
  target: string | null;
  request_id: string;
  client_ip: string | null;
  details: Record<string, unknown> | null;
}

/** Filters and page of `GET /v1/audit` (already validated). */
export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  since?: number;
  /** Entries with an id below this (the previous page's last id). */
  before?: number;
  limit: number;
}

/** The statement that records `entry` at `now`; batch it with the change it records. */
export function auditStatement(db: D1Database, entry: AuditEntry, now: number): D1PreparedStatement {
  return db
    .prepare(
      "INSERT INTO audit_log (ts, actor, action, target, request_id, client_ip, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(
      now,
      entry.actor,
      entry.action,
      entry.target,
      entry.requestId,
      entry.clientIp,
      entry.details ? JSON.stringify(entry.details) : null,
    );
}

interface AuditRow {
  id: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  request_id: string;
  client_ip: string | null;
  details: string | null;
}

/** Newest-first page of the audit log; `next` is the `before` of the following page, or null. */
export async function listAudit(
  db: D1Database,
  filter: AuditFilter,
): Promise<{ entries: AuditView[]; next: number | null }> {
  const where: string[] = [];
  const args: unknown[] = [];
  for (const [column, value] of [
    ["actor", filter.actor],
    ["action", filter.action],
    ["target", filter.target],
  ] as const) {
    if (value !== undefined) {
      where.push(`${column} = ?`);
      args.push(value);
    }
  }
  if (filter.since !== undefined) {
    where.push("ts >= ?");
    args.push(filter.since);
  }
  if (filter.before !== undefined) {
    where.push("id < ?");
    args.push(filter.before);
  }
  const sql = `SELECT id, ts, actor, action, target, request_id, client_ip, details FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
  const { results } = await db
    .prepare(sql)
    .bind(...args, filter.limit + 1)
    .all<AuditRow>();
  const page = results.slice(0, filter.limit);
  return {
    entries: page.map((r) => ({
      ...r,
      time: new Date(r.ts).toISOString(),
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    })),
    next: results.length > filter.limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}
