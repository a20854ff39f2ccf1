/**
 * `GET|POST|PUT|PATCH|DELETE /api/gw/<path>` → the gateway's `/<path>` through the
 * service binding `GATEWAY`, with a key the server holds: `GATEWAY_ADMIN_KEY`
 * for the admin API (`/v1/*`, `/metrics`), `GATEWAY_CALLER_KEY` for the call
 * API (`/agents`, `/agents/*`, `/execute`, `/health`). Any other path is 404.
 *
 * Only an allowlist of headers goes in each direction, so the browser can
 * neither send a credential of its own nor read one: in, `Content-Type`,
 * `X-Timeout-Ms`, `If-Match` and `If-None-Match` (a hosted agent's upload is
 * conditional on the version it was reviewed against) and `CF-Connecting-IP` (which Cloudflare's edge sets to the
 * browser's address, so the gateway's audit log and throttle see the person's
 * address rather than "unknown"), plus our `X-Request-Id`, and on admin calls
 * `X-Zahara-On-Behalf-Of` naming the signed-in person for the gateway's audit
 * log, and `Accept` (an event stream is relayed as it comes); out, the status, the body, `Content-Type`, `X-Request-Id`,
 * `Retry-After`, `RateLimit`, `RateLimit-Policy`, `Allow`, `Idempotent-Replayed`, `ETag` (a hosted agent's version).
 * Should a server-held secret ever appear in an answer, it is replaced by
 * `[REDACTED]` before the answer leaves.
 */
import type { Context } from "hono";
import { ZaharaError } from "../../../../workers/shared/errors";
import { type DashboardHono, serverSecrets } from "../env";

/** Where the proxy is mounted. */
export const PROXY_PREFIX = "/api/gw";
/** Methods the proxy passes on. */
export const PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

const ADMIN_PATH = /^\/(?:v1(?:\/.*)?|metrics)$/;
const CALLER_PATH = /^\/(?:agents(?:\/.*)?|execute|health)$/;
/** Segments of plain characters only: no encoded slashes, dots or anything a router could read twice. */
const SAFE_PATH = /^(?:\/[A-Za-z0-9_~:-][A-Za-z0-9._~:-]*)+$/;

const REQUEST_HEADERS = ["Content-Type", "Accept", "X-Timeout-Ms", "If-Match", "If-None-Match", "CF-Connecting-IP"];
const RESPONSE_HEADERS = [
  "Content-Type",
  "Retry-After",
  "RateLimit",
  "RateLimit-Policy",
  "Allow",
  "Idempotent-Replayed",
  "ETag",
];
/** The gateway's audit header for the person an admin client acts for. */
export const ON_BEHALF_OF_HEADER = "X-Zahara-On-Behalf-Of";

/** Which server-held key a gateway path gets, or undefined when the dashboard does not proxy it. */
export function keyFor(path: string): "GATEWAY_ADMIN_KEY" | "GATEWAY_CALLER_KEY" | undefined {
  if (!SAFE_PATH.test(path)) return undefined;
  if (ADMIN_PATH.test(path)) return "GATEWAY_ADMIN_KEY";
  if (CALLER_PATH.test(path)) return "GATEWAY_CALLER_KEY";
  return undefined;
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join("[REDACTED]");
  return out;
}

/**
 * Redacts an event stream event by event: text is held until the blank line that ends its event, so a secret
 * can never be split between two chunks where a chunk-wise replace would miss it.
 */
export function redactEvents(secrets: readonly string[]): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let held = "";
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      held += decoder.decode(chunk, { stream: true });
      const end = Math.max(held.lastIndexOf("\n\n"), held.lastIndexOf("\r\n\r\n"));
      if (end < 0) return;
      const cut = held.startsWith("\r\n", end) ? end + 4 : end + 2;
      controller.enqueue(encoder.encode(redact(held.slice(0, cut), secrets)));
      held = held.slice(cut);
    },
    flush(controller) {
      held += decoder.decode();
      if (held) controller.enqueue(encoder.encode(redact(held, secrets)));
    },
  });
}

/** The proxy handler. */
export async function gatewayProxy(c: Context<DashboardHono>): Promise<Response> {
  const url = new URL(c.req.url);
  const path = url.pathname.slice(PROXY_PREFIX.length);
  const keyName = keyFor(path);
  if (!keyName) {
    throw new ZaharaError("NOT_FOUND", {
      message: "The dashboard proxies only /v1/*, /metrics, /agents, /agents/*, /execute and /health",
    });
  }
  const key = c.env[keyName];
  if (!key) throw new Error(`${keyName} is not set: the dashboard cannot call the gateway's ${path}`);

  const headers = new Headers({ "X-API-Key": key, "X-Request-Id": c.get("requestId") });
  for (const name of REQUEST_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) headers.set(name, value);
  }
  if (keyName === "GATEWAY_ADMIN_KEY") {
    const user = c.get("user");
    headers.set(ON_BEHALF_OF_HEADER, user.email ?? user.sub);
  }
  const method = c.req.method;
  const init: RequestInit = { method, headers };
  if (method !== "GET") init.body = c.req.raw.body;

  let res: Response;
  try {
    res = await c.env.GATEWAY.fetch(`https://gateway${path}${url.search}`, init);
  } catch (err) {
    throw new ZaharaError("UPSTREAM_UNREACHABLE", { message: "The gateway could not be reached", cause: err });
  }
  const out = new Headers();
  for (const name of RESPONSE_HEADERS) {
    const value = res.headers.get(name);
    if (value !== null) out.set(name, value);
  }
  out.set("X-Request-Id", res.headers.get("X-Request-Id") ?? c.get("requestId"));
  c.get("logFields").gateway_status = res.status;
  if ((res.headers.get("Content-Type") ?? "").startsWith("text/event-stream") && res.body) {
    // A streamed answer goes on as it comes, event by event, each redacted whole.
    return new Response(res.body.pipeThrough(redactEvents(serverSecrets(c.env))), { status: res.status, headers: out });
  }
  const nullBody = res.status === 204 || res.status === 304;
  const body = nullBody ? null : redact(await res.text(), serverSecrets(c.env));
  if (nullBody) await res.body?.cancel();
  return new Response(body, { status: res.status, headers: out });
}
