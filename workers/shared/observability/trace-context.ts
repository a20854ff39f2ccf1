/**
 * W3C Trace Context by hand: reading and writing `traceparent`, and new trace
 * and span ids. Written here rather than through a propagator object because
 * it runs on every request, traced or not (context flows to agents even with
 * tracing off), and checking characters and slicing strings is all it takes.
 */
import type { SpanContext } from "@opentelemetry/api";

/** The header. */
export const TRACEPARENT_HEADER = "traceparent";

/** Bit 0 of the trace flags: the caller's (here: the ratio's) decision to keep the trace. */
export const SAMPLED_FLAG = 1;

const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);
const DASH = 45;

/** True when `s[from..to)` is lowercase hex (W3C allows no uppercase). */
function isHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * The remote parent in a `traceparent` value, or undefined when it is absent
 * or invalid (version ff, all-zero ids, uppercase, a version 00 header with
 * extra parts). Checked character by character: it runs on every request.
 */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  if (!value) return undefined;
  const v = value.length === 55 ? value : value.trim();
  if (v.length < 55 || v.length > 512) return undefined;
  if (v.charCodeAt(2) !== DASH || v.charCodeAt(35) !== DASH || v.charCodeAt(52) !== DASH) return undefined;
  if (!isHex(v, 0, 2) || !isHex(v, 3, 35) || !isHex(v, 36, 52) || !isHex(v, 53, 55)) return undefined;
  const version = v.slice(0, 2);
  if (version === "ff" || (v.length > 55 && (version === "00" || v.charCodeAt(55) !== DASH))) return undefined;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, traceFlags: parseInt(v.slice(53, 55), 16), isRemote: true };
}

/** `traceparent` for a span context (version 00; only the sampled bit of the flags is sent). */
export function formatTraceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-0${ctx.traceFlags & SAMPLED_FLAG}`;
}

/** Eight random hex digits (ids need to be unique, not secret: Math.random is enough and cheap). */
function hex8(): string {
  return ((Math.random() * 0x1_0000_0000) >>> 0).toString(16).padStart(8, "0");
}

/** A new 32-hex-digit trace id, never all zeros. */
export function newTraceId(): string {
  const id = hex8() + hex8() + hex8() + hex8();
  return id === ZERO_TRACE ? newTraceId() : id;
}

/** A new 16-hex-digit span id, never all zeros. */
export function newSpanId(): string {
  const id = hex8() + hex8();
  return id === ZERO_SPAN ? newSpanId() : id;
}
