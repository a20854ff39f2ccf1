/**
 * Reading an agent's event stream in tests: incrementally, with SseParser, as
 * a client would, noting when each event arrived; plus asserting the shape of
 * the contract's `done` and `error` events and fetching the double's counters.
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { SseParser } from "../../workers/shared/http/sse";
import type { StreamStats } from "../doubles/openai-stream";

/** `Accept` of a streaming caller. */
export const STREAM = { Accept: "text/event-stream" };

/** One event read from a stream: name, parsed data, and ms since reading began. */
export interface ReadEvent {
  event: string;
  data: Record<string, unknown>;
  at: number;
}

/**
 * Reads `res`'s body to its end (or until `stopAfter` returns true, then
 * cancels it), parsing events as the bytes arrive.
 */
export async function readEvents(
  res: Response,
  stopAfter: (e: ReadEvent, all: ReadEvent[]) => boolean = () => false,
): Promise<ReadEvent[]> {
  const started = Date.now();
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const events: ReadEvent[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    for (const e of parser.push(value)) {
      const read = { event: e.event, data: JSON.parse(e.data) as Record<string, unknown>, at: Date.now() - started };
      events.push(read);
      if (stopAfter(read, events)) {
        await reader.cancel();
        return events;
      }
    }
  }
}

/** Asserts a 200 event stream with the contract's headers. */
export function expectStreamHeaders(res: Response): void {
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe("text/event-stream; charset=utf-8");
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(res.headers.get("X-Request-Id")).toMatch(/.+/);
}

/** The text of all `delta` events, joined. */
export function deltaText(events: ReadEvent[]): string {
  return events
    .filter((e) => e.event === "delta")
    .map((e) => e.data.text ?? "")
    .join("");
}

/** Asserts that the stream ended with exactly one `error` event of `code` and `status`, and returns its data. */
export function expectErrorEvent(events: ReadEvent[], code: string, status: number): Record<string, unknown> {
  const last = events.at(-1);
  expect(last?.event, JSON.stringify(events.slice(-2))).toBe("error");
  expect(events.filter((e) => e.event === "error" || e.event === "done")).toHaveLength(1);
  expect(last!.data).toMatchObject({ code, status, service: "agent-demo" });
  expect(typeof last!.data.error).toBe("string");
  expect(typeof last!.data.request_id).toBe("string");
  expect(typeof last!.data.duration_ms).toBe("number");
  return last!.data;
}

/** Asserts that the stream ended with exactly one `done` event, and returns its data. */
export function expectDone(events: ReadEvent[]): Record<string, unknown> {
  const last = events.at(-1);
  expect(last?.event, JSON.stringify(events.slice(-2))).toBe("done");
  expect(events.filter((e) => e.event === "error" || e.event === "done")).toHaveLength(1);
  return last!.data;
}

/**
 * A failure that may come before or after the first piece (it depends on how
 * the provider's bytes are cut): a JSON error answer, or a 200 stream ending
 * with an `error` event. Either way, `code` and `status`.
 */
export async function expectFailure(res: Response, code: string, status: number): Promise<void> {
  if (res.headers.get("Content-Type")?.startsWith("application/json")) {
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ code });
    return;
  }
  expectStreamHeaders(res);
  expectErrorEvent(await readEvents(res), code, status);
}

/** The double's stream counters. */
export async function streamStats(): Promise<StreamStats> {
  return (await (await fetch(`${env.LLM_BASE_URL}/__stream_stats__`)).json()) as StreamStats;
}
