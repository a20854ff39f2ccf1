/**
 * The gateway's own refusals, in the one error shape: an open breaker (503
 * `CIRCUIT_OPEN`), a rate limit (429 `RATE_LIMITED` with the IETF
 * `RateLimit-Policy` / `RateLimit` headers), no free permit (503
 * `CONCURRENCY_LIMIT`) and a spent daily token budget, the agent's or the
 * API key's on that agent (429 `TOKEN_BUDGET_EXCEEDED`; `COST_BUDGET_EXCEEDED` when the agent's
 * budget comes from its `maxCostPerDay`), each with
 * `Retry-After` in whole seconds.
 */
import { rateLimitHeaders, retryAfterSeconds } from "../../../../durable-objects/upstream-guard/src/policies";
import type { AdmitResult, RateLimitReport } from "../../../../durable-objects/upstream-guard/src/types";
import { ZaharaError } from "../../../shared/errors";

type Rejection = Extract<AdmitResult, { admitted: false }>;

/** `RateLimit-Policy` / `RateLimit` headers for a rate-limit decision (policy named after its scope). */
export function rateLimitHeadersOf(report: RateLimitReport | undefined): Record<string, string> {
  return report
    ? rateLimitHeaders(report.scope === "key" ? "per-key" : "per-agent", report.config, report.decision)
    : {};
}

/** The error a caller gets when `agent`'s guard refuses the first attempt. */
export function rejectionError(agent: string, rejection: Rejection, dailyBudget?: "tokens" | "cost"): ZaharaError {
  const retryAfter = String(retryAfterSeconds(rejection.retryAfterMs));
  const details = { agent, reason: rejection.reason, retry_after_ms: Math.ceil(rejection.retryAfterMs) };
  switch (rejection.reason) {
    case "circuit_open":
      return new ZaharaError("CIRCUIT_OPEN", {
        message: `Agent "${agent}" is failing; its circuit breaker is ${rejection.breaker === "half_open" ? "half-open and probing" : "open"}`,
        details: { ...details, breaker: rejection.breaker },
        headers: { "Retry-After": retryAfter },
      });
    case "rate_limited":
    case "key_rate_limited":
      return new ZaharaError("RATE_LIMITED", {
        message:
          rejection.reason === "key_rate_limited"
            ? `This API key's rate limit for agent "${agent}" is reached`
            : `Agent "${agent}"'s rate limit is reached`,
        details: { ...details, scope: rejection.reason === "key_rate_limited" ? "key" : "agent" },
        headers: { "Retry-After": retryAfter, ...rateLimitHeadersOf(rejection.rateLimit) },
      });
    case "concurrency":
      return new ZaharaError("CONCURRENCY_LIMIT", {
        message: `Agent "${agent}" has too many requests in flight`,
        details: { ...details, scope: "agent" },
        headers: { "Retry-After": retryAfter },
      });
    case "key_concurrency":
      return new ZaharaError("CONCURRENCY_LIMIT", {
        message: `This API key has its share of agent "${agent}"'s requests in flight`,
        details: { ...details, scope: "key" },
        headers: { "Retry-After": retryAfter },
      });
    case "token_budget":
      if (dailyBudget === "cost") {
        return new ZaharaError("COST_BUDGET_EXCEEDED", {
          message: `Agent "${agent}"'s daily cost budget (maxCostPerDay) is used up until 00:00 UTC`,
          details,
          headers: { "Retry-After": retryAfter },
        });
      }
      return new ZaharaError("TOKEN_BUDGET_EXCEEDED", {
        message: `Agent "${agent}"'s daily token budget is used up until 00:00 UTC`,
        details,
        headers: { "Retry-After": retryAfter },
      });
    case "key_token_budget":
      return new ZaharaError("TOKEN_BUDGET_EXCEEDED", {
        message: "This API key's daily token budget for the agent is used up",
        details: { ...details, scope: "key" },
        headers: { "Retry-After": retryAfter },
      });
    case "retry_budget":
      return new ZaharaError("UPSTREAM_FAILED", { message: `Agent "${agent}"'s retry budget is spent`, details });
  }
}
