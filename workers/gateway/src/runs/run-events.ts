/**
 * A run's live changes as server-sent events (`GET /v1/runs/:id/events`),
 * held by its Durable Object: each subscriber first gets the run as it is,
 * then one `status` event per change (data: the run as `GET` shows it, `id`:
 * the run's change counter), and the stream ends after the event of a final
 * state. A comment every 15 s keeps idle connections open through proxies.
 * A subscriber that went away is dropped at its next write. A stream cut by
 * a restart of the runtime just ends: the client reconnects and gets the run
 * as it is then (the first event is always the current state).
 */
import { encodeComment } from "../../../shared/http/sse";
import { FINAL_STATUSES, type RunView } from "./types";

/** Keep-alive comment interval. */
export const KEEPALIVE_MS = 15_000;

const encoder = new TextEncoder();

function statusEvent(view: RunView, seq: number): string {
  return `event: status\nid: ${seq}\ndata: ${JSON.stringify(view)}\n\n`;
}

/** The open event streams of one run. */
export class RunEvents {
  private readonly subscribers = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  private keepalive?: ReturnType<typeof setInterval>;

  /** A new subscriber's response: the run as it is now, then its changes (or the end, when `final`). */
  subscribe(view: RunView, seq: number, final: boolean, signal: AbortSignal): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    void writer.write(encoder.encode(statusEvent(view, seq))).catch(() => undefined);
    if (final) void writer.close().catch(() => undefined);
    else {
      this.subscribers.add(writer);
      signal.addEventListener("abort", () => this.drop(writer), { once: true });
      this.keepalive ??= setInterval(() => this.broadcast(encodeComment("keep-alive"), false), KEEPALIVE_MS);
    }
    return new Response(readable, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
      },
    });
  }

  /** Sends a change to every subscriber; a final state ends every stream. */
  publish(view: RunView, seq: number): void {
    this.broadcast(statusEvent(view, seq), FINAL_STATUSES.includes(view.status));
  }

  private broadcast(text: string, close: boolean): void {
    const bytes = encoder.encode(text);
    for (const writer of this.subscribers) {
      writer.write(bytes).catch(() => this.drop(writer));
      if (close) this.drop(writer, true);
    }
  }

  private drop(writer: WritableStreamDefaultWriter<Uint8Array>, close = false): void {
    if (!this.subscribers.delete(writer)) return;
    if (close) void writer.close().catch(() => undefined);
    else void writer.abort().catch(() => undefined);
    if (this.subscribers.size === 0 && this.keepalive !== undefined) {
      clearInterval(this.keepalive);
      this.keepalive = undefined;
    }
  }
}
