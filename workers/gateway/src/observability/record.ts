/**
 * Records each execute request in the agents' UpstreamGuards once the
 * response is known: one RPC per agent involved, sent with `waitUntil` after
 * the response, so it never delays or fails the caller (a failure is logged
 * and dropped). A successful attempt's outcome report travels in the same
 * call (`settle`), so a served request costs the guard one background call.
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
import type { AttemptRecord, DeferredReport } from "../resilience/executor";
import type { GuardNamespace } from "../resilience/guard-client";

/** The execution timeline as the execute routes leave it. */
export interface ExecutionSummary {
  attempts: readonly AttemptRecord[];
  /** The agent routed to. */
  agent?: string;
  task?: string;
  /** Successful attempts' reports, sent here with the records (one guard call per agent). */
  deferredReports?: DeferredReport[];
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

/** Middleware for the execute routes: records the request after the response. */
export function recordRequests() {
  return createMiddleware<{ Bindings: { UPSTREAM_GUARD?: GuardNamespace } }>(async function recordRequests(c, next) {
    await next();
    const execution = c.get("execution") as ExecutionSummary | undefined;
    const namespace = c.env.UPSTREAM_GUARD;
    if (!execution || !namespace) return;
    const records = requestRecords(execution, c.res.status, elapsedMs(c.get("startedAt")));
    const reports = new Map((execution.deferredReports ?? []).map((d) => [d.agent, d.report]));
    const agents = new Set([...records.keys(), ...reports.keys()]);
    if (agents.size === 0) return;
    const logger = c.get("logger");
    const send = async (agent: string) => {
      const record = records.get(agent);
      const report = reports.get(agent);
      try {
        const stub = namespace.get(namespace.idFromName(agent));
        if (record && report) await stub.settle(report, record);
        else if (report) await stub.report(report);
        else if (record) await stub.recordRequest(record);
      } catch (err) {
        logger.warn(report ? "upstream guard report failed" : "recording request metrics failed", { agent, error: err instanceof Error ? err.message : String(err) });
      }
    };
    try {
      c.executionCtx.waitUntil(Promise.all([...agents].map(send)));
      c.get("doCalls").background += agents.size;
    } catch {
      // No execution context (a direct app.fetch without one): nothing to record with.
    }
  });
}
