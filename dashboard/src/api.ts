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
 * path, or the typed helpers below (hosted agents: ./api-hosted.ts). A body is
 * sent as JSON, or as it is with its own media type when it is a {@link RawBody}.
 */
import { SseParser } from "../../workers/shared/http/sse";
import type {
  AgentSummary,
  GatewayHealth,
  GatewayStats,
  RequestLogEntry,
  RunView,
  RunsPage,
  RunsQuery,
} from "./api-types";

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
  /** Sent as If-Match / If-None-Match (a hosted agent's upload, conditional on a version). */
  ifMatch?: string;
  ifNoneMatch?: string;
  signal?: AbortSignal;
}

/** A body sent as it is, with its own media type (a manifest as YAML), rather than as JSON. */
export interface RawBody {
  raw: string;
  contentType: string;
}

/** The HTTP methods the dashboard's proxy passes on. */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

// --- Gateway payloads the screens are likely to need (see the root README's HTTP API): in ./api-types.ts. ---

export type {
  StatsWindow,
  RequestLogEntry,
  TimelineEntry,
  GuardView,
  RunView,
  RunStatus,
  RunCallbackView,
  WebhookDelivery,
  GatewayHealth,
  AgentCapability,
  AgentSummary,
  GatewayStats,
  RunsQuery,
  RunsPage,
} from "./api-types";

// --- Transport ---

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Calls `listener` whenever an API call answers 401; returns the unsubscribe function. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** `{error: {code, message, details?}, request_id}`, the nested form some answers may use, as an {@link ApiError}. */
function nestedError(value: unknown): ApiError | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { error, request_id } = value as { error?: unknown; request_id?: unknown };
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  return {
    error: message,
    code,
    request_id: typeof request_id === "string" ? request_id : "",
    ...(typeof details === "object" && details !== null ? { details: details as Record<string, unknown> } : {}),
  };
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

/** One call to the dashboard's API (`/api/...`); resolves, never throws. */
export async function call<T>(
  method: Method,
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
  const raw = isRawBody(body) ? body : undefined;
  if (body !== undefined) headers["Content-Type"] = raw ? raw.contentType : "application/json";
  if (opts.ifMatch !== undefined) headers["If-Match"] = opts.ifMatch;
  if (opts.ifNoneMatch !== undefined) headers["If-None-Match"] = opts.ifNoneMatch;
  if (opts.timeoutMs !== undefined) headers["X-Timeout-Ms"] = String(opts.timeoutMs);
  if (opts.requestId) headers["X-Request-Id"] = opts.requestId;
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method,
      headers,
      credentials: "same-origin",
      ...(body !== undefined ? { body: raw ? raw.raw : JSON.stringify(body) } : {}),
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

function isRawBody(body: unknown): body is RawBody {
  return typeof body === "object" && body !== null && typeof (body as RawBody).raw === "string";
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
    : (nestedError(parsed) ?? {
        error: `The server answered ${res.status}`,
        code: "HTTP_ERROR",
        request_id: requestId ?? "",
      });
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
    put: <T>(path: GatewayPath, body: unknown, opts?: CallOptions) => call<T>("PUT", `/api/gw${path}`, body, opts),
    delete: <T>(path: GatewayPath, opts?: CallOptions) => call<T>("DELETE", `/api/gw${path}`, undefined, opts),
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
