/**
 * A local OpenAI-compatible chat-completions server for tests: it speaks the
 * real protocol over HTTP so the runtime's LLM client is exercised end to end
 * without the network. Behaviour is chosen by markers in the user message:
 *
 * - `__provider_500__` → HTTP 500 with an OpenAI error body
 * - `__provider_429__` → HTTP 429 with `Retry-After: 7`
 * - `__malformed__`    → 200 whose content is prose, not JSON
 * - `__wrong_shape__`  → 200 whose JSON misses the schema's required fields
 * - `__echo_prompt__`  → 200 whose first string field holds the system prompt
 * - `__pii_answer__`   → 200 whose strings hold an email address (`leak@example.com`)
 * - `__slow__`         → answers after 2 s
 * - `__huge__`         → 200 streaming a 64 MiB completion in 16 KiB chunks (no
 *                        Content-Length), written only as fast as the client reads
 * - otherwise          → 200 with JSON generated from the requested schema
 *
 * A request with `stream: true` gets the same answer (same markers, same
 * content) as an event stream of `chat.completion.chunk`s, the content cut
 * into 4-character pieces, then a `finish_reason` chunk, a usage chunk when
 * `stream_options.include_usage` is set, and `data: [DONE]` (openai-stream.ts).
 * `__provider_500__`, `__provider_429__` and `__slow__` act before the stream
 * starts, as above. These markers break the stream instead (ignored without
 * `stream: true`):
 *
 * - `__stream_slow__`      → chunks 100 ms apart
 * - `__stream_stall__`     → one content chunk, then nothing, never ending
 * - `__stream_malformed__` → one content chunk, then a chunk that is not JSON, then the end
 * - `__stream_no_done__`   → all content, then the end: no `finish_reason`, no `[DONE]`
 * - `__stream_no_usage__`  → no usage chunk, even when asked for
 * - `__stream_huge__`      → 64 MiB of content in 16 KiB chunks, written only as fast as the client reads
 * - `__stream_long__`      → a valid `{summary}` answer of 2 MiB in 16 KiB chunks, read-paced (the bench)
 *
 * Requests without `Authorization: Bearer <apiKey>` get 401. `GET /v1/__huge_stats__`
 * (no key) tells how the huge answers went: how many started, were cut by the
 * client before their end, or were sent whole, and the most bytes written to one.
 * `GET /v1/__stream_stats__` does the same for streams (see `StreamStats`).
 * `GET /v1/__requests__` (no key) lists the last {@link RECORDED_REQUESTS}
 * completion requests as received (`messages`, `max_tokens`, `stream`), oldest
 * first: a test finds its own by a unique marker in the user message.
 */
import { type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { newStreamStats, streamCompletion } from "./openai-stream.ts";

/** A running double. */
export interface OpenAiDouble {
  url: string;
  apiKey: string;
  close(): Promise<void>;
}

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  items?: Schema;
};

/** Builds a value that satisfies a (simple) JSON Schema. */
export function sampleFor(schema: Schema | undefined, text = "stub"): unknown {
  if (!schema) return text;
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(schema.properties ?? {})) out[key] = sampleFor(sub, text);
      return out;
    }
    case "array":
      return [sampleFor(schema.items, text)];
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return true;
    default:
      return text;
  }
}

function firstStringKey(schema: Schema | undefined): string | undefined {
  return Object.entries(schema?.properties ?? {}).find(([, s]) => s.type === "string" && !s.enum)?.[0];
}

function completion(content: string, model: string) {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
  };
}

/** The request body the double reads. */
type CompletionRequest = {
  model?: string;
  messages?: { role: string; content: string }[];
  response_format?: { json_schema?: { schema?: Schema } };
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
};

function answer(body: CompletionRequest): { status: number; headers?: Record<string, string>; json: unknown } {
  const user = body.messages?.find((m) => m.role === "user")?.content ?? "";
  const system = body.messages?.find((m) => m.role === "system")?.content ?? "";
  const schema = body.response_format?.json_schema?.schema;
  const model = body.model ?? "unknown";
  if (user.includes("__provider_500__"))
    return { status: 500, json: { error: { message: "The server had an error", type: "server_error" } } };
  if (user.includes("__provider_429__")) {
    return {
      status: 429,
      headers: { "Retry-After": "7" },
      json: { error: { message: "Rate limit reached", type: "rate_limit_error" } },
    };
  }
  if (user.includes("__malformed__"))
    return { status: 200, json: completion("Sure! Here is a summary of your text.", model) };
  if (user.includes("__wrong_shape__"))
    return { status: 200, json: completion(JSON.stringify({ unexpected: true }), model) };
  const pii = user.includes("__pii_answer__");
  const value = sampleFor(schema, pii ? "reach me at leak@example.com" : "stub") as Record<string, unknown>;
  if (user.includes("__echo_prompt__")) {
    const key = firstStringKey(schema);
    if (key) value[key] = system;
  }
  const content = schema ? JSON.stringify(value) : `text answer for: ${user}${pii ? " leak@example.com" : ""}`;
  return { status: 200, json: completion(content, model) };
}

/** Size of the `__huge__` answer and of each chunk written. */
export const HUGE_ANSWER_BYTES = 64 * 1024 * 1024;
const HUGE_CHUNK = Buffer.alloc(16 * 1024, "x");

/** How the `__huge__` answers went (served at `GET /v1/__huge_stats__`). */
export interface HugeStats {
  started: number;
  /** Connections the client closed before the answer's end. */
  cut: number;
  /** Answers written to their end. */
  completed: number;
  /** The most bytes written to one answer. */
  max_bytes_sent: number;
}

/**
 * Streams a completion whose content is ~64 MiB of "x", one chunk at a time and
 * only after the previous one drained, so it stops soon after the client stops reading.
 */
function streamHuge(res: ServerResponse, model: string, stats: HugeStats) {
  stats.started++;
  const [prefix = "", suffix = ""] = JSON.stringify(completion("@@", model)).split("@@");
  let sent = 0;
  let closed = false;
  const note = () => void (stats.max_bytes_sent = Math.max(stats.max_bytes_sent, sent));
  res.on("close", () => {
    closed = true;
    note();
    if (!res.writableFinished) stats.cut++;
  });
  res.writeHead(200, { "Content-Type": "application/json" });
  res.write(prefix);
  sent += Buffer.byteLength(prefix);
  const pump = () => {
    while (!closed && sent < HUGE_ANSWER_BYTES) {
      const drained = res.write(HUGE_CHUNK);
      sent += HUGE_CHUNK.byteLength;
      if (!drained) return void res.once("drain", pump);
    }
    if (closed) return;
    res.end(suffix, () => {
      stats.completed++;
      note();
    });
  };
  pump();
}

/** How many completion requests `GET /v1/__requests__` keeps. */
export const RECORDED_REQUESTS = 200;

/** A completion request as `GET /v1/__requests__` lists it. */
export interface RecordedRequest {
  messages: { role: string; content: string }[];
  max_tokens?: number;
  stream?: boolean;
}

/** Starts the double on 127.0.0.1 at a free port. */
export async function startOpenAiDouble(apiKey = "test-llm-key"): Promise<OpenAiDouble> {
  const huge: HugeStats = { started: 0, cut: 0, completed: 0, max_bytes_sent: 0 };
  const recorded: RecordedRequest[] = [];
  const streams = newStreamStats();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => {}); // the caller went away mid-request (its runtime stopped): nothing to answer
    req.on("end", () => {
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "Content-Type": "application/json", ...headers });
        res.end(JSON.stringify(json));
      };
      if (req.method === "GET" && req.url === "/v1/__huge_stats__") return send(200, huge);
      if (req.method === "GET" && req.url === "/v1/__stream_stats__") return send(200, streams);
      if (req.method === "GET" && req.url === "/v1/__requests__") return send(200, recorded);
      if (req.method !== "POST" || req.url !== "/v1/chat/completions")
        return send(404, { error: { message: "not found" } });
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        return send(401, {
          error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" },
        });
      }
      let body: CompletionRequest;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as CompletionRequest;
      } catch {
        return send(400, { error: { message: "invalid JSON" } });
      }
      const { messages = [], max_tokens, stream } = body;
      recorded.push({ messages, ...(max_tokens !== undefined ? { max_tokens } : {}), ...(stream ? { stream } : {}) });
      if (recorded.length > RECORDED_REQUESTS) recorded.shift();
      if (body.messages?.some((m) => m.role === "user" && m.content.includes("__huge__")))
        return streamHuge(res, body.model ?? "unknown", huge);
      const out = answer(body);
      const slow = body.messages?.some((m) => m.content.includes("__slow__"));
      const reply = () => {
        if (body.stream !== true || out.status !== 200) return send(out.status, out.json, out.headers);
        const content = (out.json as ReturnType<typeof completion>).choices[0]?.message.content ?? "";
        const user = body.messages?.find((m) => m.role === "user")?.content ?? "";
        streamCompletion(
          res,
          { model: body.model ?? "unknown", content, user, includeUsage: body.stream_options?.include_usage === true },
          streams,
        );
      };
      setTimeout(reply, slow ? 2000 : 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
