/**
 * Puts the trace a request belongs to (set by the tracing wiring) on its
 * context and its log line, for the request log and the logs to name. The
 * gateway's app and a run's execution app both use it.
 */
import { createMiddleware } from "hono/factory";
import { currentTraceId } from "../../../shared/observability/spans";

/** Middleware: `traceId` on the context and `trace_id` on the request's log line, when the request is traced. */
export function traceContext() {
  return createMiddleware(async function traceContext(c, next) {
    const traceId = currentTraceId();
    if (traceId) {
      c.set("traceId", traceId);
      c.get("logFields").trace_id = traceId;
    }
    await next();
  });
}
