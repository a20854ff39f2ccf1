/**
 * The tracing facade business code uses: named spans with attributes, error
 * status on failure, and the current trace id. Backed by `tracer.ts`: when
 * the active span is not recorded (tracing off, outside a traced request,
 * unit tests) `inSpan` just runs the work — no span object, no context
 * switch; when it is, the child is a plain recorded object (see `tracer.ts`).
 */
import { type Attributes, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { activeContext, withContext } from "./context";
import { startChildSpan, unrecordedSpan } from "./tracer";

/**
 * Runs `fn` inside a child span `name`; an exception sets status ERROR and is
 * recorded, then rethrown. Tracing never fails the work: without a recorded
 * parent, `fn` runs with a non-recording span.
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = activeContext();
  const span = startChildSpan(name, attributes, parent);
  if (!span) return fn(unrecordedSpan(parent));
  return withContext(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (error) {
      markError(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Sets status ERROR with a message (never a stack or secret) and records the exception. */
export function markError(span: Span, error: unknown, message?: string): void {
  const text = message ?? (error instanceof Error ? error.message : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: text });
  if (error instanceof Error) span.recordException({ name: error.name, message: error.message });
}

/** The active trace id, or undefined when there is no (valid) active span. */
export function currentTraceId(): string | undefined {
  const ctx = trace.getSpan(activeContext())?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}

/** Requests whose answer goes on after the handler returns, and when it ends (see {@link endSpanWhen}). */
const answerEnds = new WeakMap<Request, Promise<unknown>>();

/**
 * Keeps the request's span open until `ended` settles, for an answer that goes on after the handler returns
 * (a relayed stream that knows when it ends). Costs nothing per chunk, unlike wrapping the body.
 */
export function endSpanWhen(request: Request, ended: Promise<unknown>): void {
  answerEnds.set(request, ended);
}

/** When `request`'s answer ends, if {@link endSpanWhen} was told (for `instrument.ts`). */
export function answerEndOf(request: Request): Promise<unknown> | undefined {
  return answerEnds.get(request);
}
