/**
 * The tasks the gateway answers with, and how each dialect spells them.
 *
 * Every call ends before its answer, so a task is born finished: completed,
 * with one artifact holding the call's result as a data part (and the usage,
 * when the agent reported one, in the artifact's metadata), or failed, with
 * a status message whose data part is Zahara's error `{code, message,
 * status, service, request_id, details?}` and whose text part says the same
 * for a reader of text. A call's failure is thus a task, never a JSON-RPC
 * error. The task's metadata carries the call's `zahara` record: request id,
 * agent, task, served_by and duration, as `/execute` answers them.
 *
 * A {@link TaskRecord} is dialect-free: it is what the store keeps, and the
 * 1.0 (ProtoJSON: `TASK_STATE_COMPLETED`, `ROLE_AGENT`, parts `{data}`) or
 * 0.3 (`kind`, `completed`, `agent`, parts `{kind: "data"}`) shape is made
 * only when answering, so a task sent in one dialect can be read in the other.
 */
import { ZaharaError } from "../../../../shared/errors";
import type { CallResult } from "../../calls/run-call";
import { type Dialect, A2A_VERSION } from "./wire";
import { isJsonObject } from "../../../../shared/json-object";

/** Zahara's error, as a failed task carries it. */
export interface TaskError {
  code: string;
  message: string;
  status: number;
  service: string;
  request_id: string;
  details?: Record<string, unknown>;
  /** Seconds the caller should wait before trying again (the `Retry-After` `/execute` would send). */
  retry_after_s?: number;
}

/** What `/execute` answers besides the result, kept in the task's metadata. */
export interface CallRecord {
  request_id: string;
  agent: string;
  task: string;
  served_by?: string;
  duration_ms?: number;
  /** The agent replayed a stored answer (same `Idempotency-Key` and body). */
  replayed?: true;
  /** False when the result was too large to keep: `GetTask` then returns the task without its artifact. */
  result_kept?: false;
}

/** One task, dialect-free. */
export interface TaskRecord {
  id: string;
  contextId: string;
  state: "completed" | "failed";
  /** ISO 8601 time the task ended. */
  timestamp: string;
  /** A completed task's result (absent once dropped from a stored task too large to keep). */
  result?: { value: unknown; usage?: unknown };
  /** A failed task's error. */
  error?: TaskError;
  zahara: CallRecord;
}

/** Identity of a new task: its id and context (the message's, else a new one). */
export interface TaskIdentity {
  id: string;
  contextId: string;
}

/** The completed task of a served call. */
export function completedTask(identity: TaskIdentity, out: CallResult, requestId: string): TaskRecord {
  return {
    ...identity,
    state: "completed",
    timestamp: new Date().toISOString(),
    result: { value: out.result, ...(out.usage !== undefined ? { usage: out.usage } : {}) },
    zahara: {
      request_id: requestId,
      agent: out.agent,
      task: out.task,
      served_by: out.servedBy,
      duration_ms: out.durationMs,
      ...(out.replayed ? { replayed: true as const } : {}),
    },
  };
}

/** The failed task of a call that threw `err` (anything but a {@link ZaharaError} is an internal error). */
export function failedTask(
  identity: TaskIdentity,
  err: unknown,
  call: { agent: string; task: string },
  requestId: string,
  service: string,
): TaskRecord {
  const zerr = err instanceof ZaharaError ? err : new ZaharaError("INTERNAL_ERROR");
  const retryAfter = Number(zerr.headers["Retry-After"]);
  const error: TaskError = {
    code: zerr.code,
    message: zerr.message,
    status: zerr.status,
    service: zerr.service ?? service,
    request_id: zerr.requestId ?? requestId,
    ...(zerr.details !== undefined ? { details: zerr.details } : {}),
    ...(Number.isSafeInteger(retryAfter) && retryAfter >= 0 ? { retry_after_s: retryAfter } : {}),
  };
  return {
    ...identity,
    state: "failed",
    timestamp: new Date().toISOString(),
    error,
    zahara: { request_id: requestId, ...call },
  };
}

/** Metadata of a task (both dialects). */
function metadataOf(task: TaskRecord) {
  return { zahara: task.zahara };
}

/** The status message of a failed task, as parts in `dialect`. */
function errorParts(error: TaskError, dialect: Dialect): Record<string, unknown>[] {
  const text = `${error.code}: ${error.message} (request ${error.request_id})`;
  return dialect === A2A_VERSION
    ? [
        { text, mediaType: "text/plain" },
        { data: error, mediaType: "application/json" },
      ]
    : [
        { kind: "text", text },
        { kind: "data", data: error },
      ];
}

/** A 0.3 data part: an object as is; any other JSON value wrapped as `{value}` and flagged, as the SDK does. */
function legacyDataPart(value: unknown): Record<string, unknown> {
  return isJsonObject(value)
    ? { kind: "data", data: value }
    : { kind: "data", data: { value }, metadata: { data_part_compat: true } };
}

/** `task` in A2A 1.0's JSON (ProtoJSON of `lf.a2a.v1.Task`). */
export function taskV1(task: TaskRecord): Record<string, unknown> {
  const status: Record<string, unknown> = {
    state: task.state === "completed" ? "TASK_STATE_COMPLETED" : "TASK_STATE_FAILED",
    timestamp: task.timestamp,
  };
  if (task.error) {
    status.message = {
      messageId: `${task.id}-status`,
      contextId: task.contextId,
      taskId: task.id,
      role: "ROLE_AGENT",
      parts: errorParts(task.error, A2A_VERSION),
    };
  }
  const out: Record<string, unknown> = { id: task.id, contextId: task.contextId, status };
  if (task.result) {
    out.artifacts = [
      {
        artifactId: "result",
        name: "result",
        parts: [{ data: task.result.value, mediaType: "application/json" }],
        ...(task.result.usage !== undefined ? { metadata: { usage: task.result.usage } } : {}),
      },
    ];
  }
  out.metadata = metadataOf(task);
  return out;
}

/** `task` in A2A 0.3's JSON. */
export function taskV03(task: TaskRecord): Record<string, unknown> {
  const status: Record<string, unknown> = { state: task.state, timestamp: task.timestamp };
  if (task.error) {
    status.message = {
      kind: "message",
      messageId: `${task.id}-status`,
      contextId: task.contextId,
      taskId: task.id,
      role: "agent",
      parts: errorParts(task.error, "0.3"),
    };
  }
  const out: Record<string, unknown> = { kind: "task", id: task.id, contextId: task.contextId, status };
  if (task.result) {
    out.artifacts = [
      {
        artifactId: "result",
        name: "result",
        parts: [legacyDataPart(task.result.value)],
        ...(task.result.usage !== undefined ? { metadata: { usage: task.result.usage } } : {}),
      },
    ];
  }
  out.metadata = metadataOf(task);
  return out;
}

/** `task` in `dialect`. */
export function taskIn(dialect: Dialect, task: TaskRecord): Record<string, unknown> {
  return dialect === A2A_VERSION ? taskV1(task) : taskV03(task);
}
