/**
 * Which traces are exported: two rules, either one keeps a trace.
 *
 * - **Ratio, at the head.** An ordinary trace is kept when its trace id falls
 *   under `OTEL_TRACES_SAMPLER_ARG`. The call is a pure function of the id,
 *   so the gateway and every agent keep or drop the same ordinary traces
 *   without talking, whatever `traceparent` flags a caller sends; it is known
 *   when the trace starts and goes out as the sampled flag of `traceparent`.
 * - **Errors and slowness, at the tail.** When a service's part of a trace
 *   ends (its local root span), the part is kept whole if any of its spans
 *   has status ERROR, its root answered HTTP 5xx, or its root lasted at least
 *   `OTEL_TRACES_SLOW_MS`. Each service decides for its own part, knowing
 *   nothing of the others': a request slow in the gateway (admission,
 *   backoffs, a slow attempt it abandoned) but fast in the agent exports the
 *   gateway's part and not the agent's, unless the ratio keeps both; an
 *   agent failing or slow on its own is kept on both sides, because the
 *   gateway's part then fails or lasts longer too.
 *
 * Every span is recorded (cheaply, see `tracer.ts`) so a failure can be
 * exported whole; only kept traces are serialised and sent.
 */
import { SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { SAMPLED_FLAG } from "./trace-context";

/** Why a trace was kept. */
export type KeepReason = "ratio" | "error" | "slow";

/**
 * True when the ratio keeps the trace: the last 8 hex digits of the id (part
 * of the random part of a W3C trace id) read as a fraction of 2^32.
 */
export function ratioKeeps(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (!(ratio > 0)) return false;
  const low = parseInt(traceId.slice(-8), 16);
  return Number.isFinite(low) && low / 0x1_0000_0000 < ratio;
}

/** Milliseconds of a span (from its `duration`). */
export function durationMs(span: ReadableSpan): number {
  const [s, ns] = span.duration;
  return s * 1000 + ns / 1e6;
}

/** True when a span failed: status ERROR, or a root that answered 5xx. */
export function spanFailed(span: ReadableSpan): boolean {
  if (span.status.code === SpanStatusCode.ERROR) return true;
  const status = span.attributes["http.response.status_code"];
  return span.kind === 1 /* SERVER */ && typeof status === "number" && status >= 500;
}

/** True for a local root: no parent, or a parent in another service. */
export function isLocalRoot(span: ReadableSpan): boolean {
  return span.parentSpanContext === undefined || span.parentSpanContext.isRemote === true;
}

/**
 * Decides a finished part of a trace: `failed` says whether any of its spans
 * failed (tracked as they ended), `root` is its local root when known.
 * Without a root (spans handed in by other means) the ratio is read from
 * the spans' sampled flag.
 */
export function keepReason(
  spans: readonly ReadableSpan[],
  root: ReadableSpan | undefined,
  failed: boolean,
  slowMs: number,
): KeepReason | undefined {
  if (failed) return "error";
  const sampledFlag = (s: ReadableSpan) => (s.spanContext().traceFlags & SAMPLED_FLAG) !== 0;
  const sampled = root ? sampledFlag(root) : spans.some(sampledFlag);
  if (sampled) return "ratio";
  if (root && slowMs > 0 && durationMs(root) >= slowMs) return "slow";
  return undefined;
}
