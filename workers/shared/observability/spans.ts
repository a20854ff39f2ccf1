/**
 * The tracing facade business code uses: named spans with attributes, error
 * status on failure, and the current trace id. Backed by the OpenTelemetry
 * API, so without a registered provider (tracing off, unit tests) every call
 * is a cheap no-op.
 */
import { type Attributes, INVALID_SPAN_CONTEXT, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

const TRACER = "zahara";

/**
 * Runs `fn` inside a child span `name`; an exception sets status ERROR and is
 * recorded, then rethrown. Tracing never fails the work: if the tracer
 * cannot start a span (e.g. called outside an instrumented request), `fn`
 * runs with a non-recording span.
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  let started = false;
  try {
    return await trace.getTracer(TRACER).startActiveSpan(name, { attributes }, async (span) => {
      started = true;
      try {
        return await fn(span);
      } catch (error) {
        markError(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  } catch (error) {
    if (started) throw error;
    return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  }
}

/** Sets status ERROR with a message (never a stack or secret) and records the exception. */
export function markError(span: Span, error: unknown, message?: string): void {
  const text = message ?? (error instanceof Error ? error.message : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: text });
  if (error instanceof Error) span.recordException({ name: error.name, message: error.message });
}

/** The active trace id, or undefined when there is no (valid) active span. */
export function currentTraceId(): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}
