/**
 * The one error type and the one error shape used by every Zahara Worker.
 *
 * Every error response is JSON:
 * `{ error, code, request_id, duration_ms, service, details? }`.
 * The HTTP status is derived from the machine `code`, so a code can never be
 * sent with the wrong status.
 */

/** Catalogue of machine codes: each maps to its HTTP status and default message. */
export const ERROR_CATALOG = {
  INVALID_JSON: { status: 400, message: "Request body is not valid JSON" },
  INVALID_REQUEST: { status: 400, message: "Request body is invalid" },
  INVALID_PARAMETERS: { status: 400, message: "Parameters do not match the capability's input schema" },
  INVALID_HEADER: { status: 400, message: "A request header is invalid" },
  INVALID_CALLBACK: { status: 400, message: "The run's callback URL is refused" },
  INVALID_MANIFEST: { status: 400, message: "The manifest is invalid" },
  PII_DETECTED: { status: 400, message: "The request contains personal data this agent refuses" },
  TOKEN_LIMIT_EXCEEDED: { status: 400, message: "The request needs more tokens than this agent allows per request" },
  AMBIGUOUS_TASK: { status: 400, message: "More than one agent offers this task; name the agent" },
  UNAUTHORIZED: { status: 401, message: "Missing or invalid API key" },
  CAPABILITY_DISABLED: { status: 403, message: "This capability is disabled" },
  FORBIDDEN: { status: 403, message: "This credential may not do that" },
  NOT_FOUND: { status: 404, message: "Route not found" },
  AGENT_NOT_FOUND: { status: 404, message: "Agent not found" },
  TASK_NOT_FOUND: { status: 404, message: "No agent offers this task" },
  REQUEST_NOT_FOUND: { status: 404, message: "No such request in the request log" },
  KEY_NOT_FOUND: { status: 404, message: "No such API key" },
  RUN_NOT_FOUND: { status: 404, message: "No such run" },
  VERSION_NOT_FOUND: { status: 404, message: "No such version of this hosted agent" },
  METHOD_NOT_ALLOWED: { status: 405, message: "Method not allowed" },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, message: "A request with this Idempotency-Key is still running" },
  KEY_REVOKED: { status: 409, message: "This API key is revoked" },
  RUN_FINISHED: { status: 409, message: "The run has already ended" },
  RUN_CANCELLED: { status: 409, message: "The run was cancelled" },
  AGENT_NAME_TAKEN: { status: 409, message: "This name belongs to an agent deployed as a Worker" },
  HOSTED_AGENT_LIMIT: { status: 409, message: "This gateway holds as many hosted agents as it may" },
  VERSION_CONFLICT: { status: 412, message: "The hosted agent changed since the version in If-Match" },
  PAYLOAD_TOO_LARGE: { status: 413, message: "Request body is too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Request body must be application/json" },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: "This Idempotency-Key was used with a different request body" },
  RATE_LIMITED: { status: 429, message: "Too many requests" },
  TOO_MANY_AUTH_FAILURES: { status: 429, message: "Too many failed authentication attempts from this address" },
  TOKEN_BUDGET_EXCEEDED: { status: 429, message: "The agent's daily token budget is used up" },
  COST_BUDGET_EXCEEDED: { status: 429, message: "The agent's daily cost budget is used up" },
  INTERNAL_ERROR: { status: 500, message: "Internal error" },
  INVALID_OUTPUT: { status: 500, message: "Capability output does not match its output schema" },
  CHAOS_INJECTED: { status: 500, message: "Fault injected by the chaos capability" },
  UPSTREAM_FAILED: { status: 502, message: "The agent failed" },
  UPSTREAM_UNREACHABLE: { status: 502, message: "The agent could not be reached" },
  LLM_PROVIDER_ERROR: { status: 502, message: "The LLM provider returned an error" },
  LLM_BAD_OUTPUT: { status: 502, message: "The LLM answer does not match the output schema" },
  AGENT_UNAVAILABLE: { status: 503, message: "The agent is not bound to this gateway" },
  CIRCUIT_OPEN: { status: 503, message: "The agent's circuit breaker is open" },
  CONCURRENCY_LIMIT: { status: 503, message: "Too many requests in flight for this agent" },
  LLM_NOT_CONFIGURED: { status: 503, message: "No LLM provider is configured for this agent" },
  LOG_UNAVAILABLE: { status: 503, message: "The request log is unavailable" },
  AUTH_UNAVAILABLE: { status: 503, message: "Credentials cannot be checked right now" },
  KEY_STORE_UNAVAILABLE: { status: 503, message: "The key store is unavailable" },
  GUARD_UNAVAILABLE: { status: 503, message: "The agent's upstream guard is unavailable" },
  RUNS_UNAVAILABLE: { status: 503, message: "Runs cannot be created or read right now" },
  HOSTED_AGENTS_UNAVAILABLE: { status: 503, message: "Hosted agents cannot be read or changed right now" },
  WEBHOOKS_NOT_CONFIGURED: {
    status: 503,
    message: "This gateway has no WEBHOOK_SIGNING_SECRET: runs cannot ask for a webhook",
  },
  UPSTREAM_TIMEOUT: { status: 504, message: "The agent did not answer before the deadline" },
  LLM_TIMEOUT: { status: 504, message: "The LLM provider did not answer in time" },
} as const satisfies Record<string, { status: number; message: string }>;

/** A machine-readable error code (UPPER_SNAKE). */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The HTTP statuses an error may carry. */
export type ErrorStatus = (typeof ERROR_CATALOG)[ErrorCode]["status"];

/** JSON body of every error response. */
export interface ErrorBody {
  error: string;
  code: string;
  request_id: string;
  duration_ms: number;
  service: string;
  details?: Record<string, unknown>;
}

/**
 * Whose fault a server error is, when it is not the agent's own transient
 * failure: `caller` (the request made it fail: an input the LLM provider
 * refused, output a prompt drove off its schema) or `permanent` (a setting
 * is missing or wrong; retrying changes nothing). An agent sends it in the
 * {@link FAULT_HEADER}; the gateway neither retries such an answer nor
 * counts it against the agent's circuit breaker.
 */
export type ErrorFault = "caller" | "permanent";

/** Header carrying an error's {@link ErrorFault} from an agent to the gateway. */
export const FAULT_HEADER = "X-Zahara-Fault";

/** Reads a {@link FAULT_HEADER} value; undefined for anything else. */
export function parseFault(value: string | null | undefined): ErrorFault | undefined {
  return value === "caller" || value === "permanent" ? value : undefined;
}

/** Options for {@link ZaharaError}. */
export interface ZaharaErrorOptions {
  /** Human message; defaults to the catalogue's message for the code. */
  message?: string;
  /** Structured detail (validation fields, attempts, ...). Never secrets. */
  details?: Record<string, unknown>;
  /** Extra response headers (Retry-After, Allow, ...). */
  headers?: Record<string, string>;
  /** The service that produced the error, when relaying another service's error. */
  service?: string;
  /** HTTP status override, only for relaying an upstream's own 4xx status. */
  status?: number;
  /** Underlying cause; logged, never sent. */
  cause?: unknown;
  /** Machine code of a relayed upstream error (replaces `code` in the body). */
  upstreamCode?: string;
  /** Request id a relayed upstream error carried (it saw the same id when propagation works). */
  requestId?: string;
  /** Whose fault a server error is when not the agent's own (see {@link ErrorFault}). */
  fault?: ErrorFault;
}

/**
 * The single error type thrown by handlers and middleware. `onError` turns it
 * into the JSON error shape; anything else becomes a 500 `INTERNAL_ERROR`.
 */
export class ZaharaError extends Error {
  /** HTTP status sent to the caller. */
  readonly status: number;
  /** Machine code sent to the caller. */
  readonly code: string;
  /** Optional structured detail. */
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers. */
  readonly headers: Record<string, string>;
  /** Service that originated the error when relayed, else undefined. */
  readonly service: string | undefined;
  /** Request id reported by the upstream that originated a relayed error. */
  readonly requestId: string | undefined;
  /** Whose fault it is, when not the agent's own transient failure. */
  readonly fault: ErrorFault | undefined;

  constructor(code: ErrorCode, options: ZaharaErrorOptions = {}) {
    const entry = ERROR_CATALOG[code];
    super(options.message ?? entry.message, { cause: options.cause });
    this.name = "ZaharaError";
    this.code = options.upstreamCode ?? code;
    this.status = options.status ?? entry.status;
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.service = options.service;
    this.requestId = options.requestId;
    this.fault = options.fault;
  }

  /**
   * Rebuilds an error another Zahara service sent (its status, code, message,
   * details, request id), so a gateway can relay an agent's 4xx verbatim.
   */
  static relayed(
    status: number,
    body: Partial<ErrorBody>,
    service: string,
    headers: Record<string, string> = {},
  ): ZaharaError {
    return new ZaharaError("UPSTREAM_FAILED", {
      status,
      message: typeof body.error === "string" ? body.error : `Agent answered ${status}`,
      details: body.details,
      headers,
      service: typeof body.service === "string" ? body.service : service,
      upstreamCode: typeof body.code === "string" && /^[A-Z][A-Z0-9_]*$/.test(body.code) ? body.code : "UPSTREAM_ERROR",
      ...(typeof body.request_id === "string" ? { requestId: body.request_id } : {}),
    });
  }
}

/** True when `value` looks like a Zahara error body (from any service). */
export function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ErrorBody).error === "string" &&
    typeof (value as ErrorBody).code === "string"
  );
}
