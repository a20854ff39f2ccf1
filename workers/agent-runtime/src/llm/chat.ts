/**
 * One chat completion against an OpenAI-compatible endpoint or Workers AI,
 * answered whole (the JSON `/run`; llm/stream.ts streams one), with provider
 * failures mapped to Zahara errors. Never includes the API key or the
 * provider's raw error text (which may echo a key) in an error. The
 * provider's `max_tokens` is bounded by the manifest's
 * `constraints.cost.maxTokensPerRequest` ({@link providerMaxTokens}).
 */
import { ZaharaError } from "../../../shared/errors";
import { readUpstreamJson } from "../../../shared/http/json-body";
import type { TokenUsage } from "../capability";
import type { LlmTarget, OpenAiTarget, WorkersAiTarget } from "./config";
import { callTimeoutMs, isTimeout, providerStatusError, timeoutError, toUsage, tooLargeError } from "./provider-errors";

/** A chat message. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** What the runtime asks of the model. */
export interface ChatRequest {
  messages: ChatMessage[];
  /** JSON Schema the answer must follow, sent as `response_format`. */
  schema?: { name: string; schema: Record<string, unknown> };
  signal: AbortSignal;
  /** Epoch ms of the caller's deadline: the call waits no longer than it (nor than the LLM timeout). */
  deadlineAt?: number;
  /** The caller's ask for `max_tokens` (its `max_tokens` parameter); else the manifest's `spec.llm.maxTokens`. */
  maxTokens?: number;
}

/**
 * The `max_tokens` sent to the provider: the ask (the request's `maxTokens`, else the manifest's
 * `spec.llm.maxTokens`), or `maxTokensPerRequest` when nothing asks, or nothing when neither is set. An ask over
 * `maxTokensPerRequest` is 400 `TOKEN_LIMIT_EXCEEDED` (marked `permanent` when the manifest's own setting asks:
 * every call would fail the same way). Call it before anything is sent: it throws nothing once it passed.
 */
export function providerMaxTokens(target: LlmTarget, req: ChatRequest): number | undefined {
  const fromCaller = req.maxTokens !== undefined;
  const ask = req.maxTokens ?? target.maxTokens;
  const limit = target.maxTokensPerRequest;
  if (limit === undefined || ask === undefined) return ask ?? limit;
  if (ask <= limit) return ask;
  throw new ZaharaError("TOKEN_LIMIT_EXCEEDED", {
    message: `${fromCaller ? "The max_tokens parameter" : "The manifest's spec.llm.maxTokens"} (${ask}) exceeds this agent's maxTokensPerRequest (${limit})`,
    details: { max_tokens: ask, max_tokens_per_request: limit, asked_by: fromCaller ? "parameters" : "manifest" },
    ...(fromCaller ? {} : { fault: "permanent" as const }),
  });
}

/** The model's answer text and token usage. */
export interface ChatAnswer {
  content: string;
  usage?: TokenUsage;
}

/**
 * Reads the provider's JSON answer, at most `target.maxResponseBytes` of it:
 * reading stops (and the rest is cancelled) as soon as more arrive, and a
 * declared `Content-Length` over the cap is refused unread. Over the cap is
 * 502 `LLM_PROVIDER_ERROR`, like an answer that is not JSON: the provider broke
 * the protocol (its answer is bounded by `max_tokens`), whereas
 * `LLM_BAD_OUTPUT` means a well-formed answer whose content fails the schema.
 * None of the body is kept or relayed.
 */
export async function readProviderJson(target: OpenAiTarget, res: Response): Promise<unknown> {
  const max = target.maxResponseBytes;
  const read = await readUpstreamJson(res, max);
  if (read.ok) return read.value;
  if (read.tooLarge) throw tooLargeError(target.provider, max);
  // Not JSON, or the stream failed mid-body (the connection was lost, or the timeout fired).
  throw new ZaharaError("LLM_PROVIDER_ERROR", {
    message: `LLM provider ${target.provider} sent a response that is not JSON`,
  });
}

/** The chat-completions request body of `req` for `target`. */
export function openAiBody(target: OpenAiTarget, req: ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { model: target.model, messages: req.messages };
  if (target.temperature !== undefined) body.temperature = target.temperature;
  const maxTokens = providerMaxTokens(target, req);
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  if (req.schema)
    body.response_format = { type: "json_schema", json_schema: { name: req.schema.name, schema: req.schema.schema } };
  return body;
}

/** Request headers for `target`, accepting `accept`. */
export function openAiHeaders(target: OpenAiTarget, accept: string): Record<string, string> {
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: accept };
  if (target.apiKey) headers.Authorization = `Bearer ${target.apiKey}`;
  return headers;
}

/** The Workers AI inputs of `req` for `target`. */
export function workersAiInputs(target: WorkersAiTarget, req: ChatRequest): Record<string, unknown> {
  const inputs: Record<string, unknown> = { messages: req.messages };
  if (target.temperature !== undefined) inputs.temperature = target.temperature;
  const maxTokens = providerMaxTokens(target, req);
  if (maxTokens !== undefined) inputs.max_tokens = maxTokens;
  if (req.schema) inputs.response_format = { type: "json_schema", json_schema: req.schema.schema };
  return inputs;
}

/** The content and usage of a whole chat completion; 502 `LLM_BAD_OUTPUT` when it has no message content. */
export function openAiAnswer(provider: string, data: unknown): { content: string; usage: TokenUsage | undefined } {
  const answer = data as { choices?: { message?: { content?: unknown } }[]; usage?: unknown };
  const content = answer.choices?.[0]?.message?.content;
  if (typeof content !== "string")
    throw new ZaharaError("LLM_BAD_OUTPUT", { message: `LLM provider ${provider} sent no message content` });
  return { content, usage: toUsage(answer.usage) };
}

/** The content and usage of a whole Workers AI answer; 502 `LLM_BAD_OUTPUT` when it has no response. */
export function workersAiAnswer(out: unknown): { content: string; usage: TokenUsage | undefined } {
  const answer = out as { response?: unknown; usage?: unknown } | null;
  const response = answer?.response;
  const content =
    typeof response === "string" ? response : response !== undefined ? JSON.stringify(response) : undefined;
  if (content === undefined) throw new ZaharaError("LLM_BAD_OUTPUT", { message: "Workers AI sent no response" });
  return { content, usage: toUsage(answer?.usage) };
}

function whole({ content, usage }: { content: string; usage: TokenUsage | undefined }): ChatAnswer {
  return usage ? { content, usage } : { content };
}

async function openAiChat(target: OpenAiTarget, req: ChatRequest): Promise<ChatAnswer> {
  const timeoutMs = callTimeoutMs(target, req.deadlineAt);
  let res: Response;
  try {
    res = await fetch(`${target.baseUrl}/chat/completions`, {
      method: "POST",
      headers: openAiHeaders(target, "application/json"),
      body: JSON.stringify(openAiBody(target, req)),
      signal: AbortSignal.any([req.signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (err) {
    if (isTimeout(err)) throw timeoutError(`LLM provider ${target.provider}`, timeoutMs, req.deadlineAt);
    throw new ZaharaError("LLM_PROVIDER_ERROR", {
      message: `LLM provider ${target.provider} could not be reached`,
      cause: err,
    });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw providerStatusError(target, res.status, res.headers.get("Retry-After"));
  }
  return whole(openAiAnswer(target.provider, await readProviderJson(target, res)));
}

async function workersAiChat(target: WorkersAiTarget, req: ChatRequest): Promise<ChatAnswer> {
  const timeoutMs = callTimeoutMs(target, req.deadlineAt);
  let out: unknown;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    out = await Promise.race([
      target.binding.run(target.model, workersAiInputs(target, req)),
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new DOMException("timeout", "TimeoutError")), timeoutMs)),
      ),
    ]);
  } catch (err) {
    if (isTimeout(err)) throw timeoutError("Workers AI", timeoutMs, req.deadlineAt);
    throw new ZaharaError("LLM_PROVIDER_ERROR", { message: "Workers AI failed", cause: err });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  return whole(workersAiAnswer(out));
}

/** Sends one chat request to `target`; 400 `TOKEN_LIMIT_EXCEEDED` before sending when it asks too many tokens. */
export async function chat(target: LlmTarget, req: ChatRequest): Promise<ChatAnswer> {
  providerMaxTokens(target, req);
  return target.backend === "workers-ai" ? workersAiChat(target, req) : openAiChat(target, req);
}
