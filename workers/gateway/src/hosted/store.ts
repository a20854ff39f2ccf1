/**
 * The hosted agents' store in `ACCESS_DB` (migrations/access/0003): a head
 * row per name and immutable versions. Every change is one D1 batch (one
 * transaction) with its audit entry, so two uploads racing both land as
 * consecutive versions (the later one served) or, with `If-Match`, one wins
 * and the other changes nothing; there is never a head without its version.
 * The limits (agents, versions kept) are checked inside the same statements.
 */
import { type AuditEntry, auditStatement } from "../audit/audit-log";

/** A version to store. */
export interface NewVersion {
  name: string;
  source: string;
  contentType: string;
  /** The validated manifest as served (JSON). */
  manifest: string;
  digest: string;
}

/** Limits checked in the store. */
export interface StoreLimits {
  maxAgents: number;
  versionsKept: number;
}

/** Preconditions of an upload: `If-Match` (the served version) or `If-None-Match: *` (none). */
export type Precondition = { kind: "none" } | { kind: "match"; version: number } | { kind: "absent" };

/** Outcome of {@link putVersion}. */
export type PutOutcome =
  | { ok: true; version: number; created: boolean }
  | { ok: false; reason: "precondition"; current: number | null }
  | { ok: false; reason: "limit" };

/**
 * Stores `v` as the next version and serves it, with `audit`, in one transaction. The head's `write_token`
 * ties the version row, the pruning and the audit entry to this change: when the precondition or the limit
 * stops the head, nothing at all is written. `created` is exact for a new name (the insert happened); for a
 * deleted name uploaded again it is read before the change.
 */
export async function putVersion(
  db: D1Database,
  v: NewVersion,
  pre: Precondition,
  limits: StoreLimits,
  audit: AuditEntry,
  now: number,
): Promise<PutOutcome> {
  const token = crypto.randomUUID();
  const before = await db
    .prepare("SELECT current_version FROM hosted_agents WHERE name = ?")
    .bind(v.name)
    .first<{ current_version: number | null }>();
  // A live agent always takes a new version; a new or deleted name only under the limit (live agents counted).
  // If-Match needs the served version; If-None-Match: * needs none. Two statements, one transaction: the update
  // of an existing head, then the insert of a new one (which finds the head the update may have left).
  const live = "(SELECT COUNT(*) FROM hosted_agents WHERE current_version IS NOT NULL)";
  const condition =
    pre.kind === "match"
      ? "current_version = ?6"
      : `(current_version IS NOT NULL OR ${live} < ?5)${pre.kind === "absent" ? " AND current_version IS NULL" : ""}`;
  const update = db
    .prepare(
      `UPDATE hosted_agents SET last_version = last_version + 1, current_version = last_version + 1,
         updated_at = ?2, updated_by = ?3, write_token = ?4
       WHERE name = ?1 AND ${condition}`,
    )
    .bind(v.name, now, audit.actor, token, limits.maxAgents, ...(pre.kind === "match" ? [pre.version] : []));
  const insert = db
    .prepare(
      `INSERT INTO hosted_agents (name, current_version, last_version, updated_at, updated_by, write_token)
       SELECT ?1, 1, 1, ?2, ?3, ?4
       WHERE ?6 = 0 AND NOT EXISTS (SELECT 1 FROM hosted_agents WHERE name = ?1) AND ${live} < ?5`,
    )
    .bind(v.name, now, audit.actor, token, limits.maxAgents, pre.kind === "match" ? 1 : 0);
  const version = db
    .prepare(
      `INSERT INTO hosted_agent_versions (name, version, source, content_type, manifest, digest, created_at, created_by)
       SELECT name, current_version, ?, ?, ?, ?, ?, ? FROM hosted_agents WHERE name = ? AND write_token = ?
       RETURNING version`,
    )
    .bind(v.source, v.contentType, v.manifest, v.digest, now, audit.actor, v.name, token);
  // Keeps the served version and the newest others, `versionsKept` in all.
  const prune = db
    .prepare(
      `DELETE FROM hosted_agent_versions WHERE name = ?1 AND version IN (
         SELECT version FROM hosted_agent_versions WHERE name = ?1
           AND version <> (SELECT current_version FROM hosted_agents WHERE name = ?1)
         ORDER BY version DESC LIMIT -1 OFFSET ?2)
       AND EXISTS (SELECT 1 FROM hosted_agents WHERE name = ?1 AND write_token = ?3)`,
    )
    .bind(v.name, Math.max(0, limits.versionsKept - 1), token);
  const details = JSON.stringify(audit.details ?? {});
  const auditRow = db
    .prepare(
      `INSERT INTO audit_log (ts, actor, action, target, request_id, client_ip, details)
       SELECT ?, ?, ?, ?, ?, ?, json_set(?, '$.version', current_version) FROM hosted_agents
       WHERE name = ? AND write_token = ?`,
    )
    .bind(now, audit.actor, audit.action, audit.target, audit.requestId, audit.clientIp, details, v.name, token);
  const [updated, inserted, stored] = await db.batch<{ version: number }>([update, insert, version, prune, auditRow]);
  // What this change did, from the batch itself: a later change may already have moved the head on.
  const served = stored?.results[0]?.version;
  if (served !== undefined) {
    // Created: this change inserted the head, or revived a deleted one (read before the change; only that can race).
    const revived = updated?.meta.changes === 1 && before !== null && before.current_version === null;
    return { ok: true, version: served, created: inserted?.meta.changes === 1 || revived };
  }
  const row = await db
    .prepare("SELECT current_version FROM hosted_agents WHERE name = ?")
    .bind(v.name)
    .first<{ current_version: number | null }>();
  const current = row?.current_version ?? null;
  if (pre.kind === "match" || (pre.kind === "absent" && current !== null)) {
    return { ok: false, reason: "precondition", current };
  }
  return { ok: false, reason: "limit" };
}

/** Makes `version` the served one. Returns false when the agent or the version does not exist. */
export async function setCurrent(
  db: D1Database,
  name: string,
  version: number,
  audit: AuditEntry,
  now: number,
): Promise<boolean> {
  const token = crypto.randomUUID();
  const [changed] = await db.batch([
    db
      .prepare(
        `UPDATE hosted_agents SET current_version = ?2, updated_at = ?3, updated_by = ?4, write_token = ?5
         WHERE name = ?1 AND current_version IS NOT NULL
           AND EXISTS (SELECT 1 FROM hosted_agent_versions WHERE name = ?1 AND version = ?2)`,
      )
      .bind(name, version, now, audit.actor, token),
    auditWhere(db, audit, now, name, token),
  ]);
  // The head's update says whether this change happened (a later one may already have moved the head on).
  return changed?.meta.changes === 1;
}

/** Deletes the agent (its versions go; the head stays as a tombstone). False when there is no such live agent. */
export async function deleteAgent(db: D1Database, name: string, audit: AuditEntry, now: number): Promise<boolean> {
  const token = crypto.randomUUID();
  const [changed] = await db.batch([
    db
      .prepare(
        `UPDATE hosted_agents SET current_version = NULL, updated_at = ?2, updated_by = ?3, write_token = ?4
         WHERE name = ?1 AND current_version IS NOT NULL`,
      )
      .bind(name, now, audit.actor, token),
    db
      .prepare(
        `DELETE FROM hosted_agent_versions WHERE name = ?1
         AND EXISTS (SELECT 1 FROM hosted_agents WHERE name = ?1 AND write_token = ?2)`,
      )
      .bind(name, token),
    auditWhere(db, audit, now, name, token),
  ]);
  // The head's update says whether this change happened (a later one may already have moved the head on).
  return changed?.meta.changes === 1;
}

/** The audit entry, written only when the head carries `token` (the change happened). */
function auditWhere(db: D1Database, audit: AuditEntry, now: number, name: string, token: string) {
  return db
    .prepare(
      `INSERT INTO audit_log (ts, actor, action, target, request_id, client_ip, details)
       SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM hosted_agents WHERE name = ? AND write_token = ?)`,
    )
    .bind(
      now,
      audit.actor,
      audit.action,
      audit.target,
      audit.requestId,
      audit.clientIp,
      audit.details ? JSON.stringify(audit.details) : null,
      name,
      token,
    );
}

/** Records a refused change (a lost race, a limit) in the audit log on its own. */
export async function auditRefusal(db: D1Database, audit: AuditEntry, now: number): Promise<void> {
  await auditStatement(db, audit, now).run();
}
