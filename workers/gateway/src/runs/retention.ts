/**
 * Run retention, for the daily cron: runs that ended more than
 * `RUN_RETENTION_DAYS` ago lose their state (each object deletes its own,
 * after checking the age itself) and their listing row, in bounded batches.
 * Each object also deletes itself from its own alarm at the end of its
 * retention; this pass catches any whose alarm did not (and the rows).
 */
import type { Logger } from "../../../shared/logger";
import { resolveRunConfig, type RunVars } from "./config";
import { type RunNamespace, runStub } from "./create";
import { deleteRunRows, expiredRuns } from "./run-index";

/** Runs purged per batch, and the most batches per pass. */
export const RUN_PURGE_BATCH = 100;
export const RUN_PURGE_MAX_BATCHES = 20;

/** What the pass needs from the gateway's env. */
export interface RunRetentionEnv extends RunVars {
  REQUEST_LOG?: D1Database;
  AGENT_RUN?: RunNamespace;
}

/** Purges expired runs; resolves with how many were deleted. A run whose object fails is left for the next pass. */
export async function purgeExpiredRuns(env: RunRetentionEnv, now: number, logger: Logger): Promise<number> {
  const db = env.REQUEST_LOG;
  const ns = env.AGENT_RUN;
  if (!db || !ns) return 0;
  const cutoff = now - resolveRunConfig(env).retentionMs;
  let deleted = 0;
  for (let batch = 0; batch < RUN_PURGE_MAX_BATCHES; batch++) {
    const ids = await expiredRuns(db, cutoff, RUN_PURGE_BATCH);
    const gone: string[] = [];
    await Promise.all(
      ids.map(async (id) => {
        try {
          if (await runStub(ns, id).purge(now)) gone.push(id);
        } catch (err) {
          logger.warn("run purge failed", { run_id: id, error: String(err) });
        }
      }),
    );
    await deleteRunRows(db, gone);
    deleted += gone.length;
    if (ids.length < RUN_PURGE_BATCH || gone.length === 0) break;
  }
  logger.info("runs purged", { cutoff: new Date(cutoff).toISOString(), deleted });
  return deleted;
}
