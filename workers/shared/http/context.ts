/**
 * Typed per-request context shared by every Zahara Hono app: augmenting
 * Hono's `ContextVariableMap` makes `c.get("requestId")` typed everywhere.
 */
import type { LogFields, Logger } from "../logger";

declare module "hono" {
  interface ContextVariableMap {
    /** The request id (caller's if valid, else a fresh UUIDv4). */
    requestId: string;
    /** True when the request id was generated here (the caller sent none, or an invalid one). */
    requestIdGenerated: boolean;
    /** `Date.now()` when the request entered the Worker. */
    startedAt: number;
    /** Request-scoped structured logger (already carries `request_id`). */
    logger: Logger;
    /** This Worker's service name, used in error bodies and logs. */
    service: string;
    /** Fields handlers add to the per-request log line (agent, task, ...). */
    logFields: LogFields;
    /** Machine code of the error response, once one is rendered (for the request log). */
    errorCode?: string;
    /** Durable Object calls this request made (logged with the request). */
    doCalls: DurableObjectCalls;
  }
}

/**
 * Durable Object round trips of one request, counted where they are made:
 * `awaited` ones delay the answer (the hot path), `background` ones run in
 * `waitUntil` after it. The request's log line carries both.
 */
export interface DurableObjectCalls {
  awaited: number;
  background: number;
}

/** Bindings every Zahara Worker understands (all optional). */
export interface BaseBindings {
  LOG_LEVEL?: string;
}
