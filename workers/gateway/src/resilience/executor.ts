/**
 * The resilient call: for each agent in turn (the routed one, then its
 * fallbacks), admission by its guard, the attempt, and retries with full
 * jitter — all under one deadline that covers attempts and sleeps.
 *
 * Rules: only retryable outcomes are retried (see classify.ts); at most
 * `maxRetries` retries; a sleep that would end past the deadline is not
 * taken (fail fast); retries spend the agent's retry budget; no retries when
 * the guard is unavailable. A fallback is tried when the agent's breaker is
 * open or its retries are exhausted.
 */
import type {
  AdmitResult,
  AttemptOutcome,
  RateLimitReport,
} from "../../../../durable-objects/upstream-guard/src/types";
import { ZaharaError } from "../../../shared/errors";
import type { Logger } from "../../../shared/logger";
import { inSpan, markError } from "../../../shared/observability/spans";
import type { TimingEntry } from "../../../shared/observability/server-timing";
import { type AgentStream, type AttemptResult, totalTokens } from "../dispatch";
import { fullJitterMs, parseRetryAfterMs } from "./backoff";
import { breakerOutcome, isRetryable } from "./classify";
import type { RetrySettings } from "./config";
import type { GuardClient, GuardUnavailable } from "./guard-client";
import { rejectionError } from "./rejections";

/** One attempt, as reported in error details and logs. */
export interface AttemptRecord {
  agent: string;
  attempt: number;
  /** Agent HTTP status; 0 when there was none (rejected, network error, timeout). */
  status: number;
  code?: string;
  admission: "admitted" | "guard_unavailable" | AdmitRejectReason;
  latency_ms: number;
  /** Sleep taken before this attempt. */
  backoff_ms: number;
  /** The agent's own steps (its `Server-Timing`), for the request log; never sent to callers. */
  spans?: TimingEntry[];
  /** The kinds of personal data the agent found (its `Zahara-Pii-Kinds`), for the request log. */
  pii_kinds?: string;
}

/** The attempts as error details show them: without the agent's internal spans or what it found. */
export function attemptsForDetails(attempts: readonly AttemptRecord[]): AttemptRecord[] {
  return attempts.map(({ spans: _spans, pii_kinds: _pii, ...rest }) => rest);
}

type AdmitRejectReason = Extract<AdmitResult, { admitted: false }>["reason"];

/** One agent to try. */
export interface AgentPlan {
  agent: string;
  retries: RetrySettings;
  guard: GuardClient;
  /** An attempt given less than this cannot count as the agent timing out (classify.ts `timeoutFloorMs`). */
  timeoutFloorMs?: number;
  /** What the agent's daily token budget stands for (a spent `cost` budget is 429 `COST_BUDGET_EXCEEDED`). */
  dailyBudget?: "tokens" | "cost";
  /** Builds the admission request for attempt n (config, ids, estimate). */
  admitRequest(attempt: number): Parameters<GuardClient["admit"]>[0];
  /** Makes attempt n with `timeoutMs` left. */
  call(attempt: number, timeoutMs: number): Promise<AttemptResult>;
}

/** Clock, sleep, randomness and background work: injectable for tests. */
export interface ExecutorRuntime {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
  waitUntil(promise: Promise<unknown>): void;
  signal?: AbortSignal;
  /** Notable events (retry, rejection, fallback) as structured log lines. */
  logger?: Pick<Logger, "info" | "warn">;
}

/** The request's deadline: when it ends (epoch ms) and how long it was (for messages). */
export interface Deadline {
  at: number;
  ms: number;
}

/** A successful resilient call. */
export interface ExecutionSuccess {
  servedBy: string;
  result: unknown;
  usage?: unknown;
  attempts: AttemptRecord[];
  rateLimit?: RateLimitReport;
  /** The agent replayed a stored answer (same Idempotency-Key and body). */
  replayed?: boolean;
  /** The agent answered with an event stream (the result comes with its `done` event). */
  stream?: StreamedAttempt;
}

/**
 * A streamed answer whose attempt is still open: its permit and reservations stay held, and the breaker has not
 * heard of it, until the relay calls `settle` once with how the stream ended (calls/stream-relay.ts).
 */
export interface StreamedAttempt extends AgentStream {
  settle(outcome: AttemptOutcome, tokens: number): void;
}

type AgentRun =
  | { kind: "success"; value: ExecutionSuccess }
  /** Breaker open on the first attempt, or retries exhausted: a fallback may serve. */
  | { kind: "fallthrough"; error: ZaharaError }
  | { kind: "final"; error: ZaharaError };

/** `fn` callable once; later calls do nothing. */
function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let done = false;
  return (...args) => {
    if (done) return;
    done = true;
    fn(...args);
  };
}

/** Sleeps `ms`, waking early if `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

function timeoutError(agent: string, deadline: Deadline, attempts: AttemptRecord[]): ZaharaError {
  return new ZaharaError("UPSTREAM_TIMEOUT", {
    message: `Agent "${agent}" did not answer within the ${deadline.ms} ms deadline`,
    details: { agent, timeout_ms: deadline.ms, attempts: attemptsForDetails(attempts) },
  });
}

function failureError(
  agent: string,
  last: Extract<AttemptResult, { ok: false }>,
  attempts: AttemptRecord[],
  extra: Record<string, unknown> = {},
): ZaharaError {
  // An agent 4xx (including a 429 not retried further), or an error it marked as the caller's or a setting's, is
  // relayed as the agent sent it.
  if (last.kind === "http" && (last.status < 500 || last.fault !== undefined)) return last.error;
  const count = attempts.filter((a) => a.admission === "admitted" || a.admission === "guard_unavailable").length;
  return new ZaharaError(last.kind === "network" ? "UPSTREAM_UNREACHABLE" : "UPSTREAM_FAILED", {
    message: count > 1 ? `Agent "${agent}" failed ${count} attempts` : last.error.message,
    details: { ...last.error.details, agent, attempts: attemptsForDetails(attempts), ...extra },
  });
}

async function runAgent(
  plan: AgentPlan,
  deadline: Deadline,
  rt: ExecutorRuntime,
  all: AttemptRecord[],
): Promise<AgentRun> {
  let backoff = 0;
  let last: Extract<AttemptResult, { ok: false }> | undefined;
  let rateLimit: RateLimitReport | undefined;
  const record = (r: AttemptRecord) => void all.push(r);
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline.at - rt.now();
    if (remaining <= 0) return { kind: "final", error: timeoutError(plan.agent, deadline, all) };
    const request = plan.admitRequest(attempt);
    const admission: AdmitResult | GuardUnavailable = await inSpan(
      "upstream.admission",
      { "agent.id": plan.agent, attempt },
      async (span) => {
        const result = await plan.guard.admit(request, remaining);
        span.setAttributes(
          "unavailable" in result
            ? { "admission.decision": "guard_unavailable", "admission.reason": result.reason }
            : { "admission.decision": result.admitted ? "admitted" : result.reason, "breaker.state": result.breaker },
        );
        return result;
      },
    );
    const degraded = "unavailable" in admission;
    if (!degraded && !admission.admitted) {
      record({
        agent: plan.agent,
        attempt,
        status: 0,
        admission: admission.reason,
        latency_ms: 0,
        backoff_ms: backoff,
      });
      rt.logger?.warn("upstream attempt refused", {
        agent: plan.agent,
        attempt,
        reason: admission.reason,
        retry_after_ms: admission.retryAfterMs,
        breaker: admission.breaker,
      });
      if (attempt === 1) {
        const error = rejectionError(plan.agent, admission, plan.dailyBudget);
        return admission.reason === "circuit_open" ? { kind: "fallthrough", error } : { kind: "final", error };
      }
      // A retry refused (breaker opened meanwhile, retry budget spent, ...): the last failure stands.
      const stopped = last
        ? failureError(plan.agent, last, all, { retry_stopped_by: admission.reason })
        : rejectionError(plan.agent, admission, plan.dailyBudget);
      return { kind: "fallthrough", error: stopped };
    }
    if (!degraded && attempt === 1) rateLimit = admission.rateLimit;
    const result = await inSpan("upstream.attempt", { "agent.id": plan.agent, attempt }, async (span) => {
      const r = await plan.call(attempt, deadline.at - rt.now());
      span.setAttributes({
        "http.response.status_code": r.status,
        outcome: breakerOutcome(r, plan.timeoutFloorMs),
        ...(r.ok ? {} : { "error.code": r.error.code, "failure.kind": r.kind }),
      });
      if (!r.ok) markError(span, r.error);
      return r;
    });
    const keyId = request.keyId !== undefined ? { keyId: request.keyId } : {};
    const settle = (outcome: AttemptOutcome, tokens: number) => {
      // Queued with the isolate's other reports; a failure is sent at once (a retry's admission must see it).
      if (!degraded) plan.guard.report({ config: request.config, callId: request.callId, outcome, tokens, ...keyId });
    };
    // A stream is settled when it ends; anything else now.
    if (!(result.ok && result.stream))
      settle(breakerOutcome(result, plan.timeoutFloorMs), result.ok ? totalTokens(result.usage) : 0);
    record({
      agent: plan.agent,
      attempt,
      status: result.status,
      ...(result.ok ? {} : { code: result.error.code }),
      admission: degraded ? "guard_unavailable" : "admitted",
      latency_ms: result.latencyMs,
      backoff_ms: backoff,
      ...(result.spans ? { spans: result.spans } : {}),
      ...(result.piiKinds ? { pii_kinds: result.piiKinds } : {}),
    });
    if (result.ok) {
      const value: ExecutionSuccess = { servedBy: plan.agent, result: result.result, attempts: all };
      if (result.usage !== undefined) value.usage = result.usage;
      if (result.replayed) value.replayed = true;
      if (result.stream) value.stream = { ...result.stream, settle: once(settle) };
      if (rateLimit) value.rateLimit = rateLimit;
      return { kind: "success", value };
    }
    last = result;
    if (result.kind === "timeout") return { kind: "final", error: timeoutError(plan.agent, deadline, all) };
    if (result.kind === "cancelled") return { kind: "final", error: failureError(plan.agent, result, all) };
    if (!isRetryable(result, plan.retries.retryOn500))
      return { kind: "final", error: failureError(plan.agent, result, all) };
    if (attempt > plan.retries.maxRetries || degraded) {
      return {
        kind: "fallthrough",
        error: failureError(plan.agent, result, all, degraded ? { retry_stopped_by: "guard_unavailable" } : {}),
      };
    }
    const retryAfter = [409, 429, 503].includes(result.status)
      ? parseRetryAfterMs(result.retryAfter, rt.now())
      : undefined;
    backoff = retryAfter ?? fullJitterMs(attempt, plan.retries, rt.random);
    if (rt.now() + backoff >= deadline.at) {
      return {
        kind: "fallthrough",
        error: failureError(plan.agent, result, all, { retry_stopped_by: "deadline", next_backoff_ms: backoff }),
      };
    }
    rt.logger?.info("retrying upstream", {
      agent: plan.agent,
      attempt: attempt + 1,
      backoff_ms: backoff,
      after_status: result.status,
      after_code: result.error.code,
    });
    await inSpan("upstream.backoff", { "agent.id": plan.agent, attempt: attempt + 1, "backoff.ms": backoff }, () =>
      rt.sleep(backoff, rt.signal),
    );
    if (rt.signal?.aborted) return { kind: "final", error: failureError(plan.agent, result, all) };
  }
}

/**
 * Runs the plans in order until one serves; throws the {@link ZaharaError}
 * the caller should get (the routed agent's, unless a fallback got further).
 * Every attempt (and refusal) is appended to `attempts` as it happens, so the
 * caller keeps the timeline whether the call succeeds or throws.
 */
export async function executeResilient(
  plans: readonly AgentPlan[],
  deadline: Deadline,
  rt: ExecutorRuntime,
  attempts: AttemptRecord[] = [],
): Promise<ExecutionSuccess> {
  let first: ZaharaError | undefined;
  for (const plan of plans) {
    const run = await runAgent(plan, deadline, rt, attempts);
    if (run.kind === "success") return run.value;
    first ??= run.error;
    if (run.kind === "final" || deadline.at - rt.now() <= 0) break;
    if (plan !== plans.at(-1)) rt.logger?.warn("trying a fallback", { agent: plan.agent, because: run.error.code });
  }
  throw first ?? new ZaharaError("INTERNAL_ERROR");
}
