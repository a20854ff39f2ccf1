/**
 * Buffers ended spans per trace and, when a service's part of a trace ends,
 * decides it (`sampling.ts`): kept whole (the ratio took it, or it failed,
 * or it was slow) or dropped at once. Nothing of a dropped part is ever
 * serialised. Kept parts are exported after the response: the decision is
 * made synchronously at the end of the request, but the export waits a
 * timer turn, so serialisation never runs on the request's time, and parts
 * kept within the same short window go out in one request to the
 * collector. It never rejects, never waits on an export longer than the
 * exporter's timeout, and bounds its memory: parts that are never decided
 * are evicted oldest first once `maxSpans` are held.
 */
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { DEFAULT_SLOW_MS } from "./tracing-config";
import { type KeepReason, isLocalRoot, keepReason, spanFailed } from "./sampling";
import { counters } from "./stats";

/** Default cap on buffered spans per isolate. */
export const DEFAULT_MAX_BUFFERED_SPANS = 4096;

/** Kept parts ending within this many ms share one export request. */
export const DEFAULT_BATCH_WINDOW_MS = 50;

/** An export request carries at most this many spans (a full batch goes out at once). */
export const MAX_SPANS_PER_EXPORT = 512;

/** Options of {@link TraceBufferProcessor}. */
export interface TraceBufferOptions {
  /** Root spans at least this long keep their trace; 0 = no slow rule (default 1000). */
  slowMs?: number;
  /** See {@link DEFAULT_BATCH_WINDOW_MS}. */
  batchWindowMs?: number;
}

interface Buffered {
  spans: ReadableSpan[];
  failed: boolean;
  root: ReadableSpan | undefined;
}

const KEPT: Record<KeepReason, "keptByRatio" | "keptByError" | "keptBySlow"> = {
  ratio: "keptByRatio",
  error: "keptByError",
  slow: "keptBySlow",
};

/** Span processor that decides per trace, then exports in small batches, safely. */
export class TraceBufferProcessor implements SpanProcessor {
  /** What this processor sent (the isolate's totals are in `stats.ts`). */
  readonly sent = { exports: 0, spans: 0 };
  private readonly traces = new Map<string, Buffered>();
  private buffered = 0;
  private pending: ReadableSpan[] = [];
  private pendingFlush: Promise<void> | undefined;
  private readonly slowMs: number;
  private readonly batchWindowMs: number;

  constructor(
    private readonly exporter: SpanExporter | undefined,
    private readonly maxSpans = DEFAULT_MAX_BUFFERED_SPANS,
    options: TraceBufferOptions = {},
  ) {
    this.slowMs = options.slowMs ?? DEFAULT_SLOW_MS;
    this.batchWindowMs = options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
  }

  /** Spans waiting for their trace's decision (for tests and diagnostics). */
  get bufferedSpans(): number {
    return this.buffered;
  }

  onStart(_span: Span, _parentContext: Context): void {}

  /** Buffers an ended span under its trace (dropped when nothing exports), noting failures and the local root. */
  onEnd(span: ReadableSpan): void {
    if (!this.exporter) return;
    const traceId = span.spanContext().traceId;
    let entry = this.traces.get(traceId);
    if (!entry) this.traces.set(traceId, (entry = { spans: [], failed: false, root: undefined }));
    entry.spans.push(span);
    if (!entry.failed && spanFailed(span)) entry.failed = true;
    if (isLocalRoot(span)) entry.root = span;
    this.buffered++;
    while (this.buffered > this.maxSpans) {
      const oldest = this.traces.keys().next().value;
      if (oldest === undefined) break;
      const evicted = this.traces.get(oldest)?.spans.length ?? 0;
      this.buffered -= evicted;
      counters.spansDiscarded += evicted;
      this.traces.delete(oldest);
    }
  }

  /**
   * Decides the buffered part of `traceId` now. Dropped: forgotten at once.
   * Kept: queued for export. Returns a promise only when this call started
   * the flush that will carry the part (hand it to that request's
   * `waitUntil`); a part queued behind a flush another request started
   * rides on that one, so no request ever waits on another's promise.
   */
  settle(traceId: string): Promise<void> | undefined {
    const entry = this.traces.get(traceId);
    if (!entry) return undefined;
    this.traces.delete(traceId);
    this.buffered -= entry.spans.length;
    const reason = keepReason(entry.spans, entry.root, entry.failed, this.slowMs);
    if (!reason) {
      counters.tracesDropped++;
      return undefined;
    }
    counters[KEPT[reason]]++;
    return this.queue(entry.spans);
  }

  /** Decides one trace (or all buffered) and waits for the exports carrying them; never rejects. */
  async forceFlush(traceId?: string): Promise<void> {
    const ids = traceId !== undefined ? [traceId] : [...this.traces.keys()];
    const started = ids.map((id) => this.settle(id));
    await Promise.all([...started, this.pendingFlush]);
  }

  /** Flushes everything. */
  async shutdown(): Promise<void> {
    await this.forceFlush();
  }

  private queue(spans: ReadableSpan[]): Promise<void> | undefined {
    for (const span of spans) this.pending.push(span);
    if (this.pending.length >= MAX_SPANS_PER_EXPORT) return this.flushAfter(0, this.take());
    if (this.pendingFlush) return undefined;
    const flush = this.flushAfter(this.batchWindowMs);
    this.pendingFlush = flush;
    return flush;
  }

  /**
   * Waits `ms` — a timer turn at least, so the response has gone out before
   * any serialising — then sends `batch`, or what is pending.
   */
  private async flushAfter(ms: number, batch?: ReadableSpan[]): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (!batch) this.pendingFlush = undefined;
    await this.send(batch ?? this.take());
  }

  private take(): ReadableSpan[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  private send(spans: ReadableSpan[]): Promise<void> {
    const exporter = this.exporter;
    if (!exporter || spans.length === 0) return Promise.resolve();
    counters.exports++;
    counters.spansExported += spans.length;
    this.sent.exports++;
    this.sent.spans += spans.length;
    return new Promise<void>((resolve) => {
      try {
        exporter.export(spans, () => resolve());
      } catch {
        resolve();
      }
    });
  }
}
