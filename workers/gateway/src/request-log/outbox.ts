/**
 * The request log's outbox: one per gateway isolate (owned by the app, never
 * module state). Entries wait here briefly and go to the queue together, in
 * one `sendBatch` of up to {@link OUTBOX_MAX_ENTRIES} messages, instead of one
 * `send` per request: a send is a round trip, and under load the per-request
 * sends were the largest part of what the request log cost (`npm run
 * bench:breakdown`).
 *
 * A batch goes out when it is full (by count or bytes) or {@link OUTBOX_FLUSH_MS}
 * after its first entry, from a timer in the `waitUntil` of the request that
 * added that entry, so the runtime keeps the isolate until it is sent. The
 * bound this trades for: an isolate that dies abruptly (a crash, not an
 * eviction, which waits for `waitUntil`) loses at most the entries of its
 * last {@link OUTBOX_FLUSH_MS}. A failed send is logged with the request ids
 * it carried, and dropped, like a failed write.
 */
import type { Logger } from "../../../shared/logger";
import { withTimeout } from "../../../shared/timeout";
import { OUTBOX_FLUSH_MS, type RequestLogEntry } from "./message";

export { OUTBOX_FLUSH_MS };
/** Queues' limit on messages per `sendBatch`. */
export const OUTBOX_MAX_ENTRIES = 100;
/** Queues' limit on a batch is 256 KB; a batch goes out before it would pass this. */
export const OUTBOX_MAX_BYTES = 240_000;

/** Where the outbox sends, and how long a send may take. */
export interface OutboxTarget {
  queue: Queue;
  logger?: Logger;
  timeoutMs: number;
  waitUntil(promise: Promise<unknown>): void;
}

/** Entries waiting for the queue. */
export class RequestLogOutbox {
  private entries: RequestLogEntry[] = [];
  private bytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** Adds `entry` (`size` bytes as JSON); sends the batch at once when full, else arms the flush timer. */
  add(entry: RequestLogEntry, size: number, target: OutboxTarget): void {
    if (this.bytes + size > OUTBOX_MAX_BYTES) target.waitUntil(this.flush(target));
    this.entries.push(entry);
    this.bytes += size;
    if (this.entries.length >= OUTBOX_MAX_ENTRIES) {
      target.waitUntil(this.flush(target));
      return;
    }
    if (this.timer !== undefined) return;
    target.waitUntil(
      new Promise<void>((resolve) => {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.flush(target).then(resolve);
        }, OUTBOX_FLUSH_MS);
      }),
    );
  }

  /** Sends what waits in one batch; never rejects (a failure is logged and the entries dropped). */
  async flush(target: OutboxTarget): Promise<void> {
    const batch = this.entries;
    if (batch.length === 0) return;
    this.entries = [];
    this.bytes = 0;
    try {
      const sent = target.queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
      await withTimeout(sent, target.timeoutMs, `request log send timed out after ${target.timeoutMs} ms`);
    } catch (err) {
      target.logger?.error("request log send failed", {
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        entries: batch.length,
        logged_request_ids: batch.slice(0, 20).map((e) => e.request.request_id),
        ...(batch.length === 1 ? { logged_request_id: batch[0]!.request.request_id } : {}),
      });
    }
  }
}
