/**
 * Records each call (an execute request, an MCP or A2A call) in the agents'
 * UpstreamGuards once the response is known: the record is queued in this isolate's holder for the
 * agent (resilience/leases.ts) and travels with its next exchange, batched
 * with other requests' records and outcomes, in the background, so it never
 * delays or fails the caller (a failed exchange is logged and dropped).
 *
 * Attribution: the request itself (final HTTP status to the caller, whole
 * duration) counts for the agent it was routed to, even when a fallback
 * served it, matching the response's `agent` field. Retries and refusals
 * count for the agent they happened on (a fallback's guard gets a record
 * with no outcome). Requests refused before reaching the executor (bad body,
 * unknown task, 401) are not agent traffic and are not recorded.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { RequestRecord } from "../../../../durable-objects/upstream-guard/src/types";
import { elapsedMs } from "../../../shared/http/request-context";
import type { AttemptRecord } from "../resilience/executor";
import type { GuardNamespace } from "../resilience/guard-client";
import { type IsolateLeases, flush } from "../resilience/leases";

/** The execution timeline as a call leaves it (calls/summary.ts). */
export interface ExecutionSummary {
  attempts: readonly AttemptRecord[];
  /** The agent routed to. */
  agent?: string;
  task?: string;
}

/** The record for each agent with something to count in one request (pure): the routed agent first. */
export function requestRecords(
  execution: ExecutionSummary,
  status: number,
  durationMs: number,
): Map<string, RequestRecord> {
  const records = new Map<string, RequestRecord>();
  if (execution.agent === undefined || execution.task === undefined) return records;
  const capability = execution.task;
  records.set(execution.agent, { capability, outcome: { status, durationMs }, retries: 0 });
  for (const a of execution.attempts) {
    let record = records.get(a.agent);
    if (!record) {
      record = { capability, retries: 0 };
      records.set(a.agent, record);
    }
    if (a.admission === "admitted" || a.admission === "guard_unavailable") {
      if (a.attempt > 1) record.retries += 1;
    } else {
      record.rejection = a.admission;
    }
  }
  // A fallback that was never tried has nothing to count.
  for (const [agent, r] of records) if (!r.outcome && r.retries === 0 && !r.rejection) records.delete(agent);
  return records;
}

/**
 * Middleware for the routes that make calls: queues each call's records after the response. A call counts
 * with the status `/execute` answers for it (a protocol's HTTP answer is 200 whatever happened inside).
 */
export function recordRequests(leases: IsolateLeases) {
  return createMiddleware<{ Bindings: { UPSTREAM_GUARD?: GuardNamespace } }>(async function recordRequests(c, next) {
    await next();
    const namespace = c.env.UPSTREAM_GUARD;
    if (!namespace) return;
    const record = () => {
      const at = Date.now();
      const only = c.get("calls")?.length === 1;
      for (const call of c.get("calls") ?? []) {
        // The status the call ended with (a protocol's or a stream's HTTP answer was 200 either way); one call in
        // the request takes the whole duration, as the caller saw it.
        const status = call.status ?? c.res.status;
        const durationMs = only ? elapsedMs(c.get("startedAt")) : (call.durationMs ?? elapsedMs(call.startedAt));
        recordCall(c, leases, namespace, at, requestRecords(call, status, durationMs));
      }
    };
    const settled = c.get("callsSettled");
    // A streamed answer is recorded as it ended.
    if (settled) afterResponse(c, settled.then(record));
    else record();
  });
}

function afterResponse(c: Context, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (a direct app.fetch without one): the work runs unawaited.
  }
}

/** Queues `records` in this isolate's holders for their agents and lets each flush when due. */
function recordCall(
  c: Context,
  leases: IsolateLeases,
  namespace: GuardNamespace,
  at: number,
  records: Map<string, RequestRecord>,
) {
  for (const [agent, record] of records) {
    const config = leases.configOf(agent);
    if (!config) continue; // no attempt reached this agent's guard from this isolate yet
    const holder = leases.of(agent, config, config.leaseTtlMs);
    holder.record(at, record);
    try {
      const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
      flush({ namespace, agent, config, waitUntil, logger: c.get("logger"), calls: c.get("doCalls") }, holder);
    } catch {
      // No execution context (a direct app.fetch without one): the record waits for the next request.
    }
  }
}
