/**
 * Collects ended spans per trace and exports a trace's spans when the
 * instrumentation flushes it (after the response, in `waitUntil`). Unlike the
 * library's processor it never rejects, never waits on an export longer than
 * the exporter's timeout, and bounds its memory: traces that are never
 * flushed are evicted oldest first once `maxSpans` are held.
 */
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";

/** Default cap on buffered spans per isolate. */
export const DEFAULT_MAX_BUFFERED_SPANS = 4096;

/** Span processor that exports per trace, safely. */
export class TraceBufferProcessor implements SpanProcessor {
  private readonly traces = new Map<string, ReadableSpan[]>();
  private buffered = 0;

  constructor(
    private readonly exporter: SpanExporter | undefined,
    private readonly maxSpans = DEFAULT_MAX_BUFFERED_SPANS,
  ) {}

  /** Spans waiting for their trace's flush (for tests and diagnostics). */
  get bufferedSpans(): number {
    return this.buffered;
  }

  onStart(_span: Span, _parentContext: Context): void {}

  /** Buffers an ended span under its trace (dropped when nothing exports). */
  onEnd(span: ReadableSpan): void {
    if (!this.exporter) return;
    const traceId = span.spanContext().traceId;
    const list = this.traces.get(traceId);
    if (list) list.push(span);
    else this.traces.set(traceId, [span]);
    this.buffered++;
    while (this.buffered > this.maxSpans) {
      const oldest = this.traces.keys().next().value;
      if (oldest === undefined) break;
      this.buffered -= this.traces.get(oldest)?.length ?? 0;
      this.traces.delete(oldest);
    }
  }

  /** Exports one trace (or all); resolves when the export ends or times out; never rejects. */
  async forceFlush(traceId?: string): Promise<void> {
    const ids = traceId !== undefined ? [traceId] : [...this.traces.keys()];
    await Promise.all(ids.map((id) => this.flushTrace(id)));
  }

  private flushTrace(traceId: string): Promise<void> {
    const spans = this.traces.get(traceId);
    if (!spans || spans.length === 0 || !this.exporter) return Promise.resolve();
    this.traces.delete(traceId);
    this.buffered -= spans.length;
    const exporter = this.exporter;
    return new Promise<void>((resolve) => {
      try {
        exporter.export(spans, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  /** Flushes everything. */
  async shutdown(): Promise<void> {
    await this.forceFlush();
  }
}
