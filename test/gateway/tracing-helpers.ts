/**
 * Helpers for the tracing tests: reading spans back from the local OTLP
 * receivers (test/doubles/otlp-receiver.ts), walking a trace, and trace ids
 * with a known ratio decision. The ratio reads the last 8 hex digits of a
 * trace id as a fraction of 2^32 (workers/shared/observability/sampling.ts),
 * so at ratio 0.5 an id ending below 80000000 is kept and one ending at or
 * above it is dropped.
 */
import { env } from "cloudflare:test";
import type { ReceivedSpan } from "../doubles/otlp-receiver";

interface ReceiverVars {
  TEST_OTLP_CONTROL_URL: string;
  TEST_OTLP_STEADY_CONTROL_URL: string;
  TEST_OTLP_STEADY_ENDPOINT: string;
}
const vars = env as unknown as ReceiverVars;

/** Collector URL of the steady receiver (never switched to a fault), where agent-demo exports. */
export const STEADY_ENDPOINT = vars.TEST_OTLP_STEADY_ENDPOINT;

async function read(controlUrl: string): Promise<ReceivedSpan[]> {
  return (await (await fetch(`${controlUrl}/spans`)).json()) as ReceivedSpan[];
}

/** Every span either receiver has (the gateway and agent-custom export to one, agent-demo to the steady one). */
export async function allSpans(): Promise<ReceivedSpan[]> {
  const [shared, steady] = await Promise.all([read(vars.TEST_OTLP_CONTROL_URL), steadySpans()]);
  return [...shared, ...steady];
}

/** Every span the steady receiver has. */
export function steadySpans(): Promise<ReceivedSpan[]> {
  return read(vars.TEST_OTLP_STEADY_CONTROL_URL);
}

/** The spans of one trace in the steady receiver. */
export async function steadyTrace(traceId: string): Promise<ReceivedSpan[]> {
  return (await steadySpans()).filter((s) => s.traceId === traceId);
}

/** True when `span` descends from `ancestor` within `trace`. */
export function descends(trace: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const ids = new Map(trace.map((s) => [s.spanId, s]));
  let cur: ReceivedSpan | undefined = span;
  for (let i = 0; i < 50 && cur; i++) {
    if (cur.parentSpanId === ancestor.spanId) return true;
    cur = cur.parentSpanId ? ids.get(cur.parentSpanId) : undefined;
  }
  return false;
}

/** `n` random bytes as hex. */
export const hex = (n: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");

/** A random trace id whose last 8 hex digits are below 80000000 (kept at ratio 0.5). */
export const keptAtHalf = () => `${hex(12)}${Math.floor(Math.random() * 8).toString(16)}${hex(4).slice(1)}`;

/** A random trace id whose last 8 hex digits are at or above 80000000 (dropped at ratio 0.5). */
export const droppedAtHalf = () => `${hex(12)}${(8 + Math.floor(Math.random() * 8)).toString(16)}${hex(4).slice(1)}`;

/** A caller's `traceparent` for `traceId` (a new span id; the sampled flag as given). */
export function traceparentFor(traceId: string, sampled = true): { header: string; spanId: string } {
  const spanId = hex(8);
  return { header: `00-${traceId}-${spanId}-0${sampled ? 1 : 0}`, spanId };
}
