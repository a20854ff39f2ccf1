/**
 * Request log retention: the cron trigger deletes requests (and their
 * attempts) older than `REQUEST_LOG_RETENTION_DAYS`, in bounded chunks so
 * no single statement touches an unbounded number of rows.
 */
import { createLogger } from "../../../shared/logger";

/** Days kept when `REQUEST_LOG_RETENTION_DAYS` is unset or invalid. */
export const DEFAULT_RETENTION_DAYS = 7;

/** Rows deleted per batch. */
export const PURGE_CHUNK = 500;

/** Most batches one run makes (so one run is bounded; the next run continues). */
export const PURGE_MAX_CHUNKS = 200;

const DAY_MS = 86_400_000;

/** Resolves `REQUEST_LOG_RETENTION_DAYS`: a positive integer number of days, else the default. */
export function retentionDays(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && /^\s*\d+\s*$/.test(value) && Number.isSafeInteger(n) && n > 0
    ? n
    : DEFAULT_RETENTION_DAYS;
}

/** Result of one purge. */
export interface PurgeResult {
  /** Requests older than this (epoch ms) were deleted. */
  cutoff: number;
  /** Requests deleted. */
  deleted: number;
  /** True when the run stopped at {@link PURGE_MAX_CHUNKS} with old rows left. */
  truncated: boolean;
}

/**
 * Deletes requests with `ts` before `now - days`, with their attempts, in
 * chunks of about `chunk` requests (more only when several share the chunk's
 * last millisecond): each chunk is one D1 batch (a transaction), so a request
 * never loses its attempts without its row or the other way round.
 */
export async function purgeOldRequests(
  db: D1Database,
  now: number,
  days: number,
  chunk = PURGE_CHUNK,
  maxChunks = PURGE_MAX_CHUNKS,
): Promise<PurgeResult> {
  const cutoff = now - days * DAY_MS;
  // The chunk: requests before the cutoff up to the ts of the chunk-th oldest (ties included),
  // the same set for both statements, so no attempt outlives its request.
  const chunkOf =
    "SELECT log_id FROM requests WHERE ts < ?1 AND ts <= COALESCE((SELECT ts FROM requests WHERE ts < ?1 ORDER BY ts LIMIT 1 OFFSET ?2), ?1)";
  let deleted = 0;
  for (let i = 0; i < maxChunks; i++) {
    const [, requests] = await db.batch([
      db.prepare(`DELETE FROM request_attempts WHERE log_id IN (${chunkOf})`).bind(cutoff, chunk - 1),
      db.prepare(`DELETE FROM requests WHERE log_id IN (${chunkOf})`).bind(cutoff, chunk - 1),
    ]);
    const changes = requests?.meta.changes ?? 0;
    deleted += changes;
    if (changes < chunk) return { cutoff, deleted, truncated: false };
  }
  return { cutoff, deleted, truncated: true };
}

/** What the scheduled handler needs from the gateway's env. */
export interface RetentionEnv {
  REQUEST_LOG?: D1Database;
  REQUEST_LOG_RETENTION_DAYS?: string;
  LOG_LEVEL?: string;
}

/**
 * The cron trigger's work: purges the request log and logs the outcome.
 * A failure is logged and rethrown, so the invocation shows as failed.
 */
export async function runRetention(env: RetentionEnv, now: number): Promise<PurgeResult | null> {
  const logger = createLogger({ service: "gateway", level: env.LOG_LEVEL, fields: { job: "request-log-retention" } });
  if (!env.REQUEST_LOG) {
    logger.warn("no REQUEST_LOG binding: nothing to purge");
    return null;
  }
  const days = retentionDays(env.REQUEST_LOG_RETENTION_DAYS);
  try {
    const result = await purgeOldRequests(env.REQUEST_LOG, now, days);
    logger.info("request log purged", {
      days,
      cutoff: new Date(result.cutoff).toISOString(),
      deleted: result.deleted,
      truncated: result.truncated,
    });
    return result;
  } catch (err) {
    logger.error("request log purge failed", {
      days,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    throw err;
  }
}
