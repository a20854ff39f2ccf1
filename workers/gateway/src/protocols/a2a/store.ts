/**
 * The tasks the gateway answered, kept so their sender can get them back
 * (`GetTask`): in the request log's D1 database (`REQUEST_LOG`, table
 * `a2a_tasks`, migrations/request-log/0005_a2a_tasks.sql), one row per task,
 * keyed by the task id and readable only by the principal that sent it, on
 * the agent it was sent to.
 *
 * A task is kept as long as an agent's idempotency store keeps an answer
 * (24 h, `IDEMPOTENCY_TTL_MS`), and at most 256 KiB of it (the idempotency
 * store's bound too): a larger task is kept without its result, and says so.
 * Each write also deletes a bounded batch of expired rows, so the table holds
 * about a day of tasks with no cron; a read never returns an expired one.
 *
 * The store is never a dependency of the call: a write that fails or takes
 * longer than {@link WRITE_TIMEOUT_MS} is logged and the answer is sent (the
 * task is then not found later); without the binding nothing is kept.
 */
import type { Logger } from "../../../../shared/logger";
import { withTimeout } from "../../../../shared/timeout";
import { IDEMPOTENCY_TTL_MS, MAX_STORED_BODY_BYTES } from "../../../../../durable-objects/idempotency-store/src/record";
import type { TaskRecord } from "./tasks";

/** How long a task is kept (the idempotency store's retention). */
export const TASK_TTL_MS = IDEMPOTENCY_TTL_MS;

/** Largest task kept whole, in UTF-8 bytes of its JSON. */
export const MAX_STORED_TASK_BYTES = MAX_STORED_BODY_BYTES;

/** Expired rows each write deletes, at most. */
export const PURGE_PER_WRITE = 50;

/** How long a write may take before the answer goes without it. */
export const WRITE_TIMEOUT_MS = 2_000;

/** Who may read a task back: the principal that sent it, on the agent it was sent to. */
export interface TaskOwner {
  principalId: string;
  agent: string;
}

/** The JSON kept for `task`: whole, or without its result when over {@link MAX_STORED_TASK_BYTES}. */
export function storedJson(task: TaskRecord): string {
  const whole = JSON.stringify(task);
  if (new TextEncoder().encode(whole).byteLength <= MAX_STORED_TASK_BYTES) return whole;
  const { result: _dropped, ...rest } = task;
  return JSON.stringify({ ...rest, zahara: { ...task.zahara, result_kept: false } });
}

function isTaskRecord(value: unknown): value is TaskRecord {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Partial<TaskRecord>;
  return (
    typeof t.id === "string" &&
    typeof t.contextId === "string" &&
    (t.state === "completed" || t.state === "failed") &&
    typeof t.zahara === "object"
  );
}

/** The D1 store of answered tasks. */
export class TaskStore {
  constructor(
    private readonly db: D1Database,
    private readonly logger: Logger,
  ) {}

  /** Keeps `task` for `owner` (best effort: see the file comment). */
  async save(owner: TaskOwner, task: TaskRecord, now = Date.now()): Promise<void> {
    const db = this.db;
    const write = db.batch([
      db
        .prepare(
          "DELETE FROM a2a_tasks WHERE task_id IN (SELECT task_id FROM a2a_tasks WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
        )
        .bind(now, PURGE_PER_WRITE),
      db
        .prepare(
          "INSERT INTO a2a_tasks (task_id, principal_id, agent, created_at, expires_at, task) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(task.id, owner.principalId, owner.agent, now, now + TASK_TTL_MS, storedJson(task)),
    ]);
    try {
      await withTimeout(write, WRITE_TIMEOUT_MS, `a2a task write timed out after ${WRITE_TIMEOUT_MS} ms`);
    } catch (err) {
      this.logger.warn("a2a task not kept", {
        task_id: task.id,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
  }

  /** The task `id` if `owner` sent it and it has not expired; null otherwise. Throws when D1 fails. */
  async load(owner: TaskOwner, id: string, now = Date.now()): Promise<TaskRecord | null> {
    const row = await this.db
      .prepare("SELECT task FROM a2a_tasks WHERE task_id = ?1 AND principal_id = ?2 AND agent = ?3 AND expires_at > ?4")
      .bind(id, owner.principalId, owner.agent, now)
      .first<{ task: string }>();
    if (!row) return null;
    try {
      const task: unknown = JSON.parse(row.task);
      return isTaskRecord(task) ? task : null;
    } catch {
      return null;
    }
  }
}
