/**
 * What an attempt's result means for the breaker and for retrying.
 * A failure is an agent 5xx, an answer over `MAX_RESPONSE_BYTES`, a network
 * error or a timeout; an agent 4xx and a
 * caller cancellation are neither (the agent is healthy, the request was bad
 * or abandoned).
 */
import type { AttemptOutcome } from "../../../../durable-objects/upstream-guard/src/types";
import type { AttemptResult } from "../dispatch";

/** Statuses retried whatever the settings (besides network errors). */
const ALWAYS_RETRYABLE = new Set([429, 502, 503, 504]);

/** The breaker's view of an attempt. */
export function breakerOutcome(result: AttemptResult): AttemptOutcome {
  if (result.ok) return "success";
  switch (result.kind) {
    case "oversize": // a broken answer, whatever its status: the agent misbehaved
    case "network":
    case "timeout":
      return "failure";
    case "cancelled":
      return "neutral";
    case "http":
      return result.status >= 500 ? "failure" : "neutral";
  }
}

/**
 * True when another attempt may help: a network error, 502/503/504, 429
 * (after its Retry-After), the agent's 409 `IDEMPOTENCY_IN_PROGRESS`, and
 * 500 unless `retryOn500` is off. Never a 4xx, an answer over the response
 * cap, a timeout (the deadline is spent) or a cancellation.
 */
export function isRetryable(result: AttemptResult, retryOn500: boolean): boolean {
  if (result.ok) return false;
  if (result.kind === "network") return true;
  // Not retried: an oversized answer is deterministic for the same request (an echo of large
  // parameters, a result that grows with its input, an agent bug), so a retry would most likely
  // make the agent do the same work and the gateway read the same MAX_RESPONSE_BYTES again,
  // under the same deadline, for the same 502. It still counts against the breaker.
  if (result.kind !== "http") return false;
  // The agent still runs an earlier attempt with this Idempotency-Key (e.g. after a lost connection): wait and ask again.
  if (result.status === 409 && result.error.code === "IDEMPOTENCY_IN_PROGRESS") return true;
  return ALWAYS_RETRYABLE.has(result.status) || (retryOn500 && result.status === 500);
}
