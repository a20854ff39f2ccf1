/**
 * Settings of long-running runs, resolved from the gateway's vars with
 * defaults (wrangler.toml documents each): the longest execution, how long a
 * finished run is kept, the heartbeat that finds an interrupted execution,
 * and the webhook's timeout and retry schedule.
 */
import { parseRetrySchedule } from "./webhook";

/** Defaults: 15 minutes, 7 days, 10 seconds, 10 seconds. */
export const DEFAULT_RUN_MAX_DURATION_MS = 900_000;
export const DEFAULT_RUN_RETENTION_DAYS = 7;
export const DEFAULT_RUN_HEARTBEAT_MS = 10_000;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

const DAY_MS = 86_400_000;

/** The vars runs read. */
export interface RunVars {
  RUN_MAX_DURATION_MS?: string;
  RUN_RETENTION_DAYS?: string;
  RUN_HEARTBEAT_MS?: string;
  RUN_WEBHOOK_TIMEOUT_MS?: string;
  RUN_WEBHOOK_RETRY_SCHEDULE_MS?: string;
}

/** Resolved run settings (all ms). */
export interface RunConfig {
  maxDurationMs: number;
  retentionMs: number;
  heartbeatMs: number;
  webhookTimeoutMs: number;
  /** Wait before each retry of a failed delivery; its length bounds the attempts (one more than it). */
  webhookRetryDelaysMs: number[];
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isFinite(n) && n > 0 ? n : fallback;
}

/** Resolves the run settings; a missing or invalid value takes its default. */
export function resolveRunConfig(env: RunVars): RunConfig {
  return {
    maxDurationMs: Math.round(positive(env.RUN_MAX_DURATION_MS, DEFAULT_RUN_MAX_DURATION_MS)),
    retentionMs: Math.round(positive(env.RUN_RETENTION_DAYS, DEFAULT_RUN_RETENTION_DAYS) * DAY_MS),
    heartbeatMs: Math.round(positive(env.RUN_HEARTBEAT_MS, DEFAULT_RUN_HEARTBEAT_MS)),
    webhookTimeoutMs: Math.round(positive(env.RUN_WEBHOOK_TIMEOUT_MS, DEFAULT_WEBHOOK_TIMEOUT_MS)),
    webhookRetryDelaysMs: parseRetrySchedule(env.RUN_WEBHOOK_RETRY_SCHEDULE_MS),
  };
}
