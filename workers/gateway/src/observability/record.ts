/**
 * Records each execute request in the agents' UpstreamGuards once the
 * response is known: the record is queued in this isolate's holder for the
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
import { createMiddleware } from "hono/factory";
import type { RequestRecord } from "../../../../durable-objects/upstream-guard/src/types";
import { elapsedMs } from "../../../shared/http/request-context";
import type { AttemptRecord } from "../resilience/executor";
import type { GuardNamespace } from "../resilience/guard-client";
import { type IsolateLeases, flush } from "../resilience/leases";

/** The execution timeline as the execute routes leave it. */
export interface ExecutionSummary {
  attempts: readonly AttemptRecord[];
  /** The agent routed to. */
  agent?: string;
  task?: string;
}

/** The record for each agent with something to count in one request (pure): the routed agent first. */
export function requestRecords(execution: ExecutionSummary, status: number, durationMs: number): Map<string, RequestRecord> {
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

/** Middleware for the execute routes: queues the request's records after the response. */
export function recordRequests(leases: IsolateLeases) {
  return createMiddleware<{ Bindings: { UPSTREAM_GUARD?: GuardNamespace } }>(async function recordRequests(c, next) {
    await next();
    const execution = c.get("execution") as ExecutionSummary | undefined;
    const namespace = c.env.UPSTREAM_GUARD;
    if (!execution || !namespace) return;
    const at = Date.now();
    for (const [agent, record] of requestRecords(execution, c.res.status, elapsedMs(c.get("startedAt")))) {
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
  });
}
