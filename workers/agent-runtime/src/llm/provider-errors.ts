/**
 * What the two LLM clients (one answer, llm/chat.ts; a stream, llm/stream.ts)
 * share: provider failures mapped to Zahara errors, token usage read from a
 * provider or estimated when it sends none, and the time limit of a call (the
 * LLM timeout, or less when the caller's deadline is nearer). No error built
 * here carries the API key or the provider's own error text.
 */
import { ZaharaError } from "../../../shared/errors";
import type { TokenUsage } from "../capability";
import type { LlmTarget } from "./config";

/** Reads a provider's `usage` object (OpenAI naming); undefined when absent or not numbers. */
export function toUsage(raw: unknown): TokenUsage | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const u = raw as Record<string, unknown>;
  const prompt = Number(u.prompt_tokens ?? 0);
  const completion = Number(u.completion_tokens ?? 0);
  if (!Number.isFinite(prompt) || !Number.isFinite(completion)) return undefined;
  const total = Number(u.total_tokens ?? prompt + completion);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: Number.isFinite(total) ? total : prompt + completion,
  };
}

/** Characters per token assumed when estimating usage. */
export const CHARS_PER_TOKEN = 4;

/**
 * Usage estimated from text lengths (ceil(chars / 4) each) and marked
 * `estimated`, for a stream whose provider reported none: token budgets and
 * the request log still count something close.
 */
export function estimateUsage(prompt: readonly { content: string }[], completion: string): TokenUsage {
  const promptChars = prompt.reduce((n, m) => n + m.content.length, 0);
  const prompt_tokens = Math.ceil(promptChars / CHARS_PER_TOKEN);
  const completion_tokens = Math.ceil(completion.length / CHARS_PER_TOKEN);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens, estimated: true };
}

/** The error for a provider's non-2xx answer: 429 is RATE_LIMITED, anything else LLM_PROVIDER_ERROR with its fault. */
export function providerStatusError(target: LlmTarget, status: number, retryAfter: string | null): ZaharaError {
  const who = `LLM provider ${target.provider}`;
  if (status === 429) {
    return new ZaharaError("RATE_LIMITED", {
      message: `${who} is rate limiting requests`,
      headers: retryAfter ? { "Retry-After": retryAfter } : {},
      details: { provider_status: status },
    });
  }
  const reason =
    status === 401 || status === 403
      ? "rejected the credentials"
      : status === 404
        ? "does not know the model or endpoint"
        : status >= 500
          ? "failed"
          : "rejected the request";
  // 401/403/404: the agent's credentials or model are wrong (a setting); another 4xx: the provider refused this
  // request's input (too long, filtered). Neither is the agent failing, so the gateway neither retries nor counts it.
  const fault = status === 401 || status === 403 || status === 404 ? "permanent" : status < 500 ? "caller" : undefined;
  return new ZaharaError("LLM_PROVIDER_ERROR", {
    message: `${who} ${reason} (HTTP ${status})`,
    details: { provider_status: status },
    ...(fault ? { fault } : {}),
  });
}

/** The error for a provider answer over `max` bytes (read no further). */
export function tooLargeError(provider: string, max: number): ZaharaError {
  return new ZaharaError("LLM_PROVIDER_ERROR", {
    message: `LLM provider ${provider} sent a response over ${max} bytes`,
    details: { max_response_bytes: max },
  });
}

/** True for the errors an aborted or timed-out fetch or read rejects with. */
export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

/**
 * Milliseconds a provider call may wait: the target's LLM timeout, or what is
 * left until `deadlineAt` (the caller's deadline) when that is sooner; at least 1.
 */
export function callTimeoutMs(target: LlmTarget, deadlineAt: number | undefined, now = Date.now()): number {
  if (deadlineAt === undefined) return target.timeoutMs;
  return Math.max(1, Math.min(target.timeoutMs, deadlineAt - now));
}

/** The LLM_TIMEOUT error, naming the caller's deadline when that is what ran out. */
export function timeoutError(
  who: string,
  waitedMs: number,
  deadlineAt: number | undefined,
  what = "did not answer",
): ZaharaError {
  const byDeadline = deadlineAt !== undefined && Date.now() >= deadlineAt - 1;
  return new ZaharaError("LLM_TIMEOUT", {
    message: byDeadline ? `${who} ${what} before the caller's deadline` : `${who} ${what} within ${waitedMs} ms`,
    ...(byDeadline ? { details: { deadline: true } } : {}),
  });
}
