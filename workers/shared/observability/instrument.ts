/**
 * The wiring that traces a Worker: `withTracing(handler, service)` wraps an
 * `ExportedHandler` so each `fetch` (and cron run) is the root span of the
 * Worker's part of a trace — continuing a W3C `traceparent` from the caller,
 * and passing one on over service bindings (`bindings.ts`) — and each part
 * is decided at its end (`sampling.ts`), exported after the response through
 * {@link TraceBufferProcessor} and {@link SafeOtlpExporter}, so a collector
 * that is down, slow or failing costs callers nothing. Everything that can
 * be done once is: settings are resolved once per env object, the buffer and
 * exporter once per set of export settings, the env copy once per env.
 * Business code never imports this; it only uses `spans.ts`.
 */
import { type Attributes, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { createLogger } from "../logger";
import { withPropagatingBindings } from "./bindings";
import { registerTracing, withContext } from "./context";
import { SafeOtlpExporter } from "./otlp-exporter";
import { TraceBufferProcessor } from "./span-processor";
import { answerEndOf } from "./spans";
import { TRACEPARENT_HEADER, parseTraceparent } from "./trace-context";
import { LocalTrace, RecordedSpan, startRootSpan } from "./tracer";
import { type TracingConfig, type TracingVars, resolveTracingConfig } from "./tracing-config";

/** At most one "trace export failed" line per this many ms per isolate; the rest are counted. */
export const EXPORT_FAILURE_LOG_INTERVAL_MS = 10_000;

/**
 * Throttles export-failure logging: the first failure is logged at once,
 * later ones at most every {@link EXPORT_FAILURE_LOG_INTERVAL_MS} with the
 * number suppressed meanwhile (a dead collector must not flood the logs).
 */
export function exportFailureLog(
  log: (fields: { reason: string; suppressed: number }) => void,
  now: () => number = Date.now,
) {
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

type Resource = RecordedSpan["resource"];

/** What a request needs from its env, worked out once per env object. */
interface Setup<E> {
  config: TracingConfig;
  /** Undefined when tracing is off (no endpoint): nothing is recorded. */
  processor: TraceBufferProcessor | undefined;
  env: E;
}

function resourceOf(service: TracedService): Resource {
  const attributes: Attributes = {
    "service.name": service.name,
    ...(service.version ? { "service.version": service.version } : {}),
    "telemetry.sdk.name": "zahara",
    "telemetry.sdk.language": "js",
    "cloud.provider": "cloudflare",
    "cloud.platform": "cloudflare.workers",
  };
  const resource: Resource = { attributes, merge: () => resource, getRawAttributes: () => Object.entries(attributes) };
  return resource;
}

/** `/path` and host of a URL without parsing it (no query: it may carry secrets). */
function pathAndHost(url: string): { path: string; host: string } {
  const scheme = url.indexOf("://");
  const start = scheme === -1 ? 0 : scheme + 3;
  const slash = url.indexOf("/", start);
  const host = url.slice(start, slash === -1 ? url.length : slash);
  if (slash === -1) return { path: "/", host };
  const query = url.indexOf("?", slash);
  const hash = url.indexOf("#", slash);
  const end = Math.min(query === -1 ? url.length : query, hash === -1 ? url.length : hash);
  return { path: url.slice(slash, end), host };
}

let coldStart = true;
const statusOfResponse = (res: Response) => res.status;
const noStatus = () => undefined;

/**
 * An event-stream answer goes on after the handler returns, so the request's span must cover the whole stream:
 * it ends when the promise registered with {@link endSpanWhen} settles, or else when the body, wrapped here, is
 * done, fails or is cancelled by the caller. Undefined for any other answer (the span ends when the handler
 * returns).
 */
function deferForStream(request: Request, res: Response, end: () => void): Response | undefined {
  const ended = answerEndOf(request);
  if (ended) {
    ended.then(end, end);
    return res;
  }
  if (!res.body || !(res.headers.get("Content-Type") ?? "").startsWith("text/event-stream")) return undefined;
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            end();
          } else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
          end();
        }
      },
      async cancel(reason) {
        end();
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, res);
}

/**
 * Wraps `handler` with tracing; returns the same handler object, its
 * `fetch` and `scheduled` replaced.
 */
export function withTracing<E extends TracingVars & { LOG_LEVEL?: string }, H extends ExportedHandler<E>>(
  handler: H,
  service: TracedService,
): H {
  registerTracing();
  const resource = resourceOf(service);
  const setups = new WeakMap<object, Setup<E>>();
  const processors = new Map<string, TraceBufferProcessor>();

  function processorFor(config: TracingConfig, env: E): TraceBufferProcessor {
    const key = JSON.stringify([config.tracesUrl, config.headers, config.timeoutMs, config.slowMs]);
    let processor = processors.get(key);
    if (!processor) {
      const logger = createLogger({ service: service.name, level: env.LOG_LEVEL });
      const exporter = new SafeOtlpExporter({
        url: config.tracesUrl as string,
        headers: config.headers,
        timeoutMs: config.timeoutMs,
        onError: exportFailureLog((fields) => logger.warn("trace export failed", fields)),
      });
      processor = new TraceBufferProcessor(exporter, undefined, { slowMs: config.slowMs });
      // A handful of settings per isolate in practice; tests vary them per request, so keep the map small.
      if (processors.size >= 16) processors.clear();
      processors.set(key, processor);
    }
    return processor;
  }

  function setupOf(env: E): Setup<E> {
    let setup = setups.get(env);
    if (!setup) {
      const config = resolveTracingConfig(env);
      const processor = config.tracesUrl ? processorFor(config, env) : undefined;
      setup = { config, processor, env: withPropagatingBindings(env) };
      setups.set(env, setup);
    }
    return setup;
  }

  /** Runs `work` as the root span's context; ends the root and decides its trace whatever happens. */
  async function asRoot<R>(
    root: Span,
    setup: Setup<E>,
    ctx: ExecutionContext,
    work: () => Promise<R>,
    statusOf: (r: R) => number | undefined,
    defer?: (r: R, end: () => void) => R | undefined,
  ): Promise<R> {
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      root.end();
      if (root instanceof RecordedSpan && setup.processor) {
        root.local.done = true;
        const exported = setup.processor.settle(root.spanContext().traceId);
        if (exported) ctx.waitUntil(exported);
      }
    };
    let deferred = false;
    try {
      const result = await withContext(trace.setSpan(ROOT_CONTEXT, root), work);
      const status = statusOf(result);
      if (status !== undefined) {
        root.setAttribute("http.response.status_code", status);
        if (status >= 500) root.setStatus({ code: SpanStatusCode.ERROR });
      }
      const later = defer?.(result, end);
      deferred = later !== undefined;
      return later ?? result;
    } catch (error) {
      root.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      if (error instanceof Error) root.recordException({ name: error.name, message: error.message });
      throw error;
    } finally {
      if (!deferred) end();
    }
  }

  const local = (setup: Setup<E>) => (setup.processor ? new LocalTrace(setup.processor, resource) : undefined);
  const fetchHandler = handler.fetch;
  if (fetchHandler) {
    handler.fetch = function tracedFetch(request, env, ctx) {
      const setup = setupOf(env);
      const method = request.method;
      let attributes: Attributes = {};
      if (setup.processor) {
        const { path, host } = pathAndHost(request.url);
        attributes = {
          "faas.trigger": "http",
          "faas.coldstart": coldStart,
          "http.request.method": method,
          "url.path": path,
          "server.address": host,
        };
      }
      coldStart = false;
      const remote = parseTraceparent(request.headers.get(TRACEPARENT_HEADER));
      const name = `fetchHandler ${method}`;
      const root = startRootSpan(name, SpanKind.SERVER, attributes, remote, local(setup), setup.config.ratio);
      const work = async () => fetchHandler.call(handler, request, setup.env, ctx);
      return asRoot(root, setup, ctx, work, statusOfResponse, (res, end) => deferForStream(request, res, end));
    } as typeof fetchHandler;
  }
  const scheduledHandler = handler.scheduled;
  if (scheduledHandler) {
    handler.scheduled = function tracedScheduled(controller, env, ctx) {
      const setup = setupOf(env);
      const attributes: Attributes = setup.processor
        ? { "faas.trigger": "timer", "faas.cron": controller.cron, "faas.coldstart": coldStart }
        : {};
      coldStart = false;
      const name = `scheduledHandler ${controller.cron}`;
      const root = startRootSpan(name, SpanKind.INTERNAL, attributes, undefined, local(setup), setup.config.ratio);
      const work = async () => scheduledHandler.call(handler, controller, setup.env, ctx);
      return asRoot(root, setup, ctx, work, noStatus);
    } as typeof scheduledHandler;
  }
  return handler;
}
