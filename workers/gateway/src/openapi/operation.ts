/**
 * What an operation of the OpenAPI document is made of (operations.ts and
 * hosted-operations.ts list them; document.ts renders them): who may call
 * it, its body, its parameters, its answers and its error statuses, plus
 * the path and header parameters described once and the helpers the lists
 * share.
 */
import * as z from "zod/mini";
import { KEY_ID_PATTERN } from "../admin/key-schemas";
import { SESSION_ID_PATTERN } from "../auth/sessions-store";
import { CALLER_KEY_PATTERN } from "../idempotency";
import { REQUEST_ID_PATTERN } from "../../../shared/request-id";
import { TIMEOUT_HEADER } from "../routes/execute";
import { RUN_ID_PATTERN } from "../runs/create";
import { named, requestRegistry } from "./schemas";

export type Schema = z.core.$ZodType;

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
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  tag: string;
  summary: string;
  access: Access;
  /** The route's own body schema (registered with an id); `optional` when a missing body is read as `{}`. */
  body?: { schema: Schema; optional?: boolean };
  /** A body that is not only JSON: each media type with its schema (a manifest, as YAML or JSON). */
  upload?: { description: string; media: Readonly<Record<string, Schema>> };
  /** A strict object whose properties are the query parameters. */
  query?: z.ZodMiniObject;
  /** Header parameters, by name of `components.parameters`. */
  headers?: readonly HeaderParameter[];
  answers: readonly Answer[];
  /** Error statuses (answered with ErrorBody), besides those of `access` and 500. */
  errors: readonly number[];
}

/** An operation's JSON body: the route's own schema, registered with `id`. */
export const body = (schema: Schema, id: string, optional = false) => ({
  schema: named(requestRegistry, schema, { id }),
  optional,
});

/** A path or header parameter: its name, its schema and what it means. */
export interface Parameter {
  name: string;
  schema: Schema;
  description: string;
}

export const AgentName = z.string().check(z.minLength(1), z.maxLength(253));
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
  Version: {
    name: "version",
    schema: z.string().check(z.regex(/^[1-9][0-9]{0,8}$/)),
    description: "A hosted agent's version number (1, 2, …)",
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
  if (name === "agent") return "Agent";
  if (name === "version") return "Version";
  return name === "id" ? ID_OF[path.split("/")[2] ?? ""] : undefined;
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
  IfMatch: {
    name: "If-Match",
    schema: z.string(),
    description: 'Deploy only over this version of the hosted agent (its ETag, `"3"`): otherwise 412 VERSION_CONFLICT.',
  },
  IfNoneMatch: {
    name: "If-None-Match",
    schema: z.string(),
    description: "`*`: deploy only if no hosted agent has this name (otherwise 412 VERSION_CONFLICT).",
  },
} satisfies Record<string, Parameter>;
export type HeaderParameter = keyof typeof HEADER_PARAMETERS;

/** A JSON answer. */
export const json = (schema: Schema, description: string, status = 200): Answer => ({ status, description, schema });

export const CALL_HEADERS = ["RequestId", "TimeoutMs", "IdempotencyKey", "Prefer"] as const;
export const ADMIN_HEADERS = ["RequestId", "OnBehalfOf"] as const;
/** What a call to an agent may answer besides the auth errors. */
export const CALL_ERRORS = [400, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504];
export const JSON_BODY_ERRORS = [400, 413, 415];
