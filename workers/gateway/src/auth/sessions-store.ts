/**
 * Dashboard sessions in D1 (`ACCESS_DB`, table `dashboard_sessions`, see
 * migrations/access/0002_sessions.sql). The dashboard's signed cookie only
 * says who and until when; these records are what lets a session end sooner:
 * at logout, or when the admin key that bought it is revoked, expires, loses
 * the admin scope, or leaves `ADMIN_API_KEYS`. A session id is a 256-bit
 * random secret; only its SHA-256 is stored, as for key secrets, so a copy of
 * the table opens nothing. Every change is one batch with its audit entry.
 */
import { type AuditEntry, auditStatement } from "../audit/audit-log";
import { keyIdOf, parseApiKeys, sha256, toHex } from "./api-keys";
import { ADMIN_SCOPE, hasScope } from "./scopes";

/** Prefix of every session id (lets secret scanners and people recognise one). */
export const SESSION_ID_PREFIX = "zs_";
/** A session id as generated: `zs_` and 256 random bits in base64url. */
export const SESSION_ID_PATTERN = /^zs_[A-Za-z0-9_-]{43}$/;

/** A managed key's principal id (`key_` and 16 random hex digits). */
const MANAGED_ID = /^key_[0-9a-f]{16}$/;
/** A secret-configured key's principal id (`key_` and 12 hex digits of its SHA-256). */
const BOOTSTRAP_ID = /^key_[0-9a-f]{12}$/;

/** A stored session (times as epoch ms). */
export interface SessionRecord {
  principal: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** A new session id. */
export function generateSessionId(): string {
  return SESSION_ID_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The stored form of a session id: lower-case hex SHA-256. */
export async function sessionHash(id: string): Promise<string> {
  return toHex(await sha256(id));
}

/** How a session is named in the audit log and in log lines: `ses_` and 12 hex of its hash (never the id). */
export function sessionHandle(hash: string): string {
  return `ses_${hash.slice(0, 12)}`;
}

/** Stores a new session and audits it, in one transaction. */
export async function insertSession(
  db: D1Database,
  hash: string,
  session: Omit<SessionRecord, "revoked_at">,
  audit: AuditEntry,
): Promise<void> {
  await db.batch([
    db
      .prepare("INSERT INTO dashboard_sessions (id_hash, principal, created_at, expires_at) VALUES (?, ?, ?, ?)")
      .bind(hash, session.principal, session.created_at, session.expires_at),
    auditStatement(db, audit, session.created_at),
  ]);
}

/** The session stored under `hash`, or null. */
export function findSession(db: D1Database, hash: string): Promise<SessionRecord | null> {
  return db
    .prepare("SELECT principal, created_at, expires_at, revoked_at FROM dashboard_sessions WHERE id_hash = ?")
    .bind(hash)
    .first<SessionRecord>();
}

/** Revokes a session and audits it, in one transaction. Revoking twice keeps the first time. */
export async function revokeSession(db: D1Database, hash: string, now: number, audit: AuditEntry): Promise<void> {
  await db.batch([
    db.prepare("UPDATE dashboard_sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id_hash = ?").bind(now, hash),
    auditStatement(db, audit, now),
  ]);
}

/** Why a principal no longer holds a session open, or undefined while it is still a valid admin. */
export type AdminLapse =
  "key unknown" | "key revoked" | "key expired" | "admin scope removed" | "not in ADMIN_API_KEYS";

/**
 * Whether `principal` is still an admin now, read from the source of truth
 * (D1 and the current `ADMIN_API_KEYS`), never from the isolate's key cache,
 * so a revocation is seen at once. A managed key must exist, be neither
 * revoked nor expired, and still hold the admin scope; a secret-configured
 * key's id must still be among the ids of the `ADMIN_API_KEYS` entries. No
 * other principal (a JWT, whose tokens never carry the admin scope) can hold
 * a session.
 */
export async function adminLapse(
  db: D1Database,
  adminApiKeys: string | undefined,
  principal: string,
  now: number,
): Promise<AdminLapse | undefined> {
  if (MANAGED_ID.test(principal)) {
    const key = await db
      .prepare("SELECT scopes, expires_at, revoked_at FROM api_keys WHERE id = ?")
      .bind(principal)
      .first<{ scopes: string; expires_at: number | null; revoked_at: number | null }>();
    if (!key) return "key unknown";
    if (key.revoked_at !== null) return "key revoked";
    if (key.expires_at !== null && key.expires_at <= now) return "key expired";
    return hasScope(JSON.parse(key.scopes) as string[], ADMIN_SCOPE) ? undefined : "admin scope removed";
  }
  if (BOOTSTRAP_ID.test(principal)) {
    const { entries } = await parseApiKeys(adminApiKeys);
    return entries.some((entry) => keyIdOf(entry.digest) === principal) ? undefined : "not in ADMIN_API_KEYS";
  }
  return "key unknown";
}
