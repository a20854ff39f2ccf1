/**
 * A tracer built to be cheap, behind the OpenTelemetry API. With tracing off
 * it records nothing: the context (trace id, parent span id) rides on one
 * non-recording span per request, and `inSpan` allocates nothing. With
 * tracing on it records every span of every trace — a trace outside the
 * ratio may still fail or be slow and must then be exported whole
 * (`sampling.ts`) — so recording is kept to a plain object per span: one
 * shallow copy of the attributes and no sanitising, times kept as epoch
 * milliseconds (OTLP's hrtime is computed only if the trace is exported),
 * no resource merging, ids from Math.random. Each service's part of a trace
 * (its {@link LocalTrace}) is bounded in spans, and a span that ends after
 * its part was decided is discarded, not leaked. The context manager is in
 * `context.ts`.
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type HrTime,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  type Tracer,
  INVALID_SPAN_CONTEXT,
  context,
  trace,
} from "@opentelemetry/api";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import { ratioKeeps } from "./sampling";
import { counters } from "./stats";
import { SAMPLED_FLAG, newSpanId, newTraceId } from "./trace-context";

/** A service's part of a trace holds at most this many spans; more run unrecorded. */
export const MAX_SPANS_PER_TRACE = 256;

/** Where ended spans go (the trace buffer). */
export interface SpanSink {
  onEnd(span: ReadableSpan): void;
}

type Resource = ReadableSpan["resource"];

/** One service's part of one trace (one request): its spans' sink and bounds. */
export class LocalTrace {
  /** Spans started so far (the cap counts them). */
  spans = 0;
  /** Set once the part was decided: later spans are discarded. */
  done = false;
  constructor(
    readonly sink: SpanSink,
    readonly resource: Resource,
  ) {}
}

const SCOPE = { name: "zahara" } as const;
const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };
const NO_EVENTS: TimedEvent[] = [];
const NO_LINKS: Link[] = [];
const NOOP_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Epoch milliseconds as OTel hrtime. */
export function hrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

function toMs(time: TimeInput | undefined): number {
  if (time === undefined) return Date.now();
  if (typeof time === "number") return time;
  if (time instanceof Date) return time.getTime();
  return time[0] * 1000 + time[1] / 1e6;
}

function copyAttributes(attributes: Attributes | undefined): Attributes {
  const out: Attributes = {};
  if (!attributes) return out;
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}

/** A recorded span: the API's Span while it runs, a ReadableSpan for the exporter once ended. */
export class RecordedSpan implements Span, ReadableSpan {
  readonly instrumentationScope = SCOPE;
  status: SpanStatus = UNSET;
  events: TimedEvent[] = NO_EVENTS;
  links: Link[] = NO_LINKS;
  endMs = 0;
  ended = false;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;

  constructor(
    private readonly context: SpanContext,
    public name: string,
    readonly kind: SpanKind,
    readonly attributes: Attributes,
    readonly parentSpanContext: SpanContext | undefined,
    readonly local: LocalTrace,
    readonly startMs: number = Date.now(),
  ) {}

  get resource(): Resource {
    return this.local.resource;
  }
  get startTime(): HrTime {
    return hrTime(this.startMs);
  }
  get endTime(): HrTime {
    return hrTime(this.endMs);
  }
  get duration(): HrTime {
    return hrTime(Math.max(0, this.endMs - this.startMs));
  }

  spanContext(): SpanContext {
    return this.context;
  }
  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (!this.ended && value !== undefined && value !== null) this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }
  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const a = attributesOrTime;
    const isTime = typeof a === "number" || a instanceof Date || Array.isArray(a);
    if (this.events === NO_EVENTS) this.events = [];
    const attributes = isTime ? {} : copyAttributes(attributesOrTime as Attributes | undefined);
    this.events.push({ name, attributes, time: hrTime(toMs(isTime ? (attributesOrTime as TimeInput) : time)) });
    return this;
  }
  addLink(link: Link): this {
    if (this.links === NO_LINKS) this.links = [];
    this.links.push(link);
    return this;
  }
  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }
  setStatus(status: SpanStatus): this {
    if (!this.ended) this.status = status;
    return this;
  }
  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }
  /** Ends the span; it goes to its trace's buffer unless the trace was already decided. */
  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    this.endMs = toMs(endTime);
    if (this.local.done) {
      counters.spansDiscarded++;
      return;
    }
    this.local.sink.onEnd(this);
  }
  isRecording(): boolean {
    return !this.ended;
  }
  /** An `exception` event with the type and message (never the stack: it may carry paths and data). */
  recordException(exception: Exception, time?: TimeInput): void {
    const e = typeof exception === "string" ? { message: exception } : exception;
    const attributes: Attributes = {};
    const type = e.name ?? (e.code !== undefined ? String(e.code) : undefined);
    if (type) attributes["exception.type"] = type;
    if (e.message) attributes["exception.message"] = e.message;
    this.addEvent("exception", attributes, time);
  }
}

/**
 * The root span of a service's part of a trace. With `local` (tracing on) it
 * is recorded, and its sampled flag is the ratio's call on the trace id;
 * without (tracing off) it is the caller's context as received, or a new one.
 */
export function startRootSpan(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  remote: SpanContext | undefined,
  local: LocalTrace | undefined,
  ratio: number,
): Span {
  if (!local) return trace.wrapSpanContext(remote ?? { traceId: newTraceId(), spanId: newSpanId(), traceFlags: 0 });
  const traceId = remote?.traceId ?? newTraceId();
  counters.spansRecorded++;
  local.spans++;
  const flags = ratioKeeps(traceId, ratio) ? SAMPLED_FLAG : 0;
  return new RecordedSpan({ traceId, spanId: newSpanId(), traceFlags: flags }, name, kind, attributes, remote, local);
}

/**
 * A recorded child of the span active in `parent`, or undefined when that one
 * is not recorded (tracing off, outside a request) or its trace is full or decided.
 */
export function startChildSpan(
  name: string,
  attributes: Attributes | undefined,
  parent: Context,
  kind: SpanKind = SpanKind.INTERNAL,
): RecordedSpan | undefined {
  const span = trace.getSpan(parent);
  if (!(span instanceof RecordedSpan) || span.local.done) return undefined;
  const local = span.local;
  if (++local.spans > MAX_SPANS_PER_TRACE) {
    counters.spansDiscarded++;
    return undefined;
  }
  counters.spansRecorded++;
  const p = span.spanContext();
  const ctx = { traceId: p.traceId, spanId: newSpanId(), traceFlags: p.traceFlags };
  return new RecordedSpan(ctx, name, kind, copyAttributes(attributes), p, local);
}

/**
 * The span to hand to code when no child was recorded: the active span if
 * it is a non-recording one (no allocation), else a non-recording copy of its
 * context — never a recorded span, which the code could end or mark failed.
 */
export function unrecordedSpan(parent: Context): Span {
  const span = trace.getSpan(parent);
  if (!span) return NOOP_SPAN;
  return span instanceof RecordedSpan ? trace.wrapSpanContext(span.spanContext()) : span;
}

/** The API's Tracer over {@link startChildSpan}, for code that uses `trace.getTracer()`. */
class ZaharaTracer implements Tracer {
  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()): Span {
    const parent = options.root ? ROOT_CONTEXT : ctx;
    return startChildSpan(name, options.attributes, parent, options.kind) ?? unrecordedSpan(parent);
  }
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...args: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = args[args.length - 1] as F;
    const options = args.length > 1 ? (args[0] as SpanOptions) : {};
    const ctx = args.length > 2 ? (args[1] as Context) : context.active();
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), () => fn(span)) as ReturnType<F>;
  }
}

/** The isolate's tracer. */
export const tracer: Tracer = new ZaharaTracer();
