/**
 * `IdempotencyStore`: a SQLite-backed Durable Object holding the outcome of
 * one `Idempotency-Key` (one instance per key, `idFromName(key)`). The agent
 * runtime calls `begin` before running `POST /run` and `complete` after it;
 * the rules live in the pure `./record` module. Everything is deleted 24 h
 * after the key was first taken (an alarm), and older records are ignored.
 *
 * Each RPC method reads, decides and writes synchronously before its first
 * `await`, so two concurrent calls for the same key can never both start.
 */
import { DurableObject } from "cloudflare:workers";
import {
  type BeginResult,
  type IdempotencyRecord,
  IDEMPOTENCY_TTL_MS,
  decideBegin,
  decideComplete,
  decideRenew,
  startedRecord,
} from "./record";

export type { BeginResult, DoneRecord, IdempotencyRecord, InProgressRecord } from "./record";
export {
  IDEMPOTENCY_TTL_MS,
  LEASE_MS,
  LEASE_RENEW_MS,
  MAX_RETRY_AFTER_MS,
  MAX_STORED_BODY_BYTES,
  isStorableStatus,
} from "./record";

/** The single-row table of a store. */
const SCHEMA = `CREATE TABLE IF NOT EXISTS idempotency_record (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  state TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  token TEXT,
  lease_until INTEGER,
  status INTEGER,
  body TEXT,
  content_type TEXT
)`;

type Row = {
  state: string;
  body_hash: string;
  created_at: number;
  token: string | null;
  lease_until: number | null;
  status: number | null;
  body: string | null;
  content_type: string | null;
};

function toRecord(row: Row): IdempotencyRecord | null {
  if (row.state === "in_progress" && row.token !== null && row.lease_until !== null) {
    return {
      state: "in_progress",
      bodyHash: row.body_hash,
      createdAt: row.created_at,
      token: row.token,
      leaseUntil: row.lease_until,
    };
  }
  if (row.state === "done" && row.status !== null && row.body !== null && row.content_type !== null) {
    return {
      state: "done",
      bodyHash: row.body_hash,
      createdAt: row.created_at,
      status: row.status,
      body: row.body,
      contentType: row.content_type,
    };
  }
  return null;
}

/** The Durable Object behind the `IDEMPOTENCY` binding of an agent Worker. */
export class IdempotencyStore extends DurableObject {
  #schemaReady = false;

  /**
   * Claims the key for a request whose body hashes to `bodyHash` at `now`
   * (epoch ms): `new` (run it, then `complete` with the token), `replay`
   * (the stored response), `mismatch` (another body used this key) or
   * `in_progress` (a duplicate is running).
   */
  async begin(bodyHash: string, now: number): Promise<BeginResult> {
    const decision = decideBegin(this.#read(), bodyHash, now);
    if (decision.action === "answer") return decision.result;
    const record = startedRecord(bodyHash, crypto.randomUUID(), now);
    this.#sql().exec(
      `INSERT OR REPLACE INTO idempotency_record (id, state, body_hash, created_at, token, lease_until, status, body, content_type)
       VALUES (1, 'in_progress', ?, ?, ?, ?, NULL, NULL, NULL)`,
      record.bodyHash,
      record.createdAt,
      record.token,
      record.leaseUntil,
    );
    await this.ctx.storage.setAlarm(record.createdAt + IDEMPOTENCY_TTL_MS);
    return { kind: "new", token: record.token };
  }

  /**
   * Records the outcome of the request holding `token`: stores the response
   * when it is replayable (2xx, 4xx but 408/409/429, body within the size
   * cap), else forgets the key so a retry runs again. A stale token is ignored.
   */
  async complete(token: string, status: number, body: string, contentType: string, now: number): Promise<void> {
    const record = this.#read();
    const action = decideComplete(record, token, status, new TextEncoder().encode(body).byteLength, now);
    if (action === "ignore") return;
    if (action === "store") {
      this.#sql().exec(
        `UPDATE idempotency_record SET state = 'done', token = NULL, lease_until = NULL, status = ?, body = ?, content_type = ? WHERE id = 1`,
        status,
        body,
        contentType,
      );
      return;
    }
    await this.#forget();
  }

  /**
   * Extends the lease of the request holding `token` (it is still running); false when `token` no longer holds
   * the key, so the holder can stop renewing.
   */
  async renew(token: string, now: number): Promise<boolean> {
    const renewed = decideRenew(this.#read(), token, now);
    if (!renewed) return false;
    this.#sql().exec("UPDATE idempotency_record SET lease_until = ? WHERE id = 1", renewed.leaseUntil);
    return true;
  }

  /** Runs 24 h after the key was taken: deletes everything this object holds. */
  override async alarm(): Promise<void> {
    await this.#forget();
  }

  /** The stored record, or null (none, or unreadable). */
  #read(): IdempotencyRecord | null {
    const row = this.#sql()
      .exec<Row>(
        "SELECT state, body_hash, created_at, token, lease_until, status, body, content_type FROM idempotency_record WHERE id = 1",
      )
      .toArray()[0];
    return row ? toRecord(row) : null;
  }

  /** The SQL API, with the table created (again, after a `deleteAll`). */
  #sql(): SqlStorage {
    const sql = this.ctx.storage.sql;
    if (!this.#schemaReady) {
      sql.exec(SCHEMA);
      this.#schemaReady = true;
    }
    return sql;
  }

  /** Deletes the table and the alarm, leaving the object empty. */
  async #forget(): Promise<void> {
    this.#schemaReady = false;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }
}
