/**
 * The runs' listing index in D1 (`runs`, migration 0007): each run's object
 * writes its row on every change, and `GET /v1/runs` pages through it,
 * newest first, by an opaque cursor. The index is a copy: a run's own object
 * is the truth, so a failed write is logged by the caller and made good by
 * the run's next change (rows carry the run's `seq`, and an older write never
 * overwrites a newer one). The retention cron takes expired rows from here.
 */
import { ZaharaError } from "../../../shared/errors";
import type { RunRecord } from "./run-state";
import { toView } from "./run-state";
import type { RunStatus, RunView } from "./types";

/** Most runs per page, and the default. */
export const MAX_LIST_LIMIT = 100;
export const DEFAULT_LIST_LIMIT = 20;

/** Writes `r`'s row (insert, or update when `r` is newer than the row). */
export async function indexRun(db: D1Database, r: RunRecord): Promise<void> {
  const summary = JSON.stringify(toView(r, { withResult: false }));
  await db
    .prepare(
      `INSERT INTO runs (run_id, principal_id, agent, task, status, created_at, finished_at, seq, summary)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (run_id) DO UPDATE SET status = ?5, finished_at = ?7, seq = ?8, summary = ?9 WHERE runs.seq < ?8`,
    )
    .bind(r.runId, r.principal.id, r.agent, r.task, r.status, r.createdAt, r.finishedAt ?? null, r.seq, summary)
    .run();
}

/** A page of runs. */
export interface RunPage {
  runs: RunView[];
  next_cursor?: string;
}

/** What to list. `principalId` undefined lists every principal's runs (an admin). */
export interface RunQuery {
  principalId?: string;
  status?: RunStatus;
  agent?: string;
  limit: number;
  cursor?: string;
}

/** Encodes a page boundary (the last row's creation time and id). */
function encodeCursor(createdAt: number, runId: string): string {
  return btoa(JSON.stringify([createdAt, runId])).replace(/=+$/, "");
}

/** Decodes a cursor, or throws 400 `INVALID_REQUEST`. */
export function decodeCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(atob(cursor));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === "string") {
      return [value[0] as number, value[1] as string];
    }
  } catch {
    // fall through
  }
  throw new ZaharaError("INVALID_REQUEST", {
    message: "cursor is not a cursor this API returned",
    details: { fields: [{ field: "cursor", message: "use next_cursor from the previous page" }] },
  });
}

/** One page of runs, newest first. */
export async function listRuns(db: D1Database, q: RunQuery): Promise<RunPage> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => {
    args.push(v);
    return `?${args.length}`;
  };
  if (q.principalId !== undefined) where.push(`principal_id = ${arg(q.principalId)}`);
  if (q.status !== undefined) where.push(`status = ${arg(q.status)}`);
  if (q.agent !== undefined) where.push(`agent = ${arg(q.agent)}`);
  if (q.cursor !== undefined) {
    const [createdAt, runId] = decodeCursor(q.cursor);
    where.push(`(created_at < ${arg(createdAt)} OR (created_at = ?${args.length} AND run_id < ${arg(runId)}))`);
  }
  const sql = `SELECT run_id, created_at, summary FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY created_at DESC, run_id DESC LIMIT ${arg(q.limit + 1)}`;
  const { results } = await db
    .prepare(sql)
    .bind(...args)
    .all<{ run_id: string; created_at: number; summary: string }>();
  const rows = results.slice(0, q.limit);
  const page: RunPage = { runs: rows.map((row) => JSON.parse(row.summary) as RunView) };
  const last = rows.at(-1);
  if (results.length > q.limit && last) page.next_cursor = encodeCursor(last.created_at, last.run_id);
  return page;
}

/** Ids of runs that ended before `cutoff` (epoch ms), at most `limit`. */
export async function expiredRuns(db: D1Database, cutoff: number, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT run_id FROM runs WHERE finished_at IS NOT NULL AND finished_at < ?1 ORDER BY finished_at LIMIT ?2")
    .bind(cutoff, limit)
    .all<{ run_id: string }>();
  return results.map((r) => r.run_id);
}

/** Deletes the rows of `runIds`. */
export async function deleteRunRows(db: D1Database, runIds: readonly string[]): Promise<void> {
  if (runIds.length === 0) return;
  await db
    .prepare(`DELETE FROM runs WHERE run_id IN (${runIds.map((_, i) => `?${i + 1}`).join(", ")})`)
    .bind(...runIds)
    .run();
}
