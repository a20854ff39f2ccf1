/**
 * The gateway's side of the {@link UpstreamGuard} Durable Object: one
 * admission round trip per attempt, bounded in time, and outcome reports
 * sent after the response.
 *
 * Failure direction: if the guard cannot answer (Durable Object overloaded,
 * restarting or unreachable) within {@link ADMIT_TIMEOUT_MS}, the attempt is
 * admitted **open** — the agent is called without the guard — but the
 * request gets no retries, because the breaker and retry budget that would
 * bound them are unknown. Reason: the guard protects agents from overload;
 * an outage of the guard itself must not become an outage of every agent,
 * and without retries the agent sees at most the traffic callers send.
 */
import type { UpstreamGuard } from "../../../../durable-objects/upstream-guard/src";
import type { AdmitRequest, AdmitResult, ReportRequest } from "../../../../durable-objects/upstream-guard/src/types";
import type { DurableObjectCalls } from "../../../shared/http/context";
import type { Logger } from "../../../shared/logger";
import { TimeoutError, withTimeout } from "../../../shared/timeout";

/** Longest wait for an admission decision before failing open. */
export const ADMIT_TIMEOUT_MS = 1000;

/** Admission when the guard could not answer. */
export interface GuardUnavailable {
  unavailable: true;
  reason: "timeout" | "overloaded" | "error";
}

/** Talks to one agent's guard. */
export interface GuardClient {
  admit(request: AdmitRequest, timeoutMs: number): Promise<AdmitResult | GuardUnavailable>;
  /** Never rejects: a failed report is logged and dropped. */
  report(request: ReportRequest): Promise<void>;
}

/** The namespace binding of the guard. */
export type GuardNamespace = DurableObjectNamespace<UpstreamGuard>;

function unavailableReason(err: unknown): GuardUnavailable["reason"] {
  return typeof err === "object" && err !== null && (err as { overloaded?: unknown }).overloaded === true ? "overloaded" : "error";
}

/** Creates the client for `agent`'s guard (one stub, reused across attempts); `calls` counts its round trips. */
export function guardClient(namespace: GuardNamespace, agent: string, logger: Logger, calls?: DurableObjectCalls): GuardClient {
  const stub = namespace.get(namespace.idFromName(agent));
  return {
    async admit(request, timeoutMs) {
      if (calls) calls.awaited++;
      try {
        return await withTimeout(stub.admit(request) as Promise<AdmitResult>, Math.max(1, Math.min(timeoutMs, ADMIT_TIMEOUT_MS)));
      } catch (err) {
        if (err instanceof TimeoutError) {
          logger.warn("upstream guard admission timed out; failing open", { agent });
          return { unavailable: true, reason: "timeout" };
        }
        logger.warn("upstream guard admission failed; failing open", { agent, error: err instanceof Error ? err.message : String(err) });
        return { unavailable: true, reason: unavailableReason(err) };
      }
    },
    async report(request) {
      if (calls) calls.background++;
      try {
        await stub.report(request);
      } catch (err) {
        logger.warn("upstream guard report failed", { agent, error: err instanceof Error ? err.message : String(err) });
      }
    },
  };
}
