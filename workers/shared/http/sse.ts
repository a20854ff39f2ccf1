/**
 * Server-sent events as Zahara streams them, from the LLM provider through
 * the agent and the gateway to the caller: the encoder, an incremental parser
 * (for the agent reading its provider, the gateway reading its agent, and
 * clients), and the event names and payloads of the contract:
 *
 * - `delta`, data `{text}` (or `{data}` for a structured piece), any number;
 * - `done`, data `{result, usage?, request_id, duration_ms, ...}`, once, last;
 * - `error`, data Zahara's error shape, once, last (instead of `done`).
 *
 * Runtime-neutral (no Workers types): the dashboard and Node clients use it too.
 */

/** `Content-Type` of an event stream. */
export const SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8";

/** One parsed event: its name (`message` when unnamed) and its data lines joined with `\n`. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** The contract's event names. */
export type StreamEventName = "delta" | "done" | "error";

/** True when an `Accept` header asks for an event stream (and not JSON first). */
export function wantsEventStream(accept: string | null | undefined): boolean {
  if (!accept) return false;
  let best: { type: string; q: number } | undefined;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.trim().toLowerCase().split(";");
    const q = Number(
      params
        .map((p) => p.trim())
        .find((p) => p.startsWith("q="))
        ?.slice(2) ?? "1",
    );
    if (type !== "text/event-stream" && type !== "application/json") continue;
    if (!best || q > best.q) best = { type, q: Number.isFinite(q) ? q : 0 };
  }
  return best?.type === "text/event-stream" && best.q > 0;
}

/** One event as text: `event: <name>` and one `data:` line of JSON (JSON text has no raw newline). */
export function encodeEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line (ignored by parsers), e.g. to keep a connection open. */
export function encodeComment(text: string): string {
  return `: ${text.replace(/[\r\n]/g, " ")}\n\n`;
}

/**
 * Parses an event stream incrementally: `push` text as it arrives, get the
 * events it completes. Handles `\n`, `\r\n` and `\r` line ends, comments,
 * several `data:` lines, and events split across chunks anywhere.
 */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private id: string | undefined;
  private sawCr = false;

  /** Feeds `chunk`; returns the events it completed, in order. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    // A `\r\n` split across chunks: the `\r` ended the line already, so drop the `\n`.
    if (this.sawCr && text.startsWith("\n")) text = text.slice(1);
    this.sawCr = text.endsWith("\r");
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const done = this.line(line);
      if (done) out.push(done);
    }
    return out;
  }

  /** Characters held for an unfinished line (a bound for callers that cap line length). */
  get pending(): number {
    return this.buffer.length + this.data.reduce((n, d) => n + d.length, 0);
  }

  private line(line: string): SseEvent | undefined {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = "";
        return undefined;
      }
      const done: SseEvent = {
        event: this.event || "message",
        data: this.data.join("\n"),
        ...(this.id !== undefined ? { id: this.id } : {}),
      };
      this.event = "";
      this.data = [];
      return done;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return undefined;
  }
}
