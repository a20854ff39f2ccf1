/**
 * An OTLP/HTTP (JSON) span exporter that cannot hurt a request: every export
 * has a hard timeout, never throws, and reports failures once per export to a
 * callback (a structured log line). It runs after the response, inside
 * `waitUntil`, with the runtime's own (uninstrumented) fetch.
 */
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

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
    let body: Uint8Array | undefined;
    try {
      body = JsonTraceSerializer.serializeRequest(spans as never);
    } catch (error) {
      this.options.onError?.(`serialising spans failed: ${error instanceof Error ? error.message : String(error)}`);
      return { code: ExportResultCode.FAILED };
    }
    if (!body) return { code: ExportResultCode.FAILED };
    try {
      const res = await doFetch(this.options.url, {
        method: "POST",
        headers: { ...this.options.headers, "Content-Type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await res.body?.cancel();
      if (res.ok) return { code: ExportResultCode.SUCCESS };
      this.options.onError?.(`collector answered ${res.status}`);
      return { code: ExportResultCode.FAILED };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      this.options.onError?.(timedOut ? `collector did not answer within ${this.options.timeoutMs} ms` : "collector unreachable");
      return { code: ExportResultCode.FAILED };
    }
  }

  /** Nothing to release. */
  async shutdown(): Promise<void> {}
}
