/**
 * Request-context middleware: assigns the request id, a request-scoped logger
 * and the start time, echoes `X-Request-Id` on the response, and writes the
 * single structured log line for the request once it has been answered.
 */
import { createMiddleware } from "hono/factory";
import { createLogger } from "../logger";
import { type DeploymentVars, isLocalDevelopment } from "./deployment";
import { OVERFLOW_LINGER, lingerOverflow, takeOverflow } from "./json-body";
import { REQUEST_ID_HEADER, resolveRequestId } from "../request-id";
import type { BaseBindings } from "./context";
import "./context";

/** Options for {@link requestContext}. */
export interface RequestContextOptions {
  /** Service name written in logs and error bodies, e.g. `gateway`. */
  service: string;
  /** Secret values in this Worker's env, redacted from every log line. */
  secrets?: (env: Record<string, unknown>) => string[];
}

/** Milliseconds since the request started, for `duration_ms` fields. */
export function elapsedMs(startedAt: number): number {
  return Math.max(0, Date.now() - startedAt);
}

/**
 * Creates the request-context middleware. Register it first so every other
 * middleware and `onError` can rely on `requestId`, `logger` and `startedAt`.
 */
export function requestContext({ service, secrets = () => [] }: RequestContextOptions) {
  if (!service || typeof service !== "string") throw new TypeError("requestContext: `service` is required");
  return createMiddleware<{ Bindings: BaseBindings }>(async function requestContext(c, next) {
    const startedAt = Date.now();
    const given = c.req.header(REQUEST_ID_HEADER);
    const requestId = resolveRequestId(given);
    const logger = createLogger({
      service,
      level: c.env?.LOG_LEVEL,
      fields: { request_id: requestId },
      redact: secrets((c.env ?? {}) as Record<string, unknown>),
    });
    c.set("startedAt", startedAt);
    c.set("requestId", requestId);
    c.set("requestIdGenerated", requestId !== given);
    c.set("service", service);
    c.set("logger", logger);
    c.set("logFields", {});
    const doCalls = { awaited: 0, background: 0 };
    c.set("doCalls", doCalls);
    await next();
    c.header(REQUEST_ID_HEADER, requestId);
    // A 413 left the rest of the body unread (readJsonBody). Locally, drain it behind the answer: `wrangler dev`'s
    // proxy loses its next request when the connection closes under a body still in flight (workerd#1741).
    const rest = takeOverflow(c.req.raw);
    if (rest && isLocalDevelopment(c.env as DeploymentVars)) c.res = await lingerOverflow(c.res, rest, OVERFLOW_LINGER);
    else await rest?.cancel().catch(() => undefined);
    const status = c.res.status;
    const level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
    // The current logger: auth may have replaced it with one that also redacts the presented credential.
    c.get("logger")[level]("request completed", {
      method: c.req.method,
      path: c.req.path,
      status,
      duration_ms: elapsedMs(startedAt),
      ...c.get("logFields"),
      // Background calls still running are counted when they start, so the line is complete.
      ...(doCalls.awaited + doCalls.background > 0
        ? { do_calls: doCalls.awaited, do_calls_background: doCalls.background }
        : {}),
    });
  });
}
