/**
 * One chat completion against an OpenAI-compatible endpoint or Workers AI,
 * with provider failures mapped to Zahara errors. Never includes the API key
 * or the provider's raw error text (which may echo a key) in an error.
 */
import { ZaharaError } from "../../../shared/errors";
import { readUpstreamJson } from "../../../shared/http/json-body";
import type { TokenUsage } from "../capability";
import type { LlmTarget, OpenAiTarget, WorkersAiTarget } from "./config";

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
}

/** The model's answer text and token usage. */
export interface ChatAnswer {
  content: string;
  usage?: TokenUsage;
}

function toUsage(raw: unknown): TokenUsage | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const u = raw as Record<string, unknown>;
  const prompt = Number(u.prompt_tokens ?? 0);
  const completion = Number(u.completion_tokens ?? 0);
  if (!Number.isFinite(prompt) || !Number.isFinite(completion)) return undefined;
  const total = Number(u.total_tokens ?? prompt + completion);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: Number.isFinite(total) ? total : prompt + completion };
}

function providerStatusError(target: LlmTarget, status: number, retryAfter: string | null): ZaharaError {
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

function withTimeout(signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
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
async function readProviderJson(target: OpenAiTarget, res: Response): Promise<unknown> {
  const max = target.maxResponseBytes;
  const read = await readUpstreamJson(res, max);
  if (read.ok) return read.value;
  if (read.tooLarge) {
    throw new ZaharaError("LLM_PROVIDER_ERROR", { message: `LLM provider ${target.provider} sent a response over ${max} bytes`, details: { max_response_bytes: max } });
  }
  // Not JSON, or the stream failed mid-body (the connection was lost, or the timeout fired).
  throw new ZaharaError("LLM_PROVIDER_ERROR", { message: `LLM provider ${target.provider} sent a response that is not JSON` });
}

async function openAiChat(target: OpenAiTarget, req: ChatRequest): Promise<ChatAnswer> {
  const body: Record<string, unknown> = { model: target.model, messages: req.messages };
  if (target.temperature !== undefined) body.temperature = target.temperature;
  if (target.maxTokens !== undefined) body.max_tokens = target.maxTokens;
  if (req.schema) body.response_format = { type: "json_schema", json_schema: { name: req.schema.name, schema: req.schema.schema } };
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
  if (target.apiKey) headers.Authorization = `Bearer ${target.apiKey}`;
  let res: Response;
  try {
    res = await fetch(`${target.baseUrl}/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: withTimeout(req.signal, target.timeoutMs),
    });
  } catch (err) {
    if (isTimeout(err)) throw new ZaharaError("LLM_TIMEOUT", { message: `LLM provider ${target.provider} did not answer within ${target.timeoutMs} ms` });
    throw new ZaharaError("LLM_PROVIDER_ERROR", { message: `LLM provider ${target.provider} could not be reached`, cause: err });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw providerStatusError(target, res.status, res.headers.get("Retry-After"));
  }
  const data = await readProviderJson(target, res);
  const choice = (data as { choices?: { message?: { content?: unknown } }[] }).choices?.[0];
  const content = choice?.message?.content;
  if (typeof content !== "string") {
    throw new ZaharaError("LLM_BAD_OUTPUT", { message: `LLM provider ${target.provider} sent no message content` });
  }
  const usage = toUsage((data as { usage?: unknown }).usage);
  return usage ? { content, usage } : { content };
}

async function workersAiChat(target: WorkersAiTarget, req: ChatRequest): Promise<ChatAnswer> {
  const inputs: Record<string, unknown> = { messages: req.messages };
  if (target.temperature !== undefined) inputs.temperature = target.temperature;
  if (target.maxTokens !== undefined) inputs.max_tokens = target.maxTokens;
  if (req.schema) inputs.response_format = { type: "json_schema", json_schema: req.schema.schema };
  let out: unknown;
  try {
    out = await Promise.race([
      target.binding.run(target.model, inputs),
      new Promise((_, reject) => setTimeout(() => reject(new DOMException("timeout", "TimeoutError")), target.timeoutMs)),
    ]);
  } catch (err) {
    if (isTimeout(err)) throw new ZaharaError("LLM_TIMEOUT", { message: `Workers AI did not answer within ${target.timeoutMs} ms` });
    throw new ZaharaError("LLM_PROVIDER_ERROR", { message: "Workers AI failed", cause: err });
  }
  const response = (out as { response?: unknown }).response;
  const content = typeof response === "string" ? response : response !== undefined ? JSON.stringify(response) : undefined;
  if (content === undefined) throw new ZaharaError("LLM_BAD_OUTPUT", { message: "Workers AI sent no response" });
  const usage = toUsage((out as { usage?: unknown }).usage);
  return usage ? { content, usage } : { content };
}

/** Sends one chat request to `target`. */
export function chat(target: LlmTarget, req: ChatRequest): Promise<ChatAnswer> {
  return target.backend === "workers-ai" ? workersAiChat(target, req) : openAiChat(target, req);
}
