/**
 * The streaming half of the OpenAI-compatible double (openai-server.ts): a
 * chat completion requested with `stream: true` is answered as the real API
 * streams one, as server-sent events of `chat.completion.chunk` objects (a
 * role chunk, the content a few characters per chunk, a chunk with
 * `finish_reason`, a usage chunk when `stream_options.include_usage`, then
 * `data: [DONE]`). Markers in the user message break the stream on purpose;
 * openai-server.ts lists them. Counters (served at `GET /v1/__stream_stats__`)
 * tell tests how the broken streams ended, e.g. that a stalled one was closed
 * by the client.
 */

/** The parts of Node's `ServerResponse` used: structural, so tests in workerd can import this module's types. */
export interface StreamResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(chunk?: string): unknown;
  on(event: "close", listener: () => void): unknown;
  once(event: "drain", listener: () => void): unknown;
  readonly writableFinished: boolean;
}

/** Characters of content per chunk. */
export const STREAM_CHUNK_CHARS = 4;

/** Pause between chunks of a `__stream_slow__` answer. */
export const STREAM_SLOW_INTERVAL_MS = 100;

/** Content bytes offered by a `__stream_huge__` answer (far over any cap), in 16 KiB chunks. */
export const STREAM_HUGE_BYTES = 64 * 1024 * 1024;

/** Content bytes of a `__stream_long__` answer: a valid `{summary}` JSON this long, under every cap. */
export const STREAM_LONG_BYTES = 2 * 1024 * 1024;

/** Usage reported in the usage chunk (the same as a whole answer's). */
export const STREAM_USAGE = { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 };

/** How the marked streams went (served at `GET /v1/__stream_stats__`). */
export interface StreamStats {
  /** Streams started, of any kind. */
  started: number;
  /** `__stream_stall__` streams the client closed (it gave up on the provider). */
  stalls_closed: number;
  /** `__stream_slow__` streams the client closed before their end. */
  slow_cut: number;
  /** `__stream_huge__` streams the client closed before their end. */
  huge_cut: number;
  /** The most bytes written to one `__stream_huge__` stream. */
  huge_max_bytes_sent: number;
}

/** Fresh counters. */
export function newStreamStats(): StreamStats {
  return { started: 0, stalls_closed: 0, slow_cut: 0, huge_cut: 0, huge_max_bytes_sent: 0 };
}

/** What the streamed answer is made of. */
export interface StreamAnswer {
  model: string;
  content: string;
  /** The user message (for the markers). */
  user: string;
  includeUsage: boolean;
}

const HUGE_PIECE = "x".repeat(16 * 1024);

function event(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

function chunk(model: string, delta: Record<string, unknown>, finish: string | null, includeUsage: boolean): string {
  return event({
    id: "chatcmpl-test",
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
}

/** `content` cut into pieces of {@link STREAM_CHUNK_CHARS} characters. */
export function pieces(content: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < content.length; i += STREAM_CHUNK_CHARS) out.push(content.slice(i, i + STREAM_CHUNK_CHARS));
  return out;
}

/** Writes `answer` to `res` as an event stream, broken as its markers ask. */
export function streamCompletion(res: StreamResponse, answer: StreamAnswer, stats: StreamStats): void {
  const { model, user, includeUsage } = answer;
  stats.started++;
  let closed = false;
  res.on("close", () => {
    closed = true;
    if (res.writableFinished) return;
    if (user.includes("__stream_stall__")) stats.stalls_closed++;
    else if (user.includes("__stream_slow__")) stats.slow_cut++;
    else if (user.includes("__stream_huge__")) stats.huge_cut++;
  });
  res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache" });
  res.write(chunk(model, { role: "assistant", content: "" }, null, includeUsage));
  const content = (text: string) => chunk(model, { content: text }, null, includeUsage);

  if (user.includes("__stream_huge__")) {
    let sent = 0;
    const pump = () => {
      while (!closed && sent < STREAM_HUGE_BYTES) {
        const drained = res.write(content(HUGE_PIECE));
        sent += HUGE_PIECE.length;
        stats.huge_max_bytes_sent = Math.max(stats.huge_max_bytes_sent, sent);
        if (!drained) return void res.once("drain", pump);
      }
      if (!closed) res.end(event("[DONE]"));
    };
    return pump();
  }

  if (user.includes("__stream_long__")) {
    // A long, valid answer in 16 KiB pieces, written only as fast as the client reads (the bench's memory check).
    const text = JSON.stringify({ summary: "word ".repeat(Math.floor((STREAM_LONG_BYTES - 16) / 5)) });
    let at = 0;
    const pump = () => {
      while (!closed && at < text.length) {
        const drained = res.write(content(text.slice(at, at + HUGE_PIECE.length)));
        at += HUGE_PIECE.length;
        if (!drained) return void res.once("drain", pump);
      }
      if (closed) return;
      res.write(chunk(model, {}, "stop", includeUsage));
      if (includeUsage)
        res.write(
          event({ id: "chatcmpl-test", object: "chat.completion.chunk", model, choices: [], usage: STREAM_USAGE }),
        );
      res.end(event("[DONE]"));
    };
    return pump();
  }

  const parts = pieces(answer.content);
  if (user.includes("__stream_stall__")) return void res.write(content(parts[0] ?? "..."));
  if (user.includes("__stream_malformed__")) {
    res.write(content(parts[0] ?? "..."));
    return void res.end("data: {not json\n\n");
  }
  const tail = user.includes("__stream_no_done__")
    ? []
    : [
        chunk(model, {}, "stop", includeUsage),
        ...(includeUsage && !user.includes("__stream_no_usage__")
          ? [event({ id: "chatcmpl-test", object: "chat.completion.chunk", model, choices: [], usage: STREAM_USAGE })]
          : []),
        event("[DONE]"),
      ];
  const writes = [...parts.map(content), ...tail];
  if (!user.includes("__stream_slow__")) {
    for (const w of writes) res.write(w);
    return void res.end();
  }
  const next = (i: number) => {
    if (closed) return;
    if (i >= writes.length) return void res.end();
    res.write(writes[i] ?? "");
    setTimeout(() => next(i + 1), STREAM_SLOW_INTERVAL_MS);
  };
  next(0);
}
