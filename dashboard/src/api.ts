/**
 * Typed client of the dashboard's API (the Pages Functions under /api). Every
 * call resolves, never throws: `{ok: true, data}` or `{ok: false, error}` where
 * `error` is the gateway's error shape (`{error, code, request_id, ...}`),
 * whether the dashboard or the gateway produced it. A network failure is
 * `status: 0`, code `NETWORK_ERROR`. Any 401 also notifies
 * {@link onUnauthorized} listeners, so the app can show the login screen.
 *
 * The browser never holds a gateway key: `/api/gw/*` reaches the gateway with
 * a key the server adds. Use `api.gateway.get("/v1/stats")` for any gateway
 * path, or the typed helpers below.
 */
import { SseParser } from "../../workers/shared/http/sse";
import type { StatsWindow } from "../../durable-objects/upstream-guard/src/metrics";
import type { GuardView } from "../../workers/gateway/src/admin/guard-view";
import type { RequestView as RequestLogEntry, TimelineEntry } from "../../workers/gateway/src/request-log/rows";
import type { RunCallbackView, RunStatus, RunView, WebhookDelivery } from "../../workers/gateway/src/runs/types";

/** The error shape shared by the gateway and the dashboard. */
export interface ApiError {
  error: string;
  code: string;
  request_id: string;
  duration_ms?: number;
  /** `dashboard`, `gateway`, or an agent's name. */
  service?: string;
  details?: Record<string, unknown>;
}

/** The outcome of a call. */
export type ApiResult<T> =
  | { ok: true; status: number; data: T; requestId: string | null }
  | { ok: false; status: number; error: ApiError; requestId: string | null; retryAfterSeconds: number | null };

/** How the dashboard signs people in. */
export type AuthMode = "login" | "access";

/** `GET /api/session`. */
export interface SessionInfo {
  user: { sub: string; email?: string };
  mode: AuthMode;
  expires_at: string;
  jaeger_ui_url: string | null;
  /** The gateway's public URL (`GATEWAY_PUBLIC_URL`), without a trailing slash; null when not set. */
  gateway_url: string | null;
}

/** `POST /api/logout`. */
export interface LogoutResult {
  ok: true;
  /** Where to go to finish signing out (Access), or null. */
  logout_url: string | null;
}

/** Options of a call. */
export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as X-Timeout-Ms (gateway deadline). */
  timeoutMs?: number;
  /** Sent as X-Request-Id (else the server assigns one). */
  requestId?: string;
  signal?: AbortSignal;
}

// --- Gateway payloads the screens are likely to need (see the root README's HTTP API). ---
// Where the gateway declares a payload's type without runtime imports, it is imported from there.

// StatsWindow: one window of `GET /v1/stats`. RequestLogEntry: one row of `GET /v1/requests`.
// TimelineEntry: one entry of a request's timeline (`GET /v1/requests/:id`). GuardView: `GET /v1/agents/:agent/guard` → `guard`.
// RunView: one long-running run (`GET /v1/runs/:id`), with its RunStatus, its webhook (RunCallbackView) and that webhook's deliveries.
export type {
  StatsWindow,
  RequestLogEntry,
  TimelineEntry,
  GuardView,
  RunView,
  RunStatus,
  RunCallbackView,
  WebhookDelivery,
};

/** `GET /health`. */
export interface GatewayHealth {
  status: "ok" | "degraded";
  version: string;
  agents: Record<string, { status: string; http_status: number | null; latency_ms: number | null }>;
}

/** One capability in `GET /agents`. */
export interface AgentCapability {
  name: string;
  description?: string;
  input_schema?: unknown;
  output_schema?: unknown;
}

/** One agent in `GET /agents`. */
export interface AgentSummary {
  name: string;
  display_name?: string;
  description?: string;
  version?: string;
  capabilities: AgentCapability[];
  [field: string]: unknown;
}

/** `GET /v1/stats`. */
export interface GatewayStats {
  agents: Record<
    string,
    {
      breaker: { state: string; transitions: { from: string; to: string; at: number; cause: string }[] };
      windows: Record<"1m" | "5m" | "60m", StatsWindow>;
    }
  >;
  unavailable?: string[];
  generated_at: string;
}

/** What `GET /v1/runs` is asked: filters, a page size (1-100, default 20), the cursor of the next page. */
export interface RunsQuery {
  status?: RunStatus;
  agent?: string;
  limit?: number;
  cursor?: string;
  signal?: AbortSignal;
}

/** `GET /v1/runs`: newest first, each run without its `result` (fetch the run for it). */
export interface RunsPage {
  runs: RunView[];
  next_cursor?: string;
}

// --- Transport ---

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Calls `listener` whenever an API call answers 401; returns the unsubscribe function. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ApiError).error === "string" &&
    typeof (value as ApiError).code === "string"
  );
}

function withQuery(path: string, query: CallOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}${path.includes("?") ? "&" : "?"}${qs}` : path;
}

async function call<T>(
  method: "GET" | "POST" | "PATCH",
  path: string,
  body?: unknown,
  opts: CallOptions = {},
  accept = "application/json",
): Promise<ApiResult<T>> {
  const res = await send(method, path, body, opts, accept);
  return res instanceof Response ? toResult<T>(res) : res;
}

async function send(
  method: string,
  path: string,
  body: unknown,
  opts: CallOptions,
  accept: string,
): Promise<Response | Extract<ApiResult<never>, { ok: false }>> {
  const headers: Record<string, string> = { Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.timeoutMs !== undefined) headers["X-Timeout-Ms"] = String(opts.timeoutMs);
  if (opts.requestId) headers["X-Request-Id"] = opts.requestId;
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method,
      headers,
      credentials: "same-origin",
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    const message =
      err instanceof Error && err.name === "AbortError" ? "Request cancelled" : "The dashboard could not be reached";
    return {
      ok: false,
      status: 0,
      requestId: null,
      retryAfterSeconds: null,
      error: { error: message, code: "NETWORK_ERROR", request_id: "" },
    };
  }
  return res;
}

async function toResult<T>(res: Response): Promise<ApiResult<T>> {
  const requestId = res.headers.get("X-Request-Id");
  const text = await res.text().catch(() => "");
  let parsed: unknown = text;
  if ((res.headers.get("Content-Type") ?? "").includes("json")) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (res.ok) return { ok: true, status: res.status, data: parsed as T, requestId };
  if (res.status === 401) for (const listener of unauthorizedListeners) listener();
  const retryAfter = Number(res.headers.get("Retry-After"));
  const error: ApiError = isApiError(parsed)
    ? parsed
    : { error: `The server answered ${res.status}`, code: "HTTP_ERROR", request_id: requestId ?? "" };
  return {
    ok: false,
    status: res.status,
    error,
    requestId,
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  };
}

/** One piece of a streamed answer: text, or a structured piece. */
export type StreamPiece = { text: string } | { data: unknown };

/**
 * POSTs `body` to the gateway asking for server-sent events: `onPiece` gets each `delta` as it arrives, and the
 * result is the `done` event's data, or the `error` event's error (with the status it stands for). An answer that
 * is not a stream (an error before the first event) is read as {@link call} reads it.
 */
async function stream<T>(
  path: GatewayPath,
  body: unknown,
  onPiece: (piece: StreamPiece) => void,
  opts: CallOptions = {},
): Promise<ApiResult<T>> {
  const res = await send("POST", `/api/gw${path}`, body, opts, "text/event-stream");
  if (!(res instanceof Response)) return res;
  if (!(res.headers.get("Content-Type") ?? "").startsWith("text/event-stream") || !res.body) return toResult<T>(res);
  const requestId = res.headers.get("X-Request-Id");
  const parser = new SseParser();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (done) break;
    for (const event of parser.push(value)) {
      const data = JSON.parse(event.data) as Record<string, unknown>;
      if (event.event === "delta") onPiece(typeof data.text === "string" ? { text: data.text } : { data: data.data });
      else if (event.event === "done") return { ok: true, status: 200, data: data as T, requestId };
      else if (event.event === "error" && isApiError(data))
        return { ok: false, status: 200, error: data, requestId, retryAfterSeconds: null };
    }
  }
  return {
    ok: false,
    status: 0,
    requestId,
    retryAfterSeconds: null,
    error: { error: "The stream ended without an answer", code: "NETWORK_ERROR", request_id: requestId ?? "" },
  };
}

/** A gateway path as the proxy takes it (`/v1/stats`, `/agents/agent-demo/execute`). */
export type GatewayPath = `/${string}`;

/** The API. */
export const api = {
  /** Who is signed in; 401 (with `details.auth_mode`) when nobody is. */
  session: () => call<SessionInfo>("GET", "/api/session"),
  /** Login mode: exchanges an admin key for a session cookie. The key is not kept. */
  login: (adminKey: string) => call<SessionInfo>("POST", "/api/login", { admin_key: adminKey }),
  logout: () => call<LogoutResult>("POST", "/api/logout", {}),

  /** Any gateway call through the proxy (`/v1/*`, `/metrics`, `/agents`, `/agents/*`, `/execute`, `/health`). */
  gateway: {
    get: <T>(path: GatewayPath, opts?: CallOptions) => call<T>("GET", `/api/gw${path}`, undefined, opts),
    post: <T>(path: GatewayPath, body: unknown, opts?: CallOptions) => call<T>("POST", `/api/gw${path}`, body, opts),
    patch: <T>(path: GatewayPath, body: unknown, opts?: CallOptions) => call<T>("PATCH", `/api/gw${path}`, body, opts),
    /** POST asking for a stream of events (see {@link stream}). */
    stream,
  },

  health: (opts?: CallOptions) => call<GatewayHealth>("GET", "/api/gw/health", undefined, opts),
  agents: (opts?: CallOptions) => call<{ agents: AgentSummary[] }>("GET", "/api/gw/agents", undefined, opts),
  stats: (opts?: CallOptions) => call<GatewayStats>("GET", "/api/gw/v1/stats", undefined, opts),
  requests: (
    query: {
      agent?: string;
      status?: string;
      since?: string;
      kind?: "calls" | "all";
      limit?: number;
      cursor?: string;
    } = {},
    opts?: CallOptions,
  ) =>
    call<{ requests: RequestLogEntry[]; next_cursor: string | null }>("GET", "/api/gw/v1/requests", undefined, {
      ...opts,
      query: { ...opts?.query, ...query },
    }),
  /** Long-running runs (`Prefer: respond-async` on `/execute`). A gateway without them answers 404 `NOT_FOUND`. */
  runs: {
    list: ({ signal, ...query }: RunsQuery = {}) =>
      call<RunsPage>("GET", "/api/gw/v1/runs", undefined, { query: { ...query }, ...(signal ? { signal } : {}) }),
    /** One run, with its `result`; 404 `RUN_NOT_FOUND` when unknown. */
    get: (id: string, opts?: CallOptions) =>
      call<RunView>("GET", `/api/gw/v1/runs/${encodeURIComponent(id)}`, undefined, opts),
    /** Cancels a queued or running run (answers it, now `cancelled`); 409 `RUN_FINISHED` once it has ended. */
    cancel: (id: string, opts?: CallOptions) =>
      call<RunView>("POST", `/api/gw/v1/runs/${encodeURIComponent(id)}/cancel`, {}, opts),
  },
};
