/**
 * The one `onError` and the one `notFound` for every Zahara app. Both answer
 * with the JSON error shape; unknown errors become a 500 without a stack.
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { type ErrorBody, FAULT_HEADER, ZaharaError } from "../errors";
import { elapsedMs } from "./request-context";
import "./context";

/**
 * The JSON error body of `err` for a request `requestId` that started at `startedAt`, answered by `service`
 * (unless the error names its own, as a relayed one does). Also what an event stream's `error` event carries.
 */
export function errorShape(
  err: ZaharaError,
  request: { requestId: string; startedAt: number; service: string },
): ErrorBody {
  const body: ErrorBody = {
    error: err.message,
    code: err.code,
    request_id: request.requestId,
    duration_ms: elapsedMs(request.startedAt),
    service: err.service ?? request.service,
  };
  if (err.details !== undefined) body.details = err.details;
  return body;
}

/** Builds the JSON error body for `err` in the context of request `c`. */
export function errorBody(c: Context, err: ZaharaError): ErrorBody {
  return errorShape(err, {
    requestId: err.requestId ?? c.get("requestId") ?? "",
    startedAt: c.get("startedAt") ?? Date.now(),
    service: c.get("service") ?? "unknown",
  });
}

/** Renders `err` as a JSON error response (status, headers, body). */
export function errorResponse(c: Context, err: ZaharaError): Response {
  const headers = new Headers(err.headers);
  headers.set("Content-Type", "application/json; charset=utf-8");
  // RFC 9110: a 401 names the scheme it wants (MCP clients read it too).
  if (err.status === 401 && !headers.has("WWW-Authenticate")) headers.set("WWW-Authenticate", 'Bearer realm="zahara"');
  const requestId = c.get("requestId");
  if (requestId) headers.set("X-Request-Id", requestId);
  if (err.fault) headers.set(FAULT_HEADER, err.fault);
  c.set("errorCode", err.code);
  return new Response(JSON.stringify(errorBody(c, err)), { status: err.status, headers });
}

function toZaharaError(err: unknown): ZaharaError {
  if (err instanceof ZaharaError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 413) return new ZaharaError("PAYLOAD_TOO_LARGE");
    if (err.status === 401) return new ZaharaError("UNAUTHORIZED");
    if (err.status === 404) return new ZaharaError("NOT_FOUND");
    if (err.status < 500)
      return new ZaharaError("INVALID_REQUEST", { status: err.status, message: err.message || undefined });
  }
  return new ZaharaError("INTERNAL_ERROR", { cause: err });
}

/** The single `app.onError` handler. Logs the cause server-side only. */
export const onError: ErrorHandler = function onError(err, c) {
  const zerr = toZaharaError(err);
  if (zerr.code === "INTERNAL_ERROR") {
    const cause = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    c.get("logger")?.error("unhandled error", { error: cause });
  }
  return errorResponse(c, zerr);
};

/** A route as Hono lists it in `app.routes`. */
export interface RouteInfo {
  method: string;
  path: string;
}

function routeMatches(pattern: string, path: string): boolean {
  const regex = pattern
    .split("/")
    .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg === "*" ? ".*" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${regex}/?$`).test(path);
}

/**
 * Creates the `notFound` handler: 405 `METHOD_NOT_ALLOWED` with an `Allow`
 * header when the path exists under another method, else 404 `NOT_FOUND`.
 */
export function notFound(routes: () => readonly RouteInfo[]): NotFoundHandler {
  return function notFound(c) {
    const allowed = new Set<string>();
    for (const r of routes()) {
      if (r.method !== "ALL" && routeMatches(r.path, c.req.path)) allowed.add(r.method);
    }
    if (allowed.size > 0) {
      if (allowed.has("GET")) allowed.add("HEAD");
      allowed.add("OPTIONS");
      const allow = [...allowed].sort().join(", ");
      return errorResponse(
        c,
        new ZaharaError("METHOD_NOT_ALLOWED", {
          message: `Method ${c.req.method} not allowed; use ${allow}`,
          headers: { Allow: allow },
        }),
      );
    }
    return errorResponse(c, new ZaharaError("NOT_FOUND", { message: `No route for ${c.req.method} ${c.req.path}` }));
  };
}
