/**
 * The rules of one long-running run, as pure functions over its stored record:
 * create, start an execution, finish it, cancel, record a webhook delivery,
 * and when the run's Durable Object should next wake. Every function takes
 * `now` and returns a new record, so the Durable Object (run-object.ts) is a
 * thin shell that loads, decides, saves and acts, and a test can play any
 * interleaving (cancel racing completion, a restart mid-execution) without a
 * runtime.
 *
 * Exactly one final state: once `succeeded`, `failed` or `cancelled`, no
 * function changes the status, the result or the error again. An execution
 * that finishes after a cancel is dropped. An execution is "in flight" from
 * {@link startExecution} until {@link finishExecution}; a record still in
 * flight when its object wakes without one running was interrupted (a restart),
 * and the next execution resumes it with the same agent idempotency key;
 * while the agent still holds that key it answers 409, and the execution is
 * tried again ({@link deferExecution}) until the key is free or the deadline.
 * Types only from elsewhere: this file imports no Workers types.
 */
import type { Principal } from "../auth/principal";
import { FINAL_STATUSES, type RunError, type RunStatus, type RunView, type WebhookDelivery } from "./types";

/** Version of the stored record; a record of another version is not restored. */
export const RUN_RECORD_VERSION = 1;

/**
 * The largest result a run keeps, as JSON text (512 KiB): with its parameters (at most `MAX_BODY_BYTES`) the
 * record stays within a Durable Object value. A larger result fails the run with 502 `UPSTREAM_FAILED`.
 */
export const MAX_RESULT_BYTES = 512 * 1024;

/** How many times a run may start executing (the first time, then resumptions after interruptions). */
export const MAX_EXECUTIONS = 3;

/** What a run was asked to do, fixed at creation. */
export interface RunInput {
  runId: string;
  agent: string;
  task: string;
  parameters: Record<string, unknown>;
  /** The creator: the only caller (with admins) who may read or cancel it; the execution's scopes. */
  principal: Principal;
  /** The creating request's id: the run's execution is logged under it too. */
  requestId: string;
  /** The longest the run may execute, in ms (the manifest's timeoutSeconds up to the gateway's maximum). */
  timeoutMs: number;
  callbackUrl?: string;
  /** SHA-256 of the creating body, when the creator sent an Idempotency-Key. */
  bodyHash?: string;
}

/** A webhook's progress. */
export interface CallbackRecord {
  url: string;
  state: "pending" | "delivered" | "failed";
  deliveries: WebhookDelivery[];
  /** Epoch ms of the next delivery attempt, while one is due. */
  nextAttemptAt?: number;
}

/** The stored run (a versioned snapshot). */
export interface RunRecord extends Omit<RunInput, "callbackUrl"> {
  v: typeof RUN_RECORD_VERSION;
  status: RunStatus;
  /** Epoch ms. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Executions started so far. */
  executions: number;
  /** Agent attempts made so far, across executions. */
  attempts: number;
  /** Set while an execution is in flight: when it started (epoch ms). */
  inFlightSince?: number;
  /** Epoch ms after which the run fails (fixed when it first starts). */
  deadlineAt?: number;
  /**
   * Set when a resumed execution found the agent still holding the run's idempotency key (an interrupted
   * execution's call may still be running there): the next try, at this epoch ms, is the same execution.
   */
  retryAt?: number;
  result?: unknown;
  usage?: unknown;
  servedBy?: string;
  error?: RunError;
  callback?: CallbackRecord;
  /** Bumped on every change: the id of the change's event on `/events`. */
  seq: number;
}

/** How one execution ended. */
export type ExecutionOutcome =
  | { ok: true; attempts: number; result: unknown; usage?: unknown; servedBy: string }
  | { ok: false; attempts: number; error: RunError };

/** True for `succeeded`, `failed` and `cancelled`. */
export function isFinal(status: RunStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** A new queued run. */
export function newRun(input: RunInput, now: number): RunRecord {
  const { callbackUrl, ...rest } = input;
  return {
    ...rest,
    v: RUN_RECORD_VERSION,
    status: "queued",
    createdAt: now,
    executions: 0,
    attempts: 0,
    seq: 1,
    ...(callbackUrl !== undefined ? { callback: { url: callbackUrl, state: "pending", deliveries: [] } } : {}),
  };
}

/** A stored value as a record, or null when it is missing or of another version. */
export function restoreRun(stored: unknown): RunRecord | null {
  if (typeof stored !== "object" || stored === null) return null;
  return (stored as { v?: unknown }).v === RUN_RECORD_VERSION ? (stored as RunRecord) : null;
}

/** Why {@link startExecution} will not start one. */
export type StartDecision =
  { start: true; record: RunRecord; remainingMs: number; resumed: boolean } | { start: false; record: RunRecord };

/**
 * Starts an execution of a queued run, or resumes an interrupted one (in flight, none running). A run past
 * its deadline or out of executions fails instead, with `UPSTREAM_TIMEOUT` or `UPSTREAM_FAILED`.
 */
export function startExecution(r: RunRecord, now: number): StartDecision {
  if (isFinal(r.status)) return { start: false, record: r };
  const waited = r.retryAt !== undefined;
  const resumed = r.inFlightSince !== undefined || waited;
  const deadlineAt = r.deadlineAt ?? now + r.timeoutMs;
  if (now >= deadlineAt) {
    return {
      start: false,
      record: fail(r, now, "UPSTREAM_TIMEOUT", 504, `The run did not finish within ${r.timeoutMs} ms`),
    };
  }
  if (r.executions >= MAX_EXECUTIONS && !waited) {
    const message = `The run was interrupted ${r.executions} times and was not started again`;
    return { start: false, record: fail(r, now, "UPSTREAM_FAILED", 502, message) };
  }
  const record: RunRecord = {
    ...r,
    status: "running",
    startedAt: r.startedAt ?? now,
    deadlineAt,
    executions: waited ? r.executions : r.executions + 1,
    inFlightSince: now,
    seq: r.seq + 1,
  };
  delete record.retryAt;
  return { start: true, record, remainingMs: deadlineAt - now, resumed };
}

/** Ends the execution in flight with `outcome`; a run already final (cancelled meanwhile) keeps its state. */
export function finishExecution(r: RunRecord, outcome: ExecutionOutcome, now: number): RunRecord {
  if (isFinal(r.status)) return r;
  if (outcome.ok && new TextEncoder().encode(JSON.stringify(outcome.result) ?? "").byteLength > MAX_RESULT_BYTES) {
    const message = `The agent's result is larger than the ${MAX_RESULT_BYTES} bytes a run keeps`;
    const error: RunError = {
      error: message,
      code: "UPSTREAM_FAILED",
      status: 502,
      request_id: r.requestId,
      details: { max_result_bytes: MAX_RESULT_BYTES },
    };
    return finishExecution(r, { ok: false, attempts: outcome.attempts, error }, now);
  }
  const base = { ...r, attempts: r.attempts + outcome.attempts, finishedAt: now, seq: r.seq + 1 };
  delete base.inFlightSince;
  delete base.retryAt;
  const record: RunRecord = outcome.ok
    ? {
        ...base,
        status: "succeeded",
        result: outcome.result,
        servedBy: outcome.servedBy,
        ...(outcome.usage !== undefined ? { usage: outcome.usage } : {}),
      }
    : { ...base, status: "failed", error: outcome.error };
  return withDeliveryDue(record, now);
}

/**
 * Ends the execution in flight without an outcome: the agent answered that the run's idempotency key is still
 * held (409 `IDEMPOTENCY_IN_PROGRESS`: an interrupted execution's call is running there, or its claim has not
 * lapsed yet), so the same execution is tried again after `delayMs`, within the run's deadline.
 */
export function deferExecution(r: RunRecord, attempts: number, now: number, delayMs: number): RunRecord {
  if (isFinal(r.status)) return r;
  const record: RunRecord = { ...r, attempts: r.attempts + attempts, retryAt: now + delayMs, seq: r.seq + 1 };
  delete record.inFlightSince;
  return record;
}

/** The result of {@link cancelRun}. */
export type CancelDecision =
  { cancelled: true; record: RunRecord; wasRunning: boolean } | { cancelled: false; record: RunRecord };

/** Cancels a queued or running run (an execution in flight is to be aborted); a final run is left as it is. */
export function cancelRun(r: RunRecord, now: number, requestId: string): CancelDecision {
  if (isFinal(r.status)) return { cancelled: false, record: r };
  const wasRunning = r.status === "running";
  const error: RunError = { error: "The run was cancelled", code: "RUN_CANCELLED", status: 409, request_id: requestId };
  const record: RunRecord = { ...r, status: "cancelled", finishedAt: now, error, seq: r.seq + 1 };
  delete record.inFlightSince;
  delete record.retryAt;
  return { cancelled: true, record: withDeliveryDue(record, now), wasRunning };
}

function fail(r: RunRecord, now: number, code: string, status: number, message: string): RunRecord {
  const record: RunRecord = {
    ...r,
    status: "failed",
    finishedAt: now,
    error: { error: message, code, status, request_id: r.requestId },
    seq: r.seq + 1,
  };
  delete record.inFlightSince;
  delete record.retryAt;
  return withDeliveryDue(record, now);
}

/** A final run with a callback has its first delivery due now. */
function withDeliveryDue(r: RunRecord, now: number): RunRecord {
  return r.callback && r.callback.state === "pending" ? { ...r, callback: { ...r.callback, nextAttemptAt: now } } : r;
}

/**
 * Records a delivery attempt. A 2xx ends the webhook `delivered`; a failure schedules the next attempt after
 * `retryDelaysMs[attempt - 1]`, or ends it `failed` when the schedule is used up.
 */
export function recordDelivery(
  r: RunRecord,
  delivery: WebhookDelivery,
  retryDelaysMs: readonly number[],
  now: number,
): RunRecord {
  if (!r.callback || r.callback.state !== "pending") return r;
  const deliveries = [...r.callback.deliveries, delivery];
  const delay = retryDelaysMs[delivery.attempt - 1];
  const callback: CallbackRecord = delivery.ok
    ? { url: r.callback.url, state: "delivered", deliveries }
    : delay === undefined
      ? { url: r.callback.url, state: "failed", deliveries }
      : { url: r.callback.url, state: "pending", deliveries, nextAttemptAt: now + delay };
  return { ...r, callback, seq: r.seq + 1 };
}

/** A delivery is due: the run is final and its webhook's next attempt time has come. */
export function deliveryDue(r: RunRecord, now: number): boolean {
  return (
    isFinal(r.status) &&
    r.callback?.state === "pending" &&
    r.callback.nextAttemptAt !== undefined &&
    r.callback.nextAttemptAt <= now
  );
}

/** The run's record may be deleted: it ended more than `retentionMs` ago. */
export function expired(r: RunRecord, now: number, retentionMs: number): boolean {
  return isFinal(r.status) && r.finishedAt !== undefined && now >= r.finishedAt + retentionMs;
}

/**
 * When the run's object should next wake (epoch ms), or undefined for never: a queued run at once; a running
 * one after `heartbeatMs` (to find an interrupted execution); a final one for its next webhook delivery, then
 * at the end of its retention.
 */
export function nextWake(
  r: RunRecord,
  now: number,
  settings: { heartbeatMs: number; retentionMs: number },
): number | undefined {
  if (r.status === "queued") return now;
  if (r.status === "running")
    return r.inFlightSince === undefined && r.retryAt !== undefined ? r.retryAt : now + settings.heartbeatMs;
  const retention = (r.finishedAt ?? now) + settings.retentionMs;
  const delivery = r.callback?.state === "pending" ? r.callback.nextAttemptAt : undefined;
  return delivery !== undefined ? Math.min(delivery, retention) : retention;
}

/** The run as the API shows it. `withResult: false` leaves the result out (the list). */
export function toView(r: RunRecord, options: { withResult?: boolean } = {}): RunView {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const view: RunView = {
    run_id: r.runId,
    agent: r.agent,
    task: r.task,
    status: r.status,
    attempts: r.attempts,
    created_at: new Date(r.createdAt).toISOString(),
    request_id: r.requestId,
    status_url: `/v1/runs/${r.runId}`,
  };
  if (r.startedAt !== undefined) view.started_at = iso(r.startedAt);
  if (r.finishedAt !== undefined) view.finished_at = iso(r.finishedAt);
  if (r.status === "succeeded" && options.withResult !== false) view.result = r.result;
  if (r.usage !== undefined) view.usage = r.usage;
  if (r.servedBy !== undefined) view.served_by = r.servedBy;
  if (r.error !== undefined) view.error = r.error;
  if (r.callback) view.callback = { url: r.callback.url, state: r.callback.state, deliveries: r.callback.deliveries };
  return view;
}
