/**
 * The safe export path on its own, in workerd against the real local
 * receiver: OTLP JSON arrives intact; a down, slow or failing collector makes
 * an export end (FAILED) within its timeout without throwing; the processor
 * never rejects and bounds what it buffers; failure logs are throttled.
 */
import { env } from "cloudflare:test";
import { ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { exportFailureLog } from "../../workers/shared/observability/instrument";
import { SafeOtlpExporter } from "../../workers/shared/observability/otlp-exporter";
import { TraceBufferProcessor } from "../../workers/shared/observability/span-processor";
import { parseOtlpHeaders, resolveTracingConfig } from "../../workers/shared/observability/tracing-config";
import type { ReceivedSpan } from "../doubles/otlp-receiver";

const vars = env as unknown as { TEST_OTLP_CONTROL_URL: string; OTEL_EXPORTER_OTLP_ENDPOINT: string };
const setMode = async (mode: string) => void (await (await fetch(`${vars.TEST_OTLP_CONTROL_URL}/mode/${mode}`, { method: "PUT" })).arrayBuffer());

/** A minimal finished span, as the SDK hands it to processors. */
function span(traceId: string, spanId: string, name: string): ReadableSpan {
  const t = [Math.floor(Date.now() / 1000), 0] as [number, number];
  return {
    name,
    kind: 1,
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    parentSpanContext: undefined,
    startTime: t,
    endTime: t,
    status: { code: 0 },
    attributes: { "test.name": name },
    links: [],
    events: [],
    duration: [0, 1000],
    ended: true,
    resource: { attributes: { "service.name": "export-test" }, merge: () => null, getRawAttributes: () => [["service.name", "export-test"]], asyncAttributesPending: false, waitForAsyncAttributes: async () => {} },
    instrumentationScope: { name: "test" },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as unknown as ReadableSpan;
}

const hex = (n: number) => crypto.getRandomValues(new Uint8Array(n)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");

function exportOnce(exporter: SafeOtlpExporter, spans: ReadableSpan[]) {
  return new Promise<{ code: ExportResultCode; ms: number }>((resolve) => {
    const t0 = Date.now();
    exporter.export(spans, (r) => resolve({ code: r.code, ms: Date.now() - t0 }));
  });
}

afterEach(() => setMode("ok"));

describe("safe OTLP export", () => {
  it("config: endpoint → /v1/traces, headers parsed, ratio clamped, no endpoint → off", () => {
    expect(resolveTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318" }).tracesUrl).toBe("http://localhost:4318/v1/traces");
    expect(resolveTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://api.honeycomb.io/v1/traces" }).tracesUrl).toBe("https://api.honeycomb.io/v1/traces");
    expect(resolveTracingConfig({}).tracesUrl).toBeUndefined();
    expect(resolveTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }).tracesUrl).toBeUndefined();
    expect(resolveTracingConfig({ OTEL_TRACES_SAMPLER_ARG: "7" }).ratio).toBe(1);
    expect(resolveTracingConfig({ OTEL_TRACES_SAMPLER_ARG: "0.25" }).ratio).toBe(0.25);
    expect(parseOtlpHeaders("x-honeycomb-team=abc%3D,bad header=x, Authorization=Basic%20xyz")).toEqual({ "x-honeycomb-team": "abc=", Authorization: "Basic xyz" });
  });

  it("exports real OTLP JSON the receiver understands", async () => {
    const url = `${vars.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`;
    const traceId = hex(16);
    const result = await exportOnce(new SafeOtlpExporter({ url, headers: {}, timeoutMs: 2000 }), [span(traceId, hex(8), "unit-span")]);
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    const received = (await (await fetch(`${vars.TEST_OTLP_CONTROL_URL}/spans`)).json()) as ReceivedSpan[];
    expect(received.find((s) => s.traceId === traceId)).toMatchObject({ name: "unit-span", service: "export-test", attributes: { "test.name": "unit-span" } });
  });

  for (const mode of ["down", "slow", "fail"] as const) {
    it(`a ${mode} collector: the export fails within its timeout, without throwing, and is reported once`, async () => {
      await setMode(mode);
      const reasons: string[] = [];
      const exporter = new SafeOtlpExporter({ url: `${vars.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`, headers: {}, timeoutMs: 500, onError: (r) => reasons.push(r) });
      const result = await exportOnce(exporter, [span(hex(16), hex(8), "x")]);
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(result.ms).toBeLessThan(500 + 1000);
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toMatch(mode === "fail" ? /answered 500/ : mode === "slow" ? /did not answer within 500 ms/ : /unreachable/);
    });
  }

  it("the processor exports per trace, never rejects, and bounds its buffer", async () => {
    await setMode("fail");
    const exporter = new SafeOtlpExporter({ url: `${vars.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`, headers: {}, timeoutMs: 500 });
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

  it("export failures are logged at most once per interval, counting the rest", () => {
    let now = 0;
    const lines: { reason: string; suppressed: number }[] = [];
    const onFailure = exportFailureLog((f) => lines.push(f), () => now);
    for (let i = 0; i < 100; i++) {
      onFailure("collector unreachable");
      now += 250;
    }
    expect(lines.length).toBe(3); // t=0, 10 s, 20 s
    expect(lines[1]?.suppressed).toBe(39);
  });
});
