/**
 * Managed API keys in D1 (`ACCESS_DB`): `api_keys` holds a key's identity,
 * scopes and limits; `api_key_secrets` holds the SHA-256 of each of its
 * secrets (one, or two during a rotation's grace period). Every change is
 * one batch with its audit entry. No function here sees a plaintext secret
 * except to hash it; none returns a hash.
 */
import { type AuditEntry, auditStatement } from "../audit/audit-log";

/** A key's own rate limit (same shape as a manifest's `rate_limit_per_key`). */
export interface KeyRateLimitSetting {
  requests_per_minute: number;
  burst?: number;
}

/** What authentication needs to know about a presented secret. */
export interface KeyRecord {
  id: string;
  name: string;
  scopes: string[];
  rateLimit: KeyRateLimitSetting | null;
  dailyTokenBudget: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
  /** End of this secret's grace period after a rotation; null while current. */
  notAfter: number | null;
}

/** A key as the admin API shows it (times as epoch ms; `prefix` of each live secret). */
export interface KeyView {
  id: string;
  name: string;
  scopes: string[];
  rate_limit: KeyRateLimitSetting | null;
  daily_token_budget: number | null;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  status: "active" | "expired" | "revoked";
  secrets: { prefix: string; created_at: number; not_after: number | null }[];
}

/** Fields a create or update sets. */
export interface KeySettings {
  name: string;
  scopes: string[];
  rateLimit: KeyRateLimitSetting | null;
  dailyTokenBudget: number | null;
  expiresAt: number | null;
}

/** A secret to store: its hash and display prefix. */
export interface StoredSecret {
  hash: string;
  prefix: string;
}

interface KeyRow {
  id: string;
  name: string;
  scopes: string;
  rate_limit: string | null;
  daily_token_budget: number | null;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

/** Looks up the key a secret hash belongs to; null when none does. */
export async function findKeyBySecretHash(db: D1Database, hash: string): Promise<KeyRecord | null> {
  const row = await db
    .prepare(
      `SELECT k.id, k.name, k.scopes, k.rate_limit, k.daily_token_budget, k.expires_at, k.revoked_at, s.not_after
       FROM api_key_secrets s JOIN api_keys k ON k.id = s.key_id WHERE s.hash = ?`,
    )
    .bind(hash)
    .first<Omit<KeyRow, "created_at" | "created_by" | "last_used_at"> & { not_after: number | null }>();
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    rateLimit: row.rate_limit ? (JSON.parse(row.rate_limit) as KeyRateLimitSetting) : null,
    dailyTokenBudget: row.daily_token_budget,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    notAfter: row.not_after,
  };
}

function secretStatement(db: D1Database, keyId: string, secret: StoredSecret, now: number): D1PreparedStatement {
  return db
    .prepare("INSERT INTO api_key_secrets (hash, key_id, prefix, created_at, not_after) VALUES (?, ?, ?, ?, NULL)")
    .bind(secret.hash, keyId, secret.prefix, now);
}

/** Creates a key with its first secret, and audits it, in one transaction. */
export async function insertKey(
  db: D1Database,
  id: string,
  settings: KeySettings,
  secret: StoredSecret,
  createdBy: string,
  now: number,
  audit: AuditEntry,
): Promise<KeyView> {
  await db.batch([
    db
      .prepare(
        "INSERT INTO api_keys (id, name, scopes, rate_limit, daily_token_budget, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .bind(
        id,
        settings.name,
        JSON.stringify(settings.scopes),
        settings.rateLimit ? JSON.stringify(settings.rateLimit) : null,
        settings.dailyTokenBudget,
        now,
        createdBy,
        settings.expiresAt,
      ),
    secretStatement(db, id, secret, now),
    auditStatement(db, audit, now),
  ]);
  return (await getKey(db, id, now)) as KeyView;
}

/** Replaces a key's settings, and audits it. Returns the key, or null when there is none. */
export async function updateKey(
  db: D1Database,
  id: string,
  settings: KeySettings,
  now: number,
  audit: AuditEntry,
): Promise<KeyView | null> {
  const [update] = await db.batch([
    db
      .prepare(
        "UPDATE api_keys SET name = ?, scopes = ?, rate_limit = ?, daily_token_budget = ?, expires_at = ? WHERE id = ?",
      )
      .bind(
        settings.name,
        JSON.stringify(settings.scopes),
        settings.rateLimit ? JSON.stringify(settings.rateLimit) : null,
        settings.dailyTokenBudget,
        settings.expiresAt,
        id,
      ),
    auditStatement(db, audit, now),
  ]);
  return update?.meta.changes ? getKey(db, id, now) : null;
}

/**
 * Rotation: adds `secret` to the key and ends every older secret at
 * `now + graceMs` (an earlier end already set is kept). Secrets whose grace
 * has passed are deleted. One transaction with the audit entry.
 */
export async function rotateKey(
  db: D1Database,
  id: string,
  secret: StoredSecret,
  graceMs: number,
  now: number,
  audit: AuditEntry,
): Promise<KeyView> {
  const end = now + graceMs;
  await db.batch([
    db
      .prepare("DELETE FROM api_key_secrets WHERE key_id = ? AND not_after IS NOT NULL AND not_after <= ?")
      .bind(id, now),
    db
      .prepare("UPDATE api_key_secrets SET not_after = ? WHERE key_id = ? AND (not_after IS NULL OR not_after > ?)")
      .bind(end, id, end),
    secretStatement(db, id, secret, now),
    auditStatement(db, audit, now),
  ]);
  return (await getKey(db, id, now)) as KeyView;
}

/** Revokes a key (every secret of it), and audits it. Revoking twice keeps the first time. */
export async function revokeKey(db: D1Database, id: string, now: number, audit: AuditEntry): Promise<KeyView> {
  await db.batch([
    db.prepare("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?").bind(now, id),
    auditStatement(db, audit, now),
  ]);
  return (await getKey(db, id, now)) as KeyView;
}

/** Records that a key was used (callers throttle this; it is best effort). */
export async function touchKey(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
    .bind(now, id, now)
    .run();
}

function view(row: KeyRow, secrets: KeyView["secrets"], now: number): KeyView {
  const status =
    row.revoked_at !== null ? "revoked" : row.expires_at !== null && row.expires_at <= now ? "expired" : "active";
  return {
    ...row,
    scopes: JSON.parse(row.scopes) as string[],
    rate_limit: row.rate_limit ? (JSON.parse(row.rate_limit) as KeyRateLimitSetting) : null,
    status,
    secrets: secrets.filter((s) => s.not_after === null || s.not_after > now),
  };
}

const KEY_COLUMNS =
  "id, name, scopes, rate_limit, daily_token_budget, created_at, created_by, expires_at, revoked_at, last_used_at";

/** One key with its live secrets' prefixes, or null. */
export async function getKey(db: D1Database, id: string, now: number): Promise<KeyView | null> {
  const [keys, secrets] = await db.batch<Record<string, unknown>>([
    db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`).bind(id),
    db
      .prepare("SELECT prefix, created_at, not_after FROM api_key_secrets WHERE key_id = ? ORDER BY created_at")
      .bind(id),
  ]);
  const row = keys?.results[0] as KeyRow | undefined;
  if (!row) return null;
  return view(row, (secrets?.results ?? []) as KeyView["secrets"], now);
}

/** Filters and page of `GET /v1/keys` (already validated). */
export interface KeyFilter {
  /** Include revoked keys (default: only keys that are not revoked). */
  includeRevoked: boolean;
  /** Keys with an id after this one (the previous page's last id). */
  after?: string;
  limit: number;
}

/** Keys ordered by id, one page; `next` is the `after` of the following page, or null. */
export async function listKeys(
  db: D1Database,
  filter: KeyFilter,
  now: number,
): Promise<{ keys: KeyView[]; next: string | null }> {
  const where = [
    filter.includeRevoked ? "1 = 1" : "revoked_at IS NULL",
    filter.after !== undefined ? "id > ?" : "1 = 1",
  ].join(" AND ");
  const args = filter.after !== undefined ? [filter.after] : [];
  const { results } = await db
    .prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE ${where} ORDER BY id LIMIT ?`)
    .bind(...args, filter.limit + 1)
    .all<KeyRow>();
  const page = results.slice(0, filter.limit);
  const secrets = new Map<string, KeyView["secrets"]>();
  if (page.length > 0) {
    const placeholders = page.map(() => "?").join(", ");
    const rows = await db
      .prepare(
        `SELECT key_id, prefix, created_at, not_after FROM api_key_secrets WHERE key_id IN (${placeholders}) ORDER BY created_at`,
      )
      .bind(...page.map((r) => r.id))
      .all<{ key_id: string; prefix: string; created_at: number; not_after: number | null }>();
    for (const { key_id, ...s } of rows.results) secrets.set(key_id, [...(secrets.get(key_id) ?? []), s]);
  }
  return {
    keys: page.map((r) => view(r, secrets.get(r.id) ?? [], now)),
    next: results.length > filter.limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}
