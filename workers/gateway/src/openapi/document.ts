/**
 * Builds the gateway's OpenAPI 3.1 document from operations.ts: request
 * bodies and parameters from the routes' own zod/mini schemas, answers from
 * schemas.ts and admin-schemas.ts, each turned into JSON Schema draft
 * 2020-12 (OpenAPI 3.1's dialect) by zod's `toJSONSchema`. Errors are one
 * `ErrorBody` schema, referenced by one response per status whose
 * description lists that status's codes from the error catalogue.
 *
 * `npm run openapi` (scripts/openapi.ts) writes the result to
 * docs/openapi.json, which the gateway serves at `GET /openapi.json`
 * (route.ts); openapi.test.ts fails when the file is stale. So this module
 * and zod's JSON Schema code never reach the gateway's bundle.
 */
import * as z from "zod/mini";
import { ERROR_CATALOG } from "../../../shared/errors";
import {
  type Access,
  type Answer,
  HEADER_PARAMETERS,
  type Operation,
  PATH_PARAMETERS,
  type Parameter,
  pathParameterOf,
} from "./operation";
import { OPERATIONS } from "./operations";
import { requestRegistry, responseRegistry } from "./schemas";

/** A JSON Schema (draft 2020-12), as OpenAPI 3.1 embeds it. */
export type JsonSchema = z.core.JSONSchema.BaseSchema;

/** `{ $ref }` to a component. */
export interface Reference {
  $ref: string;
}

/** An OpenAPI response object. */
export interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, { schema: JsonSchema }>;
}

/** An OpenAPI parameter object. */
export interface ParameterObject {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}

/** An OpenAPI operation object, as built here. */
export interface OperationObject {
  operationId: string;
  summary: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: (ParameterObject | Reference)[];
  requestBody?: { required: boolean; description?: string; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, ResponseObject | Reference>;
}

/** The document. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  jsonSchemaDialect: string;
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, OperationObject>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
    parameters: Record<string, ParameterObject>;
    securitySchemes: Record<string, Record<string, string>>;
  };
}

const DIALECT = "https://json-schema.org/draft/2020-12/schema";
const SCHEMAS = "#/components/schemas/";

const TAGS = [
  { name: "gateway", description: "The gateway itself" },
  { name: "calls", description: "Zahara's own API: calling agents' capabilities" },
  { name: "protocols", description: "MCP and A2A" },
  { name: "runs", description: "Long-running runs (docs/runs.md)" },
  { name: "operators", description: "Metrics, the request log, guards, sessions, audit (admin scope)" },
  { name: "keys", description: "Managed API keys (docs/access-control.md)" },
  { name: "agents", description: "Hosted agents: manifests uploaded at runtime (docs/hosted-agents.md)" },
];

const REASONS: Record<number, string> = {
  400: "Bad request",
  401: "No valid credential",
  403: "Not allowed for this credential",
  404: "Not found",
  409: "Conflict",
  412: "Precondition failed",
  413: "Body too large",
  415: "Body is not JSON",
  422: "Idempotency-Key reused with another body",
  429: "Too many requests",
  500: "Internal error",
  502: "The agent failed",
  503: "Unavailable (Retry-After may say when to retry)",
  504: "The agent did not answer in time",
};

/** Errors every operation with this access may answer, besides its own. */
const ACCESS_ERRORS: Record<Access, number[]> = {
  public: [],
  key: [401, 429, 503],
  admin: [401, 403, 429, 503],
  metrics: [401, 403, 429, 503],
};

function security(access: Access): Record<string, string[]>[] {
  if (access === "public") return [];
  const roles = access === "key" ? [] : [access];
  return [{ ApiKey: roles }, { Bearer: roles }];
}

/** A Hono path (`/agents/:agent`) as an OpenAPI path template (`/agents/{agent}`). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]\w*)/g, "{$1}");
}

/** Drops the keys a standalone JSON Schema carries and an embedded one must not (`$schema`, `$id`). */
function embedded(schema: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** zod's bounds on every `z.int()` (±2^53 - 1): noise in a document, so dropped. */
function dropSafeBounds({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
}

/** zod's JSON Schema options: OpenAPI 3.1's dialect, bodies as sent (`input`) or answers as sent (`output`). */
const options = (io: "input" | "output") =>
  ({
    target: "draft-2020-12",
    io,
    metadata: io === "input" ? requestRegistry : responseRegistry,
    override: dropSafeBounds,
  }) as const;

/** A reference to the component of a body (`input`) or answer (`output`) schema. */
function ref(schema: z.core.$ZodType, io: "input" | "output"): JsonSchema {
  const id = (io === "input" ? requestRegistry : responseRegistry).get(schema)?.id;
  if (!id)
    throw new Error(`OpenAPI: every ${io === "input" ? "body" : "answer"} schema needs an id (schemas.ts named())`);
  return { $ref: `${SCHEMAS}${id}` };
}

/** A parameter's schema, inline (parameters name no component). */
function inline(schema: z.core.$ZodType): JsonSchema {
  const out = embedded(z.toJSONSchema(schema, options("input")));
  if (out.$defs) throw new Error("OpenAPI: a parameter's schema must not use a named schema");
  return out;
}

/** Every named schema of both registries, converted once each. */
function componentSchemas(): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [registry, io] of [
    [responseRegistry, "output"],
    [requestRegistry, "input"],
  ] as const) {
    const { schemas } = z.toJSONSchema(registry, { ...options(io), uri: (id) => `${SCHEMAS}${id}` });
    for (const [id, schema] of Object.entries(schemas)) {
      if (id in out) throw new Error(`OpenAPI: two schemas named ${id}`);
      out[id] = embedded(schema);
    }
  }
  // By code unit, not locale: the same order in Node (the script) and workerd (the test).
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A schema's `description` lifted onto the parameter that holds it. */
function parameter(
  name: string,
  where: ParameterObject["in"],
  schema: JsonSchema,
  required: boolean,
  description?: string,
): ParameterObject {
  const { description: inner, ...rest } = schema;
  const text = description ?? inner;
  return { name, in: where, ...(required ? { required } : {}), ...(text ? { description: text } : {}), schema: rest };
}

function parametersOf(op: Operation): (ParameterObject | Reference)[] {
  const out: (ParameterObject | Reference)[] = [];
  for (const [, name = ""] of op.path.matchAll(/:(\w+)/g)) {
    const id = pathParameterOf(op.path, name);
    if (!id) throw new Error(`OpenAPI: no description of :${name} in ${op.path}`);
    out.push({ $ref: `#/components/parameters/${id}` });
  }
  if (op.query) {
    const query = inline(op.query);
    const required = new Set(query.required ?? []);
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      if (typeof schema === "object") out.push(parameter(name, "query", schema, required.has(name)));
    }
  }
  for (const name of op.headers ?? ["RequestId"]) out.push({ $ref: `#/components/parameters/${name}` });
  return out;
}

function answer(a: Answer): ResponseObject {
  const headers = a.headers
    ? Object.fromEntries(
        Object.entries(a.headers).map(([name, description]) => [
          name,
          { description, schema: { type: "string" as const } },
        ]),
      )
    : undefined;
  const content: Record<string, { schema: JsonSchema }> = {};
  if (a.schema) content["application/json"] = { schema: ref(a.schema, "output") };
  if (a.media && a.media !== "none") content[a.media] = { schema: { type: "string" } };
  if (a.stream)
    content["text/event-stream"] = {
      schema: { type: "string", description: "Server-sent events (docs/streaming.md)" },
    };
  return {
    description: a.description,
    ...(headers ? { headers } : {}),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}

function operation(op: Operation): OperationObject {
  const responses: Record<string, ResponseObject | Reference> = {};
  for (const a of op.answers) responses[a.status] = answer(a);
  const errors = [...new Set([...op.errors, ...ACCESS_ERRORS[op.access], 500])].sort((a, b) => a - b);
  for (const status of errors)
    if (!(status in responses)) responses[status] = { $ref: `#/components/responses/Error${status}` };
  return {
    operationId: op.id,
    summary: op.summary,
    tags: [op.tag],
    security: security(op.access),
    parameters: parametersOf(op),
    ...(op.body
      ? {
          requestBody: {
            required: !op.body.optional,
            content: { "application/json": { schema: ref(op.body.schema, "input") } },
          },
        }
      : {}),
    ...(op.upload
      ? {
          requestBody: {
            required: true,
            description: op.upload.description,
            content: Object.fromEntries(
              Object.entries(op.upload.media).map(([media, schema]) => [media, { schema: ref(schema, "input") }]),
            ),
          },
        }
      : {}),
    responses,
  };
}

/** One response per error status, its description naming the status's codes. */
function errorResponses(statuses: Iterable<number>): Record<string, ResponseObject> {
  const out: Record<string, ResponseObject> = {};
  for (const status of [...statuses].sort((a, b) => a - b)) {
    const codes = Object.entries(ERROR_CATALOG)
      .filter(([, e]) => e.status === status)
      .map(([code]) => code);
    const description = `${REASONS[status] ?? "Error"}${codes.length > 0 ? `: ${codes.join(", ")}` : ""}`;
    out[`Error${status}`] = {
      description,
      content: { "application/json": { schema: { $ref: `${SCHEMAS}ErrorBody` } } },
    };
  }
  return out;
}

/** The gateway's OpenAPI 3.1 document, for gateway `version`. */
export function buildOpenApiDocument(version: string): OpenApiDocument {
  const paths: Record<string, Record<string, OperationObject>> = {};
  const statuses = new Set<number>();
  for (const op of OPERATIONS) {
    const built = operation(op);
    for (const [status, r] of Object.entries(built.responses)) if ("$ref" in r) statuses.add(Number(status));
    (paths[openApiPath(op.path)] ??= {})[op.method.toLowerCase()] = built;
  }
  const described =
    (where: "path" | "header") =>
    ([id, p]: [string, Parameter]) => [id, parameter(p.name, where, inline(p.schema), where === "path", p.description)];
  const parameters = Object.fromEntries([
    ...Object.entries(PATH_PARAMETERS).map(described("path")),
    ...Object.entries(HEADER_PARAMETERS).map(described("header")),
  ]);
  return {
    openapi: "3.1.1",
    info: {
      title: "Zahara gateway",
      version,
      description:
        "The HTTP API of Zahara's gateway (docs/http-api.md). Every error answer is an ErrorBody; every answer carries X-Request-Id.",
    },
    jsonSchemaDialect: DIALECT,
    tags: TAGS,
    paths,
    components: {
      schemas: componentSchemas(),
      responses: errorResponses(statuses),
      parameters,
      securitySchemes: {
        ApiKey: {
          type: "apiKey",
          in: "header",
          name: "X-API-Key",
          description: "An API key (bootstrap or managed). Admin operations need the admin scope.",
        },
        Bearer: {
          type: "http",
          scheme: "bearer",
          description: "An API key, a JWT, or (GET /metrics only) the metrics scrape token.",
        },
      },
    },
  };
}

/** The document as docs/openapi.json holds it. */
export function serializeOpenApi(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
