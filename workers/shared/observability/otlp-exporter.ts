/**
 * An OTLP/HTTP (JSON) span exporter that cannot hurt a request: every export
 * has a hard timeout, never throws, and reports failures once per export to a
 * callback (a structured log line). It runs after the response, inside
 * `waitUntil` (the trace buffer calls it from a timer), with the runtime's
 * fetch (nothing patches it: outgoing fetches are not traced). The body is
 * encoded by `otlp-json.ts`, and the collector's answer is read to the end
 * rather than cancelled, so the connection can be reused.
 */
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { encodeTraces } from "./otlp-json";

/** A collector answer longer than this, or of unknown length, is not read (its connection is given up instead). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Options for {@link SafeOtlpExporter}. */
export interface SafeOtlpExporterOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Called once per failed export with a short reason (no headers, no payload). */
  onError?: (reason: string) => void;
  /** The fetch to use (the runtime's own, so exports are not traced). */
  fetch?: typeof fetch;
}

/** OTLP/HTTP JSON exporter with a timeout and no throws. */
export class SafeOtlpExporter implements SpanExporter {
  constructor(private readonly options: SafeOtlpExporterOptions) {
    if (!options.url) throw new TypeError("SafeOtlpExporter: url is required");
    if (!(options.timeoutMs > 0)) throw new RangeError("SafeOtlpExporter: timeoutMs must be positive");
  }

  /** Sends `spans`; calls back exactly once, within the timeout (plus a tick). */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    void this.send(spans).then(resultCallback);
  }

  private async send(spans: ReadableSpan[]): Promise<ExportResult> {
    const doFetch = this.options.fetch ?? fetch;
    let body: string;
    try {
      body = encodeTraces(spans);
    } catch (error) {
      this.options.onError?.(`serialising spans failed: ${error instanceof Error ? error.message : String(error)}`);
      return { code: ExportResultCode.FAILED };
    }
    try {
      const res = await doFetch(this.options.url, {
        method: "POST",
        headers: { ...this.options.headers, "Content-Type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const length = res.headers.get("Content-Length");
      if (length !== null && Number(length) <= MAX_ANSWER_BYTES) await res.arrayBuffer();
      else await res.body?.cancel();
      if (res.ok) return { code: ExportResultCode.SUCCESS };
      this.options.onError?.(`collector answered ${res.status}`);
      return { code: ExportResultCode.FAILED };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      this.options.onError?.(
        timedOut ? `collector did not answer within ${this.options.timeoutMs} ms` : "collector unreachable",
      );
      return { code: ExportResultCode.FAILED };
    }
  }

  /** Nothing to release. */
  async shutdown(): Promise<void> {}
}
