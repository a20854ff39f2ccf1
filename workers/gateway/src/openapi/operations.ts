/**
 * Every operation of the gateway's HTTP API, as the OpenAPI document
 * (document.ts) describes it: who may call it, its body (the route's own
 * zod/mini schema, imported: never a copy), its query and path parameters,
 * its answers (schemas.ts, admin-schemas.ts) and the error statuses it may
 * answer in the one error shape. Query strings that routes parse by hand,
 * and path parameters, are described here with the patterns the routes
 * check. openapi.test.ts checks that every route app.ts registers is here.
 */
import * as z from "zod/mini";
import { CreateKeySchema, KEY_ID_PATTERN, RotateKeySchema, UpdateKeySchema } from "../admin/key-schemas";
import { SESSION_ID_PATTERN } from "../auth/sessions-store";
import { CALLER_KEY_PATTERN } from "../idempotency";
import { REQUEST_ID_PATTERN } from "../../../shared/request-id";
import { AgentExecuteBodySchema, ExecuteBodySchema, TIMEOUT_HEADER } from "../routes/execute";
import { BreakerChangeSchema } from "../routes/guard-admin";
import { ListQuery as RunListQuery } from "../routes/runs";
import { CreateSessionSchema } from "../routes/sessions";
import { RUN_ID_PATTERN } from "../runs/create";
import {
  AuditPageSchema,
  BreakerChangedSchema,
  GuardAnswerSchema,
  GuardResetSchema,
  KeyAnswerSchema,
  KeyCreatedSchema,
  KeyPageSchema,
  KeyRotatedSchema,
  KeyUsageSchema,
  PurgeSchema,
  RequestDetailsSchema,
  RequestPageSchema,
  SessionCreatedSchema,
  SessionSchema,
  StatsSchema,
} from "./admin-schemas";
import {
  AgentCardSchema,
  AgentListSchema,
  ExecuteResultSchema,
  HealthSchema,
  JsonRpcAnswerSchema,
  JsonRpcRequestSchema,
  RunAcceptedSchema,
  RunPageSchema,
  RunSchema,
  named,
  requestRegistry,
  responseRegistry,
} from "./schemas";

type Schema = z.core.$ZodType;

/** Who may call an operation: nobody in particular, any credential, or one with the admin (or metrics) scope. */
export type Access = "public" | "key" | "admin" | "metrics";

/** One success answer: `schema` (registered with an id) as application/json, or `media`. */
export interface Answer {
  status: number;
  description: string;
  schema?: Schema;
  /** Another media type, its body a string: server-sent events, Prometheus text, or none at all. */
  media?: "text/event-stream" | "text/plain" | "none";
  /** Response headers worth naming (each described as a string). */
  headers?: Record<string, string>;
  /** The same answer may come as server-sent events instead (`Accept: text/event-stream`). */
  stream?: boolean;
}

/** One operation. Paths are Hono's (`/agents/:agent/execute`). */
export interface Operation {
  id: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  tag: string;
  summary: string;
  access: Access;
  /** The route's own body schema (registered with an id); `optional` when a missing body is read as `{}`. */
  body?: { schema: Schema; optional?: boolean };
  /** A strict object whose properties are the query parameters. */
  query?: z.ZodMiniObject;
  /** Header parameters, by name of `components.parameters`. */
  headers?: readonly HeaderParameter[];
  answers: readonly Answer[];
  /** Error statuses (answered with ErrorBody), besides those of `access` and 500. */
  errors: readonly number[];
}

const body = (schema: Schema, id: string, optional = false) => ({
  schema: named(requestRegistry, schema, { id }),
  optional,
});

/** A path or header parameter: its name, its schema and what it means. */
export interface Parameter {
  name: string;
  schema: Schema;
  description: string;
}

const AgentName = z.string().check(z.minLength(1), z.maxLength(253));
/** Path parameters, described once in `components.parameters`: `:agent`, and each resource's `:id` with the pattern its route checks. */
export const PATH_PARAMETERS = {
  Agent: { name: "agent", schema: AgentName, description: "The agent's name (metadata.name of its manifest)" },
  RunId: {
    name: "id",
    schema: z.string().check(z.regex(RUN_ID_PATTERN)),
    description: "A run id (anything else is 404 RUN_NOT_FOUND)",
  },
  KeyId: {
    name: "id",
    schema: z.string().check(z.regex(KEY_ID_PATTERN)),
    description: "A key id (anything else is 404 KEY_NOT_FOUND)",
  },
  SessionId: {
    name: "id",
    schema: z.string().check(z.regex(SESSION_ID_PATTERN)),
    description: "A session id (anything else is 404 NOT_FOUND)",
  },
  LoggedRequestId: {
    name: "id",
    schema: z.string().check(z.regex(REQUEST_ID_PATTERN)),
    description: "A request id, as in X-Request-Id (anything else is 400)",
  },
} satisfies Record<string, Parameter>;
const ID_OF: Record<string, keyof typeof PATH_PARAMETERS> = {
  runs: "RunId",
  keys: "KeyId",
  sessions: "SessionId",
  requests: "LoggedRequestId",
};

/** The component of `PATH_PARAMETERS` describing `:name` in `path` (`/v1/<resource>/:id`), if any. */
export function pathParameterOf(path: string, name: string): keyof typeof PATH_PARAMETERS | undefined {
  return name === "agent" ? "Agent" : name === "id" ? ID_OF[path.split("/")[2] ?? ""] : undefined;
}

/** Header parameters, described once in `components.parameters`. */
export const HEADER_PARAMETERS = {
  RequestId: {
    name: "X-Request-Id",
    schema: z.string().check(z.regex(REQUEST_ID_PATTERN)),
    description: "The request's id; a missing or malformed one is replaced by a UUID. Echoed in the answer.",
  },
  TimeoutMs: {
    name: TIMEOUT_HEADER,
    schema: z.string().check(z.regex(/^\d+$/)),
    description: "A shorter deadline than the gateway's, in ms.",
  },
  IdempotencyKey: {
    name: "Idempotency-Key",
    schema: z.string().check(z.regex(CALLER_KEY_PATTERN)),
    description: "Exactly once: the same caller, key and body within 24 h get the first answer again.",
  },
  Prefer: {
    name: "Prefer",
    schema: z.string(),
    description: "`respond-async` makes the call a run: 202 and a run id (docs/runs.md).",
  },
  OnBehalfOf: {
    name: "X-Zahara-On-Behalf-Of",
    schema: z.string().check(z.maxLength(128)),
    description: "The person an admin client acts for, recorded in the audit entry.",
  },
} satisfies Record<string, Parameter>;
export type HeaderParameter = keyof typeof HEADER_PARAMETERS;

/** Queries that routes parse by hand (routes/keys.ts, routes/requests.ts, routes/audit.ts): unknown parameters are 400. */
const Limit200 = z.int().check(z.minimum(1), z.maximum(200));
const Since = named(requestRegistry, z.string(), { description: "An ISO 8601 date or epoch milliseconds" });
const Cursor = named(requestRegistry, z.string(), { description: "`next_cursor` of the previous page" });
const KeyListQuery = z.strictObject({
  include_revoked: z.optional(z.enum(["true", "false"])),
  limit: z.optional(Limit200),
  cursor: z.optional(z.string().check(z.regex(KEY_ID_PATTERN))),
});
const RequestListQuery = z.strictObject({
  agent: z.optional(AgentName),
  status: z.optional(
    named(requestRegistry, z.string().check(z.regex(/^([1-5]\d\d|[1-5][xX][xX])$/)), {
      description: "An HTTP status (404) or a class (5xx)",
    }),
  ),
  since: z.optional(Since),
  kind: z.optional(
    named(requestRegistry, z.enum(["calls", "all"]), {
      description: "`calls`: agent calls only, not admin or listing requests",
    }),
  ),
  limit: z.optional(Limit200),
  cursor: z.optional(Cursor),
});
const AuditQuery = z.strictObject({
  actor: z.optional(AgentName),
  action: z.optional(AgentName),
  target: z.optional(AgentName),
  since: z.optional(Since),
  limit: z.optional(Limit200),
  cursor: z.optional(Cursor),
});

const json = (schema: Schema, description: string, status = 200): Answer => ({ status, description, schema });
const OpenApiDocumentSchema = named(
  responseRegistry,
  z.looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  }),
  { id: "OpenApiDocument" },
);
const CALL_HEADERS = ["RequestId", "TimeoutMs", "IdempotencyKey", "Prefer"] as const;
const ADMIN_HEADERS = ["RequestId", "OnBehalfOf"] as const;
/** What a call to an agent may answer besides the auth errors. */
const CALL_ERRORS = [400, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504];
const JSON_BODY_ERRORS = [400, 413, 415];
const RUN_ACCEPTED: Answer = {
  ...json(RunAcceptedSchema, "With `Prefer: respond-async`: the run, created", 202),
  headers: { Location: "The run's status URL" },
};
const mcpBody = body(z.union([JsonRpcRequestSchema, z.array(JsonRpcRequestSchema)]), "McpBody");
const mcpAnswer = named(responseRegistry, z.union([JsonRpcAnswerSchema, z.array(JsonRpcAnswerSchema)]), {
  id: "McpAnswer",
});

/** Every operation, in the order of docs/http-api.md. */
export const OPERATIONS: readonly Operation[] = [
  {
    id: "health",
    method: "GET",
    path: "/health",
    tag: "gateway",
    summary: "The gateway's version and each agent's health",
    access: "public",
    answers: [json(HealthSchema, "The gateway runs")],
    errors: [],
  },
  {
    id: "openapi",
    method: "GET",
    path: "/openapi.json",
    tag: "gateway",
    summary: "This document",
    access: "public",
    answers: [json(OpenApiDocumentSchema, "OpenAPI 3.1")],
    errors: [],
  },
  {
    id: "listAgents",
    method: "GET",
    path: "/agents",
    tag: "calls",
    summary: "The agents and capabilities the credential may call",
    access: "key",
    answers: [json(AgentListSchema, "The agents")],
    errors: [],
  },
  {
    id: "execute",
    method: "POST",
    path: "/execute",
    tag: "calls",
    summary: "Calls the agent offering `task` (or the body's `agent`)",
    access: "key",
    headers: CALL_HEADERS,
    body: body(ExecuteBodySchema, "ExecuteBody"),
    answers: [
      {
        ...json(ExecuteResultSchema, "The capability's result"),
        stream: true,
        headers: { "Idempotent-Replayed": "`true` on a replayed answer" },
      },
      RUN_ACCEPTED,
    ],
    errors: CALL_ERRORS,
  },
  {
    id: "agentExecute",
    method: "POST",
    path: "/agents/:agent/execute",
    tag: "calls",
    summary: "Calls a capability of the named agent",
    access: "key",
    headers: CALL_HEADERS,
    body: body(AgentExecuteBodySchema, "AgentExecuteBody"),
    answers: [{ ...json(ExecuteResultSchema, "The capability's result"), stream: true }, RUN_ACCEPTED],
    errors: CALL_ERRORS,
  },
  {
    id: "mcp",
    method: "POST",
    path: "/mcp",
    tag: "protocols",
    summary: "MCP (Streamable HTTP): every agent the credential may call (docs/mcp.md)",
    access: "key",
    body: mcpBody,
    answers: mcpAnswers(),
    errors: [403, 413, 415],
  },
  {
    id: "agentMcp",
    method: "POST",
    path: "/agents/:agent/mcp",
    tag: "protocols",
    summary: "MCP for one agent (docs/mcp.md)",
    access: "key",
    body: mcpBody,
    answers: mcpAnswers(),
    errors: [403, 404, 413, 415],
  },
  {
    id: "agentCard",
    method: "GET",
    path: "/agents/:agent/.well-known/agent-card.json",
    tag: "protocols",
    summary: "The agent's A2A card",
    access: "public",
    answers: [json(AgentCardSchema, "The card")],
    errors: [404],
  },
  {
    id: "a2a",
    method: "POST",
    path: "/agents/:agent/a2a",
    tag: "protocols",
    summary: "A2A JSON-RPC, 1.0 and 0.3 (docs/a2a.md)",
    access: "key",
    body: { schema: JsonRpcRequestSchema },
    answers: [json(JsonRpcAnswerSchema, "A JSON-RPC answer (a protocol error included)")],
    errors: [404, 413, 415],
  },
  {
    id: "listRuns",
    method: "GET",
    path: "/v1/runs",
    tag: "runs",
    summary: "The caller's runs (an admin's: everyone's), newest first",
    access: "key",
    query: RunListQuery,
    answers: [json(RunPageSchema, "A page of runs")],
    errors: [400, 503],
  },
  {
    id: "getRun",
    method: "GET",
    path: "/v1/runs/:id",
    tag: "runs",
    summary: "One run, with its result",
    access: "key",
    answers: [json(RunSchema, "The run")],
    errors: [404, 503],
  },
  {
    id: "runEvents",
    method: "GET",
    path: "/v1/runs/:id/events",
    tag: "runs",
    summary: "The run's changes as server-sent events, until it ends",
    access: "key",
    answers: [{ status: 200, description: "`status` events", media: "text/event-stream" }],
    errors: [404, 503],
  },
  {
    id: "cancelRun",
    method: "POST",
    path: "/v1/runs/:id/cancel",
    tag: "runs",
    summary: "Cancels a queued or running run",
    access: "key",
    answers: [json(RunSchema, "The run, cancelled")],
    errors: [404, 409, 503],
  },
  {
    id: "metrics",
    method: "GET",
    path: "/metrics",
    tag: "operators",
    summary: "Prometheus text format, aggregated globally",
    access: "metrics",
    answers: [{ status: 200, description: "The metrics (docs/metrics.md)", media: "text/plain" }],
    errors: [],
  },
  {
    id: "stats",
    method: "GET",
    path: "/v1/stats",
    tag: "operators",
    summary: "Per agent: requests, rates, latency percentiles, breaker",
    access: "admin",
    answers: [json(StatsSchema, "The stats")],
    errors: [],
  },
  {
    id: "listRequests",
    method: "GET",
    path: "/v1/requests",
    tag: "operators",
    summary: "The request log, newest first",
    access: "admin",
    query: RequestListQuery,
    answers: [json(RequestPageSchema, "A page of requests")],
    errors: [400, 503],
  },
  {
    id: "getRequest",
    method: "GET",
    path: "/v1/requests/:id",
    tag: "operators",
    summary: "Every logged request that carried the id, with its attempts",
    access: "admin",
    answers: [json(RequestDetailsSchema, "The requests")],
    errors: [400, 404, 503],
  },
  {
    id: "purgeRequests",
    method: "POST",
    path: "/v1/requests/purge",
    tag: "operators",
    summary: "Runs the retention purge now (audited)",
    access: "admin",
    headers: ADMIN_HEADERS,
    answers: [json(PurgeSchema, "What was purged")],
    errors: [503],
  },
  {
    id: "createSession",
    method: "POST",
    path: "/v1/sessions",
    tag: "operators",
    summary: "Opens a dashboard session for the admin key signing in",
    access: "admin",
    body: body(CreateSessionSchema, "CreateSession", true),
    answers: [json(SessionCreatedSchema, "The session", 201)],
    errors: [...JSON_BODY_ERRORS, 503],
  },
  {
    id: "getSession",
    method: "GET",
    path: "/v1/sessions/:id",
    tag: "operators",
    summary: "Checks a dashboard session",
    access: "admin",
    answers: [json(SessionSchema, "The session is active")],
    errors: [404, 503],
  },
  {
    id: "deleteSession",
    method: "DELETE",
    path: "/v1/sessions/:id",
    tag: "operators",
    summary: "Ends a dashboard session (idempotent)",
    access: "admin",
    headers: ADMIN_HEADERS,
    answers: [{ status: 204, description: "Ended", media: "none" }],
    errors: [404, 503],
  },
  {
    id: "getGuard",
    method: "GET",
    path: "/v1/agents/:agent/guard",
    tag: "operators",
    summary: "What the agent's upstream guard holds now",
    access: "admin",
    answers: [json(GuardAnswerSchema, "The guard")],
    errors: [404, 503],
  },
  ...(["open", "close"] as const).map((action): Operation => ({
    id: `breaker${action === "open" ? "Open" : "Close"}`,
    method: "POST",
    path: `/v1/agents/:agent/breaker/${action}`,
    tag: "operators",
    summary:
      action === "open"
        ? "Isolates the agent: breaker forced open until closed (audited)"
        : "Closes the breaker and resets its counters (audited)",
    access: "admin",
    headers: ADMIN_HEADERS,
    body: body(BreakerChangeSchema, "BreakerChange", true),
    answers: [json(BreakerChangedSchema, "The guard after the change")],
    errors: [...JSON_BODY_ERRORS, 404, 503],
  })),
  {
    id: "resetGuard",
    method: "DELETE",
    path: "/v1/agents/:agent/guard",
    tag: "operators",
    summary: "Forgets everything the guard holds (audited)",
    access: "admin",
    headers: ADMIN_HEADERS,
    answers: [json(GuardResetSchema, "Reset")],
    errors: [404, 503],
  },
  {
    id: "createKey",
    method: "POST",
    path: "/v1/keys",
    tag: "keys",
    summary: "Creates a managed key; the answer holds its secret, once",
    access: "admin",
    headers: ADMIN_HEADERS,
    body: body(CreateKeySchema, "CreateKey"),
    answers: [json(KeyCreatedSchema, "The key and its secret", 201)],
    errors: [...JSON_BODY_ERRORS, 503],
  },
  {
    id: "listKeys",
    method: "GET",
    path: "/v1/keys",
    tag: "keys",
    summary: "Managed keys",
    access: "admin",
    query: KeyListQuery,
    answers: [json(KeyPageSchema, "A page of keys")],
    errors: [400, 503],
  },
  {
    id: "getKey",
    method: "GET",
    path: "/v1/keys/:id",
    tag: "keys",
    summary: "One managed key",
    access: "admin",
    answers: [json(KeyAnswerSchema, "The key")],
    errors: [404, 503],
  },
  {
    id: "keyUsage",
    method: "GET",
    path: "/v1/keys/:id/usage",
    tag: "keys",
    summary: "Per agent: the key's tokens today and its rate-limit cell",
    access: "admin",
    answers: [json(KeyUsageSchema, "The usage")],
    errors: [404, 503],
  },
  {
    id: "updateKey",
    method: "PATCH",
    path: "/v1/keys/:id",
    tag: "keys",
    summary: "Changes name, scopes, limits or expiry (`null` clears)",
    access: "admin",
    headers: ADMIN_HEADERS,
    body: body(UpdateKeySchema, "UpdateKey"),
    answers: [json(KeyAnswerSchema, "The key")],
    errors: [...JSON_BODY_ERRORS, 404, 409, 503],
  },
  {
    id: "rotateKey",
    method: "POST",
    path: "/v1/keys/:id/rotate",
    tag: "keys",
    summary: "A new secret; the old one works until the grace ends",
    access: "admin",
    headers: ADMIN_HEADERS,
    body: body(RotateKeySchema, "RotateKey", true),
    answers: [json(KeyRotatedSchema, "The key and its new secret")],
    errors: [...JSON_BODY_ERRORS, 404, 409, 503],
  },
  {
    id: "revokeKey",
    method: "POST",
    path: "/v1/keys/:id/revoke",
    tag: "keys",
    summary: "Revokes the key (idempotent)",
    access: "admin",
    headers: ADMIN_HEADERS,
    answers: [json(KeyAnswerSchema, "The key, revoked")],
    errors: [404, 503],
  },
  {
    id: "audit",
    method: "GET",
    path: "/v1/audit",
    tag: "operators",
    summary: "The audit log, newest first",
    access: "admin",
    query: AuditQuery,
    answers: [json(AuditPageSchema, "A page of entries")],
    errors: [400, 503],
  },
];

/** MCP answers each POST with JSON-RPC: 200, 400 for a malformed message, 202 when it expects no answer. */
function mcpAnswers(): Answer[] {
  return [
    json(mcpAnswer, "JSON-RPC answers (a method's error included)"),
    { status: 202, description: "Notifications or client responses only: no answer", media: "none" },
    json(JsonRpcAnswerSchema, "A parse error or a malformed message, as a JSON-RPC error", 400),
  ];
}
