/**
 * The safe export path on its own, in workerd against the real local
 * receiver: OTLP JSON arrives intact; a down, slow or failing collector makes
 * an export end (FAILED) within its timeout without throwing; the processor
 * never rejects, bounds what it buffers, keeps a failed or slow part and
 * drops an ordinary one, and batches kept parts; failure logs are throttled.
 * Also the pure pieces: the ratio's call on a trace id, `traceparent`.
 */
import { env } from "cloudflare:test";
import { ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { exportFailureLog } from "../../workers/shared/observability/instrument";
import { SafeOtlpExporter } from "../../workers/shared/observability/otlp-exporter";
import { TraceBufferProcessor } from "../../workers/shared/observability/span-processor";
import {
  DEFAULT_RATIO,
  DEFAULT_SLOW_MS,
  parseOtlpHeaders,
  resolveTracingConfig,
} from "../../workers/shared/observability/tracing-config";
import { ratioKeeps } from "../../workers/shared/observability/sampling";
import { tracingStats } from "../../workers/shared/observability/stats";
import { formatTraceparent, parseTraceparent } from "../../workers/shared/observability/trace-context";
import type { ReceivedSpan } from "../doubles/otlp-receiver";

const vars = env as unknown as { TEST_OTLP_CONTROL_URL: string; OTEL_EXPORTER_OTLP_ENDPOINT: string };
const setMode = async (mode: string) =>
  void (await (await fetch(`${vars.TEST_OTLP_CONTROL_URL}/mode/${mode}`, { method: "PUT" })).arrayBuffer());

/** What a test span is (by default: sampled by the ratio, status UNSET, 1 µs long). */
interface SpanShape {
  sampled?: boolean;
  status?: number;
  ms?: number;
}

/** A minimal finished span, as the SDK hands it to processors. */
function span(traceId: string, spanId: string, name: string, over: SpanShape = {}): ReadableSpan {
  const t = [Math.floor(Date.now() / 1000), 0] as [number, number];
  return {
    name,
    kind: 1,
    spanContext: () => ({ traceId, spanId, traceFlags: over.sampled === false ? 0 : 1 }),
    parentSpanContext: undefined,
    startTime: t,
    endTime: t,
    status: { code: over.status ?? 0 },
    attributes: { "test.name": name },
    links: [],
    events: [],
    duration: [Math.floor((over.ms ?? 0) / 1000), ((over.ms ?? 0) % 1000) * 1e6 + 1000],
    ended: true,
    resource: {
      attributes: { "service.name": "export-test" },
      merge: () => null,
      getRawAttributes: () => [["service.name", "export-test"]],
      asyncAttributesPending: false,
      waitForAsyncAttributes: async () => {},
    },
    instrumentationScope: { name: "test" },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as unknown as ReadableSpan;
}

const hex = (n: number) =>
  crypto.getRandomValues(new Uint8Array(n)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");

function exportOnce(exporter: SafeOtlpExporter, spans: ReadableSpan[]) {
  return new Promise<{ code: ExportResultCode; ms: number }>((resolve) => {
    const t0 = Date.now();
    exporter.export(spans, (r) => resolve({ code: r.code, ms: Date.now() - t0 }));
  });
}

afterEach(() => setMode("ok"));

describe("safe OTLP export", () => {
  it("config: endpoint → /v1/traces, headers parsed, ratio clamped, no endpoint → off", () => {
    expect(resolveTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318" }).tracesUrl).toBe(
      "http://localhost:4318/v1/traces",
    );
    expect(resolveTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://api.honeycomb.io/v1/traces" }).tracesUrl).toBe(
      "https://api.honeycomb.io/v1/traces",
    );
    expect(resolveTracingConfig({}).tracesUrl).toBeUndefined();
    expect(resolveTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }).tracesUrl).toBeUndefined();
    expect(resolveTracingConfig({ OTEL_TRACES_SAMPLER_ARG: "7" }).ratio).toBe(1);
    expect(resolveTracingConfig({ OTEL_TRACES_SAMPLER_ARG: "0.25" }).ratio).toBe(0.25);
    const defaults = { ratio: DEFAULT_RATIO, slowMs: DEFAULT_SLOW_MS };
    expect(resolveTracingConfig({ OTEL_TRACES_SAMPLER_ARG: "" })).toMatchObject(defaults);
    expect(resolveTracingConfig({ OTEL_TRACES_SLOW_MS: "0" }).slowMs).toBe(0);
    expect(resolveTracingConfig({ OTEL_TRACES_SLOW_MS: "-5" }).slowMs).toBe(DEFAULT_SLOW_MS);
    expect(parseOtlpHeaders("x-honeycomb-team=abc%3D,bad header=x, Authorization=Basic%20xyz")).toEqual({
      "x-honeycomb-team": "abc=",
      Authorization: "Basic xyz",
    });
  });

  it("exports real OTLP JSON the receiver understands", async () => {
    const url = `${vars.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`;
    const traceId = hex(16);
    const result = await exportOnce(new SafeOtlpExporter({ url, headers: {}, timeoutMs: 2000 }), [
      span(traceId, hex(8), "unit-span"),
    ]);
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    const received = (await (await fetch(`${vars.TEST_OTLP_CONTROL_URL}/spans`)).json()) as ReceivedSpan[];
    expect(received.find((s) => s.traceId === traceId)).toMatchObject({
      name: "unit-span",
      service: "export-test",
      attributes: { "test.name": "unit-span" },
    });
  });

  for (const mode of ["down", "slow", "fail"] as const) {
    it(`a ${mode} collector: the export fails within its timeout, without throwing, and is reported once`, async () => {
      await setMode(mode);
      const reasons: string[] = [];
      const exporter = new SafeOtlpExporter({
        url: `${vars.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`,
        headers: {},
        timeoutMs: 500,
        onError: (r) => reasons.push(r),
      });
      const result = await exportOnce(exporter, [span(hex(16), hex(8), "x")]);
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(result.ms).toBeLessThan(500 + 1000);
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toMatch(
        mode === "fail" ? /answered 500/ : mode === "slow" ? /did not answer within 500 ms/ : /unreachable/,
      );
    });
  }

  it("the processor exports per trace, never rejects, and bounds its buffer", async () => {
    await setMode("fail");
    const exporter = new SafeOtlpExporter({
      url: `${vars.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`,
      headers: {},
      timeoutMs: 500,
    });
    const processor = new TraceBufferProcessor(exporter, 10);
    const a = hex(16);
    for (let i = 0; i < 4; i++) processor.onEnd(span(a, hex(8), `a${i}`));
    await expect(processor.forceFlush(a)).resolves.toBeUndefined();
    expect(processor.bufferedSpans).toBe(0);
    for (let t = 0; t < 5; t++) for (let i = 0; i < 4; i++) processor.onEnd(span(hex(16), hex(8), "never flushed"));
    expect(processor.bufferedSpans).toBeLessThanOrEqual(10);
    await expect(processor.forceFlush("0".repeat(32))).resolves.toBeUndefined(); // unknown trace: resolves at once
    const off = new TraceBufferProcessor(undefined);
    off.onEnd(span(a, hex(8), "dropped"));
    expect(off.bufferedSpans).toBe(0);
  });

  it("the processor keeps a failed or slow part whole, drops an ordinary one, sends kept parts together", async () => {
    const url = `${vars.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`;
    const exporter = new SafeOtlpExporter({ url, headers: {}, timeoutMs: 2000 });
    const processor = new TraceBufferProcessor(exporter, 100, { slowMs: 1000 });
    const [ordinary, failed, slow] = [hex(16), hex(16), hex(16)];
    processor.onEnd(span(ordinary, hex(8), "child", { sampled: false }));
    processor.onEnd(span(ordinary, hex(8), "root", { sampled: false, ms: 999 }));
    processor.onEnd(span(failed, hex(8), "child", { sampled: false, status: 2 }));
    processor.onEnd(span(failed, hex(8), "root", { sampled: false }));
    processor.onEnd(span(slow, hex(8), "child", { sampled: false }));
    processor.onEnd(span(slow, hex(8), "root", { sampled: false, ms: 1000 }));
    const before = tracingStats();
    expect(processor.settle(ordinary)).toBeUndefined();
    const first = processor.settle(failed);
    expect(first).toBeInstanceOf(Promise);
    // Queued behind the export the first part started: it rides on it (no promise for this caller to wait on).
    expect(processor.settle(slow)).toBeUndefined();
    await first;
    const after = tracingStats();
    expect(processor.sent).toEqual({ exports: 1, spans: 4 });
    expect(after.keptByError - before.keptByError).toBe(1);
    expect(after.keptBySlow - before.keptBySlow).toBe(1);
    expect(after.tracesDropped - before.tracesDropped).toBe(1);
    const received = (await (await fetch(`${vars.TEST_OTLP_CONTROL_URL}/spans`)).json()) as ReceivedSpan[];
    expect(received.filter((s) => s.traceId === failed || s.traceId === slow)).toHaveLength(4);
    expect(received.filter((s) => s.traceId === ordinary)).toHaveLength(0);
    expect(processor.bufferedSpans).toBe(0);
  });

  it("the ratio's call is a function of the trace id alone, and keeps about that share", () => {
    const ids = Array.from({ length: 4000 }, () => hex(16));
    for (const ratio of [0, 0.1, 0.5, 1]) {
      const kept = ids.filter((id) => ratioKeeps(id, ratio));
      expect(ids.every((id) => ratioKeeps(id, ratio) === ratioKeeps(id, ratio))).toBe(true);
      expect(Math.abs(kept.length / ids.length - ratio)).toBeLessThan(0.03);
    }
    expect(ratioKeeps(`${"a".repeat(24)}7fffffff`, 0.5)).toBe(true);
    expect(ratioKeeps(`${"a".repeat(24)}80000000`, 0.5)).toBe(false);
    // A trace kept at a ratio is kept at every higher one: raising the ratio only adds traces.
    expect(ids.filter((id) => ratioKeeps(id, 0.1)).every((id) => ratioKeeps(id, 0.5))).toBe(true);
  });

  it("traceparent: valid W3C values only, and written back as version 00 with the sampled bit", () => {
    const ctx = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const [traceId, spanId] = ["4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"];
    expect(ctx).toEqual({ traceId, spanId, traceFlags: 1, isRemote: true });
    expect(formatTraceparent({ ...ctx!, traceFlags: 3 })).toBe(`00-${traceId}-${spanId}-01`);
    for (const bad of [
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "garbage",
      null,
    ])
      expect(parseTraceparent(bad)).toBeUndefined();
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future")?.traceFlags).toBe(0);
  });

  it("export failures are logged at most once per interval, counting the rest", () => {
    let now = 0;
    const lines: { reason: string; suppressed: number }[] = [];
    const onFailure = exportFailureLog(
      (f) => lines.push(f),
      () => now,
    );
    for (let i = 0; i < 100; i++) {
      onFailure("collector unreachable");
      now += 250;
    }
    expect(lines.length).toBe(3); // t=0, 10 s, 20 s
    expect(lines[1]?.suppressed).toBe(39);
  });
});
