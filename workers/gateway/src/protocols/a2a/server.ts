/**
 * The A2A methods one agent's endpoint serves, in 1.0 and 0.3 names:
 *
 * - `SendMessage` / `message/send`: the message's call (messages.ts) runs
 *   through calls/run-call.ts like `/execute` (scopes, admission, retries,
 *   deadline, fallbacks, request log, traces, metrics) and is answered with
 *   its task (tasks.ts): completed, or failed carrying Zahara's error. A
 *   message naming an existing task (`taskId`) cannot continue it: every
 *   task here is finished, so that is UnsupportedOperation (-32004), or
 *   TaskNotFound (-32001) when the caller has no such task.
 * - `GetTask` / `tasks/get`: a task this endpoint answered the same
 *   principal, while kept (store.ts); anything else is TaskNotFound.
 * - `CancelTask` / `tasks/cancel`: a finished task cannot be canceled:
 *   TaskNotCancelable (-32002), or TaskNotFound.
 * - Streaming and resubscription: UnsupportedOperation; push notification
 *   configs: PushNotificationNotSupported (-32003); `ListTasks`:
 *   UnsupportedOperation; the extended card: ExtendedAgentCardNotConfigured
 *   (-32007), as the card announces. Any other method: -32601.
 */
import type { AgentInfo } from "../../../../shared/agents";
import { ZaharaError } from "../../../../shared/errors";
import { REPLAYED_HEADER } from "../../../../shared/idempotency-headers";
import { type CallDeps, type GatewayContext, runCall } from "../../calls/run-call";
import { rateLimitHeadersOf } from "../../resilience/rejections";
import { JsonRpcError, type JsonRpcRequest, RPC, paramsObject } from "../jsonrpc";
import { callOf, parseSendParams, parseTaskId } from "./messages";
import type { TaskOwner, TaskStore } from "./store";
import { type TaskRecord, completedTask, failedTask, taskIn } from "./tasks";
import { type Dialect, A2A_VERSION, a2aError, methodOf } from "./wire";

/** What answering one A2A request needs. */
export interface A2ASession {
  c: GatewayContext;
  deps: CallDeps;
  agent: AgentInfo;
  /** Where answered tasks are kept; undefined without the D1 binding (nothing is kept). */
  store: TaskStore | undefined;
  /** The caller's `Idempotency-Key`, passed to the call. */
  idempotencyKey?: string;
}

/** Answers one A2A request (its `result`); throws a {@link JsonRpcError} for a protocol mistake. */
export async function handleA2ARequest(session: A2ASession, request: JsonRpcRequest): Promise<unknown> {
  const method = methodOf(request.method);
  if (!method) throw new JsonRpcError(RPC.METHOD_NOT_FOUND, `Method not found: ${request.method.slice(0, 64)}`);
  switch (method.kind) {
    case "send":
      return sendMessage(session, method.dialect, paramsObject(request));
    case "get":
      return getTask(session, method.dialect, paramsObject(request));
    case "cancel":
      return cancelTask(session, paramsObject(request));
    case "stream":
      throw a2aError(
        "UNSUPPORTED_OPERATION",
        `Streaming is not supported: ${request.method} (send the message with ${method.dialect === A2A_VERSION ? "SendMessage" : "message/send"})`,
      );
    case "push":
      throw a2aError(
        "PUSH_NOTIFICATION_NOT_SUPPORTED",
        "Push notifications are not supported: every task is finished when answered",
      );
    case "list":
      throw a2aError("UNSUPPORTED_OPERATION", "ListTasks is not supported: get a task by its id");
    case "extended-card":
      throw a2aError(
        "EXTENDED_CARD_NOT_CONFIGURED",
        "This agent has no extended card: its public card is the whole card",
      );
  }
}

function ownerOf(session: A2ASession): TaskOwner {
  return { principalId: session.c.get("principal").id, agent: session.agent.name };
}

/** The caller's task `id`, or null (no store, or not found); a store failure is an internal error. */
async function findTask(session: A2ASession, id: string): Promise<TaskRecord | null> {
  if (!session.store) return null;
  try {
    return await session.store.load(ownerOf(session), id);
  } catch (err) {
    session.c.get("logger").error("a2a task store read failed", {
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    throw new JsonRpcError(RPC.INTERNAL_ERROR, "Internal error: the task store is unavailable; try again later");
  }
}

function notFound(id: string): JsonRpcError {
  return a2aError("TASK_NOT_FOUND", `Task not found: ${id.slice(0, 64)}`);
}

async function sendMessage(session: A2ASession, dialect: Dialect, params: Record<string, unknown>): Promise<unknown> {
  const { c, deps, agent } = session;
  const message = parseSendParams(dialect, params);
  if (message.taskId !== undefined) {
    const existing = await findTask(session, message.taskId);
    if (!existing) throw notFound(message.taskId);
    throw a2aError(
      "UNSUPPORTED_OPERATION",
      `Task ${existing.id} is ${existing.state} and cannot be continued: send a new message without taskId`,
    );
  }
  const call = callOf(agent, message);
  const identity = { id: crypto.randomUUID(), contextId: message.contextId ?? crypto.randomUUID() };
  const requestId = c.get("requestId");
  let task: TaskRecord;
  try {
    const out = await runCall(c, deps, {
      task: call.task,
      parameters: call.parameters,
      agent: agent.name,
      protocol: "a2a",
      ...(session.idempotencyKey !== undefined ? { idempotencyKey: session.idempotencyKey } : {}),
    });
    for (const [name, value] of Object.entries(rateLimitHeadersOf(out.rateLimit))) c.header(name, value);
    if (out.replayed) c.header(REPLAYED_HEADER, "true");
    task = completedTask(identity, out, requestId);
  } catch (err) {
    if (!(err instanceof ZaharaError)) {
      c.get("logger").error("a2a call failed unexpectedly", {
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
    task = failedTask(identity, err, { agent: agent.name, task: call.task }, requestId, c.get("service"));
  }
  await session.store?.save(ownerOf(session), task);
  return dialect === A2A_VERSION ? { task: taskIn(dialect, task) } : taskIn(dialect, task);
}

async function getTask(session: A2ASession, dialect: Dialect, params: Record<string, unknown>): Promise<unknown> {
  const id = parseTaskId(params);
  const task = await findTask(session, id);
  if (!task) throw notFound(id);
  return taskIn(dialect, task);
}

async function cancelTask(session: A2ASession, params: Record<string, unknown>): Promise<unknown> {
  const id = parseTaskId(params);
  const task = await findTask(session, id);
  if (!task) throw notFound(id);
  throw a2aError("TASK_NOT_CANCELABLE", `Task ${task.id} is ${task.state} and cannot be canceled`);
}
