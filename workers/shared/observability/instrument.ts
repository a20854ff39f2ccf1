/**
 * The wiring that traces a Worker: `withTracing(handler, service)` wraps an
 * `ExportedHandler` with `@microlabs/otel-cf-workers` (spans for the handler
 * and for fetches over service bindings, W3C `traceparent` in and out), but
 * exports through {@link TraceBufferProcessor} and {@link SafeOtlpExporter}
 * so a collector that is down, slow or failing costs callers nothing.
 * Business code never imports this; it only uses `spans.ts`.
 */
import { __unwrappedFetch, instrument, type ResolveConfigFn } from "@microlabs/otel-cf-workers";
import { createLogger } from "../logger";
import { SafeOtlpExporter } from "./otlp-exporter";
import { TraceBufferProcessor } from "./span-processor";
import { type TracingVars, resolveTracingConfig } from "./tracing-config";

/** At most one "trace export failed" line per this many ms per isolate; the rest are counted. */
export const EXPORT_FAILURE_LOG_INTERVAL_MS = 10_000;

/**
 * Throttles export-failure logging: the first failure is logged at once,
 * later ones at most every {@link EXPORT_FAILURE_LOG_INTERVAL_MS} with the
 * number suppressed meanwhile (a dead collector must not flood the logs).
 */
export function exportFailureLog(log: (fields: { reason: string; suppressed: number }) => void, now: () => number = Date.now) {
  let last = -Infinity;
  let suppressed = 0;
  return function onExportFailure(reason: string): void {
    const t = now();
    if (t - last < EXPORT_FAILURE_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    log({ reason, suppressed });
    last = t;
    suppressed = 0;
  };
}

/** Service identity in exported spans. */
export interface TracedService {
  name: string;
  version?: string;
}

/**
 * Wraps `handler` with tracing. The tracer provider is per isolate (the
 * library registers it once, from the first request's environment), so the
 * span processor is created once here too and reused.
 */
export function withTracing<E extends TracingVars & { LOG_LEVEL?: string }, H extends ExportedHandler<E>>(handler: H, service: TracedService): H {
  let processor: TraceBufferProcessor | undefined;
  const resolve: ResolveConfigFn<E> = (env) => {
    const config = resolveTracingConfig(env);
    if (!processor) {
      const logger = createLogger({ service: service.name, level: env.LOG_LEVEL });
      const exporter = config.tracesUrl
        ? new SafeOtlpExporter({
            url: config.tracesUrl,
            headers: config.headers,
            timeoutMs: config.timeoutMs,
            fetch: __unwrappedFetch as typeof fetch,
            onError: exportFailureLog((fields) => logger.warn("trace export failed", fields)),
          })
        : undefined;
      processor = new TraceBufferProcessor(exporter);
    }
    return {
      service: { name: service.name, ...(service.version ? { version: service.version } : {}) },
      spanProcessors: [processor],
      sampling: { headSampler: { ratio: config.tracesUrl ? config.ratio : 0, acceptRemote: true } },
      instrumentation: { instrumentGlobalCache: false, instrumentGlobalFetch: true },
    };
  };
  // The library returns the same handler object, wrapped in place: keep its exact type.
  return instrument(handler as ExportedHandler<E>, resolve as ResolveConfigFn) as unknown as H;
}
