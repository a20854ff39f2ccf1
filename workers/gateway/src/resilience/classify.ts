/**
 * What an attempt's result means for the breaker and for retrying.
 *
 * The breaker is shared by every caller of an agent, so it counts only
 * evidence the agent is responsible for: its own 5xx (unless it marked the
 * error as the caller's or as a setting, see `ErrorFault`), an answer over
 * `MAX_RESPONSE_BYTES`, a connection failure, and a timeout of an attempt
 * that had at least the evidence floor to answer in ({@link timeoutFloorMs}).
 * A deadline a caller shortened with `X-Timeout-Ms` below that floor, or the
 * last sliver of a deadline left after retries, is nobody's evidence. An
 * agent 4xx and a caller cancellation are neutral (the agent is healthy, the
 * request was bad or abandoned).
 */
import type { AttemptOutcome } from "../../../../durable-objects/upstream-guard/src/types";
import type { AttemptResult } from "../dispatch";

/** Statuses retried whatever the settings (besides network errors). */
const ALWAYS_RETRYABLE = new Set([429, 502, 503, 504]);

/** Default of `BREAKER_TIMEOUT_FLOOR_MS`: an attempt given less than this cannot count as the agent timing out. */
export const DEFAULT_BREAKER_TIMEOUT_FLOOR_MS = 2000;

/**
 * The shortest attempt budget whose timeout counts against the breaker: the
 * floor setting, but never more than the agent's whole deadline (the gateway's
 * `GATEWAY_TIMEOUT_MS` capped by the manifest's `timeoutSeconds`), so an agent
 * with a 1 s deadline is still judged at 1 s.
 */
export function timeoutFloorMs(floorSetting: number, agentDeadlineMs: number): number {
  return Math.min(floorSetting, agentDeadlineMs);
}

/** The breaker's view of an attempt; `floorMs` from {@link timeoutFloorMs} (default: every timeout counts). */
export function breakerOutcome(result: AttemptResult, floorMs = 0): AttemptOutcome {
  if (result.ok) return "success";
  switch (result.kind) {
    case "oversize": // a broken answer, whatever its status: the agent misbehaved
    case "network":
      return "failure";
    case "timeout":
      return (result.budgetMs ?? Infinity) >= floorMs ? "failure" : "neutral";
    case "cancelled":
      return "neutral";
    case "http":
      return result.status >= 500 && result.fault === undefined ? "failure" : "neutral";
  }
}

/**
 * True when another attempt may help: a network error, 502/503/504, 429
 * (after its Retry-After), the agent's 409 `IDEMPOTENCY_IN_PROGRESS`, and
 * 500 unless `retryOn500` is off. Never a 4xx, an error the agent marked as
 * the caller's or a setting's, an answer over the response cap, a timeout
 * (the deadline is spent) or a cancellation.
 */
export function isRetryable(result: AttemptResult, retryOn500: boolean): boolean {
  if (result.ok) return false;
  if (result.kind === "network") return true;
  // Not retried: an oversized answer is deterministic for the same request (an echo of large
  // parameters, a result that grows with its input, an agent bug), so a retry would most likely
  // make the agent do the same work and the gateway read the same MAX_RESPONSE_BYTES again,
  // under the same deadline, for the same 502. It still counts against the breaker.
  if (result.kind !== "http") return false;
  // The same input or the same setting fails the same way again.
  if (result.fault !== undefined) return false;
  // The agent still runs an earlier attempt with this Idempotency-Key (e.g. after a lost connection): wait and ask again.
  if (result.status === 409 && result.error.code === "IDEMPOTENCY_IN_PROGRESS") return true;
  return ALWAYS_RETRYABLE.has(result.status) || (retryOn500 && result.status === 500);
}
