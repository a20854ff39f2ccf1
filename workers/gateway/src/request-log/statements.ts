/**
 * The request log's INSERTs: the statements that store any number of
 * entries (requests and their attempts) in one D1 batch, i.e. one
 * transaction.
 *
 * D1 binds at most 100 parameters per statement, so rows are packed into
 * multi-row INSERTs under that limit: 5 requests (18 columns each) or 10
 * attempts (10 columns) per statement. One request with one attempt is 2
 * statements, as it always was; a queue batch of 100 such requests is
 * 20 + 10 = 30 statements instead of 200 in 100 batches.
 *
 * Rows are only ever inserted, keyed by the gateway-generated `log_id` (and
 * `n` for attempts), with `INSERT OR IGNORE`: writing an entry a second time
 * (a queue redelivery, a retried batch that had in fact committed) changes
 * nothing, and no request can alter another's row.
 */
import type { RequestLogEntry } from "./message";
import type { AttemptRow, RequestRow } from "./rows";

/** D1's limit on bound parameters per statement. */
export const MAX_BOUND_PARAMETERS = 100;

const REQUEST_COLUMNS = [
  "log_id",
  "request_id",
  "ts",
  "key_id",
  "agent",
  "served_by",
  "task",
  "method",
  "path",
  "status",
  "code",
  "duration_ms",
  "trace_id",
  "protocol",
  "tokens",
  "ttfb_ms",
  "bytes_out",
  "pii_kinds",
] as const satisfies readonly (keyof RequestRow)[];

const ATTEMPT_COLUMNS = [
  "log_id",
  "n",
  "agent",
  "attempt",
  "status",
  "code",
  "admission",
  "latency_ms",
  "backoff_ms",
  "spans",
] as const satisfies readonly (keyof AttemptRow)[];

/** `true` when `Listed` names every column of `Row`: a column added to a row type must be added above too. */
type Complete<Row, Listed> = [Exclude<keyof Row, Listed>] extends [never] ? true : false;
const _requestColumnsComplete: Complete<RequestRow, (typeof REQUEST_COLUMNS)[number]> = true;
const _attemptColumnsComplete: Complete<AttemptRow, (typeof ATTEMPT_COLUMNS)[number]> = true;

/** Requests per INSERT (5). */
export const REQUESTS_PER_INSERT = Math.floor(MAX_BOUND_PARAMETERS / REQUEST_COLUMNS.length);

/** Attempts per INSERT (10). */
export const ATTEMPTS_PER_INSERT = Math.floor(MAX_BOUND_PARAMETERS / ATTEMPT_COLUMNS.length);

/** `INSERT OR IGNORE` statements for `rows` into `table`, `perInsert` rows each. */
function inserts<R>(
  db: D1Database,
  table: string,
  columns: readonly (keyof R & string)[],
  rows: readonly R[],
  perInsert: number,
): D1PreparedStatement[] {
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += perInsert) {
    const chunk = rows.slice(i, i + perInsert);
    const sql = `INSERT OR IGNORE INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")}`;
    // `?? null`: an entry queued by an older gateway lacks the newer columns (D1 binds no undefined).
    statements.push(db.prepare(sql).bind(...chunk.flatMap((row) => columns.map((c) => row[c] ?? null))));
  }
  return statements;
}

/**
 * The statements that store `entries` (one entry or many): the request
 * rows first, then every attempt, packed under D1's parameter limit. Run
 * them with `db.batch()` so they commit together.
 */
export function insertStatements(
  db: D1Database,
  entries: RequestLogEntry | readonly RequestLogEntry[],
): D1PreparedStatement[] {
  const list = "request" in entries ? [entries] : entries;
  return [
    ...inserts(
      db,
      "requests",
      REQUEST_COLUMNS,
      list.map((e) => e.request),
      REQUESTS_PER_INSERT,
    ),
    ...inserts(
      db,
      "request_attempts",
      ATTEMPT_COLUMNS,
      list.flatMap((e) => e.attempts),
      ATTEMPTS_PER_INSERT,
    ),
  ];
}
