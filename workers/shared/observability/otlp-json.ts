/**
 * OTLP/HTTP JSON encoding of finished spans (`ExportTraceServiceRequest`,
 * hex ids, times as decimal strings of Unix nanoseconds), written for this
 * one job: it runs only for kept traces, after the response, but on the
 * isolate's CPU all the same, so it builds the JSON objects directly —
 * no intermediate copies, no BigInt for times — and groups spans by their
 * resource and instrumentation scope as the protocol wants.
 */
import type { Attributes, AttributeValue, HrTime, SpanContext } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: number }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } };
type KeyValue = { key: string; value: AnyValue };

function anyValue(value: AttributeValue | null | undefined): AnyValue | undefined {
  switch (typeof value) {
    case "string":
      return { stringValue: value };
    case "boolean":
      return { boolValue: value };
    case "number":
      return Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value };
    default: {
      if (!Array.isArray(value)) return undefined;
      const items = value as (AttributeValue | null | undefined)[];
      return { arrayValue: { values: items.map((v) => anyValue(v) ?? { stringValue: "" }) } };
    }
  }
}

function keyValues(attributes: Attributes | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  if (!attributes) return out;
  for (const key in attributes) {
    const value = anyValue(attributes[key]);
    if (value) out.push({ key, value });
  }
  return out;
}

/** hrtime as a decimal string of nanoseconds (exact: no float above 2^53). */
export function nanos([s, ns]: HrTime): string {
  if (s <= 0) return String(Math.max(0, Math.round(ns)));
  return `${s}${String(Math.round(ns)).padStart(9, "0")}`;
}

function linkOf(link: { context: SpanContext; attributes?: Attributes }) {
  const { traceId, spanId } = link.context;
  return { traceId, spanId, attributes: keyValues(link.attributes), droppedAttributesCount: 0 };
}

function spanOf(span: ReadableSpan) {
  const ctx = span.spanContext();
  const status: { code: number; message?: string } = { code: span.status.code };
  if (span.status.message) status.message = span.status.message;
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    name: span.name,
    // The API's SpanKind starts at INTERNAL = 0; OTLP's at UNSPECIFIED = 0.
    kind: span.kind + 1,
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: keyValues(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((e) => ({
      timeUnixNano: nanos(e.time),
      name: e.name,
      attributes: keyValues(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: span.droppedEventsCount,
    status,
    links: span.links.map(linkOf),
    droppedLinksCount: span.droppedLinksCount,
  };
}

type ScopeSpans = { scope: { name: string; version?: string }; spans: ReturnType<typeof spanOf>[] };

/** The export request for `spans`, as the UTF-8 JSON body to POST to `/v1/traces`. */
export function encodeTraces(spans: readonly ReadableSpan[]): string {
  const byResource = new Map<ReadableSpan["resource"], Map<string, ScopeSpans>>();
  for (const span of spans) {
    let scopes = byResource.get(span.resource);
    if (!scopes) byResource.set(span.resource, (scopes = new Map()));
    const { name, version } = span.instrumentationScope;
    const key = `${name}@${version ?? ""}`;
    let scope = scopes.get(key);
    if (!scope) scopes.set(key, (scope = { scope: version ? { name, version } : { name }, spans: [] }));
    scope.spans.push(spanOf(span));
  }
  const resourceSpans = [...byResource].map(([resource, scopes]) => ({
    resource: { attributes: keyValues(resource.attributes), droppedAttributesCount: 0 },
    scopeSpans: [...scopes.values()],
  }));
  return JSON.stringify({ resourceSpans });
}
