/**
 * One chat completion streamed: each piece of the model's text is handed to
 * `onText` as the provider sends it (an OpenAI-compatible endpoint with
 * `stream: true`, or Workers AI with `stream: true`), and the assembled text
 * and usage are returned at the end, for the capability to parse as it parses
 * a whole answer. Everything is bounded: at most `maxResponseBytes` read, no
 * wait between chunks longer than the LLM timeout (or the caller's deadline),
 * and a chunk that is not JSON or a stream that ends before the answer does is
 * 502 `LLM_PROVIDER_ERROR`. Aborting `req.signal` (the caller went away, its
 * deadline passed) aborts the provider call.
 */
import { ZaharaError } from "../../../shared/errors";
import { SseParser } from "../../../shared/http/sse";
import {
  type ChatAnswer,
  type ChatRequest,
  openAiAnswer,
  openAiBody,
  openAiHeaders,
  providerMaxTokens,
  readProviderJson,
  workersAiAnswer,
  workersAiInputs,
} from "./chat";
import type { LlmTarget, OpenAiTarget, WorkersAiTarget } from "./config";
import {
  callTimeoutMs,
  estimateUsage,
  isTimeout,
  providerStatusError,
  timeoutError,
  toUsage,
  tooLargeError,
} from "./provider-errors";

/** Receives each non-empty piece of the answer's text, in order. */
export type OnText = (text: string) => void;

/** What one parsed provider event means for the stream. */
type Step = "more" | "done";

/** How to read one provider's event stream. */
interface PumpOptions {
  who: string;
  target: LlmTarget;
  req: ChatRequest;
  /** Handles one event's data; throws a ZaharaError when it is malformed. */
  onData: (data: string) => Step;
}

const malformed = (who: string) =>
  new ZaharaError("LLM_PROVIDER_ERROR", { message: `${who} sent a stream chunk that is not JSON` });

/** One `data:` line of a provider's stream: `"done"` for `[DONE]`, else its JSON object (malformed otherwise). */
function parseChunk(data: string, who: string): object | "done" {
  if (data.trim() === "[DONE]") return "done";
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    throw malformed(who);
  }
  if (typeof chunk !== "object" || chunk === null) throw malformed(who);
  return chunk;
}

/** A read that fails after `ms` (TimeoutError) or when `signal` aborts (its reason). */
function readWithin<T>(
  reader: ReadableStreamDefaultReader<T>,
  ms: number,
  signal: AbortSignal,
): Promise<ReadableStreamReadResult<T>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () =>
      settle(() => reject(signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError")));
    const timer = setTimeout(() => settle(() => reject(new DOMException("stalled", "TimeoutError"))), ms);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    reader.read().then(
      (r) => settle(() => resolve(r)),
      (err: unknown) => settle(() => reject(err)),
    );
  });
}

/** Maps a failed wait to LLM_TIMEOUT (stall, deadline, caller gone) or LLM_PROVIDER_ERROR (the stream broke). */
function streamFailure(err: unknown, who: string, waitedMs: number, req: ChatRequest): ZaharaError {
  if (err instanceof ZaharaError) return err;
  if (isTimeout(err)) {
    if (req.signal.aborted && (req.deadlineAt === undefined || Date.now() < req.deadlineAt - 1)) {
      return new ZaharaError("LLM_TIMEOUT", { message: `${who} was abandoned: the caller went away` });
    }
    return timeoutError(who, waitedMs, req.deadlineAt, "sent nothing");
  }
  return new ZaharaError("LLM_PROVIDER_ERROR", { message: `${who} broke off the stream`, cause: err });
}

/**
 * Reads an event stream to its end marker, within the byte cap and the wait
 * between chunks. Returns true when `onData` saw the end (`done`), false when
 * the stream closed first. Cancels the body on every way out.
 */
async function pump(body: ReadableStream<Uint8Array>, { who, target, req, onData }: PumpOptions): Promise<boolean> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let bytes = 0;
  let waited = 0;
  try {
    for (;;) {
      waited = callTimeoutMs(target, req.deadlineAt);
      const next = await readWithin(reader, waited, req.signal);
      if (next.done) return false;
      bytes += next.value.byteLength;
      if (bytes > target.maxResponseBytes) throw tooLargeError(target.provider, target.maxResponseBytes);
      for (const event of parser.push(decoder.decode(next.value, { stream: true }))) {
        if (onData(event.data) === "done") return true;
      }
    }
  } catch (err) {
    throw streamFailure(err, who, waited, req);
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** Aborts `ctl` after `ms` unless cleared: the limit on a provider's first answer (its headers). */
function startTimer(ctl: AbortController, ms: number): () => void {
  const timer = setTimeout(() => ctl.abort(new DOMException("timeout", "TimeoutError")), ms);
  return () => clearTimeout(timer);
}

function answerOf(req: ChatRequest, content: string, reported: ChatAnswer["usage"]): ChatAnswer {
  return { content, usage: reported ?? estimateUsage(req.messages, content) };
}

async function openAiStream(target: OpenAiTarget, req: ChatRequest, onText: OnText): Promise<ChatAnswer> {
  const who = `LLM provider ${target.provider}`;
  const ctl = new AbortController();
  const signal = AbortSignal.any([req.signal, ctl.signal]);
  const firstWait = callTimeoutMs(target, req.deadlineAt);
  const stopTimer = startTimer(ctl, firstWait);
  let res: Response;
  try {
    res = await fetch(`${target.baseUrl}/chat/completions`, {
      method: "POST",
      headers: openAiHeaders(target, "text/event-stream"),
      body: JSON.stringify({ ...openAiBody(target, req), stream: true, stream_options: { include_usage: true } }),
      signal,
    });
  } catch (err) {
    if (isTimeout(err)) throw streamFailure(err, who, firstWait, req);
    throw new ZaharaError("LLM_PROVIDER_ERROR", { message: `${who} could not be reached`, cause: err });
  } finally {
    stopTimer();
  }
  try {
    if (!res.ok) {
      await res.body?.cancel();
      throw providerStatusError(target, res.status, res.headers.get("Retry-After"));
    }
    // A provider that ignores `stream: true` answers whole: one piece.
    if (/^application\/json/i.test(res.headers.get("Content-Type") ?? "")) {
      const stopRead = startTimer(ctl, callTimeoutMs(target, req.deadlineAt));
      const { content, usage } = openAiAnswer(target.provider, await readProviderJson(target, res).finally(stopRead));
      if (content) onText(content);
      return answerOf(req, content, usage);
    }
    if (!res.body) throw new ZaharaError("LLM_PROVIDER_ERROR", { message: `${who} sent an empty stream` });
    let content = "";
    let finished = false;
    let sawChoice = false;
    let usage: ChatAnswer["usage"];
    const ended = await pump(res.body, {
      who,
      target,
      req,
      onData(data) {
        const chunk = parseChunk(data, who);
        if (chunk === "done") return "done";
        const c = chunk as {
          error?: unknown;
          usage?: unknown;
          choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
        };
        if (c.error !== undefined)
          throw new ZaharaError("LLM_PROVIDER_ERROR", { message: `${who} reported an error mid-stream` });
        const choice = c.choices?.[0];
        if (choice) {
          sawChoice = true;
          const piece = choice.delta?.content;
          if (typeof piece === "string" && piece !== "") {
            content += piece;
            onText(piece);
          }
          if (typeof choice.finish_reason === "string") finished = true;
        }
        usage = toUsage(c.usage) ?? usage;
        return "more";
      },
    });
    if (!ended && !finished)
      throw new ZaharaError("LLM_PROVIDER_ERROR", {
        message: `${who} ended the stream before the answer was complete`,
      });
    if (!sawChoice) throw new ZaharaError("LLM_BAD_OUTPUT", { message: `${who} sent no message content` });
    return answerOf(req, content, usage);
  } finally {
    ctl.abort();
  }
}

async function workersAiStream(target: WorkersAiTarget, req: ChatRequest, onText: OnText): Promise<ChatAnswer> {
  const who = "Workers AI";
  const ctl = new AbortController();
  const signal = AbortSignal.any([req.signal, ctl.signal]);
  const firstWait = callTimeoutMs(target, req.deadlineAt);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let out: unknown;
  try {
    out = await Promise.race([
      target.binding.run(target.model, { ...workersAiInputs(target, req), stream: true }, { signal }),
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new DOMException("timeout", "TimeoutError")), firstWait)),
      ),
      new Promise((_, reject) => {
        const abort = () => reject(new DOMException("aborted", "AbortError"));
        if (signal.aborted) abort();
        else signal.addEventListener("abort", abort, { once: true });
      }),
    ]);
  } catch (err) {
    ctl.abort();
    if (isTimeout(err)) throw streamFailure(err, who, firstWait, req);
    throw new ZaharaError("LLM_PROVIDER_ERROR", { message: "Workers AI failed", cause: err });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  try {
    if (!(out instanceof ReadableStream)) {
      // The model does not stream: its whole answer is one piece.
      const { content, usage } = workersAiAnswer(out);
      if (content) onText(content);
      return answerOf(req, content, usage);
    }
    let content = "";
    let usage: ChatAnswer["usage"];
    const ended = await pump(out as ReadableStream<Uint8Array>, {
      who,
      target,
      req,
      onData(data) {
        const chunk = parseChunk(data, who);
        if (chunk === "done") return "done";
        const c = chunk as { response?: unknown; usage?: unknown };
        if (typeof c.response === "string" && c.response !== "") {
          content += c.response;
          onText(c.response);
        }
        usage = toUsage(c.usage) ?? usage;
        return "more";
      },
    });
    if (!ended)
      throw new ZaharaError("LLM_PROVIDER_ERROR", {
        message: `${who} ended the stream before the answer was complete`,
      });
    return answerOf(req, content, usage);
  } finally {
    ctl.abort();
  }
}

/**
 * Streams one chat request to `target`, handing each piece of text to `onText`; 400 `TOKEN_LIMIT_EXCEEDED`
 * before sending (so before any piece) when it asks too many tokens.
 */
export async function chatStream(target: LlmTarget, req: ChatRequest, onText: OnText): Promise<ChatAnswer> {
  providerMaxTokens(target, req);
  return target.backend === "workers-ai" ? workersAiStream(target, req, onText) : openAiStream(target, req, onText);
}
