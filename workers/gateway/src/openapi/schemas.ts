/**
 * What the gateway answers, as zod/mini schemas, for the OpenAPI document
 * (document.ts turns them into JSON Schema; the gateway tests check recorded
 * answers against it). The routes build their answers from TypeScript types;
 * each schema here is held to its type by {@link Same} checks at compile time,
 * so a field added to a type and not here (or the reverse) fails
 * `npm run typecheck`. Objects are strict (`additionalProperties: false`)
 * where the gateway owns the shape, loose where a protocol does (A2A cards,
 * JSON-RPC). The admin API's answers are in admin-schemas.ts. Only
 * document.ts and tests import this module: never the request path.
 */
import * as z from "zod/mini";
import type { AgentInfo } from "../../../shared/agents";
import type { ErrorBody } from "../../../shared/errors";
import type { JsonRpcResponse } from "../protocols/jsonrpc";
import type { AgentHealth } from "../routes/health";
import type { RunPage } from "../runs/run-index";
import type { RunView } from "../runs/types";

/** `T` as one plain object type, all the way down (intersections and `Omit`s merged), so types compare by shape. */
type Flat<T> = T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
/** True when `A` and `B` are the same shape: the same fields, each optional or not alike, of the same types. */
export type Same<A, B> = (<T>() => T extends Flat<A> ? 1 : 2) extends <T>() => T extends Flat<B> ? 1 : 2 ? true : false;
/** Fails to compile unless `T` is `true`: `type _X = Expect<Same<z.output<typeof Schema>, Type>>`. */
export type Expect<T extends true> = T;

/** Registers what the document needs to know of a schema: its component name and a description. */
export interface SchemaMeta {
  /** Component name (`#/components/schemas/<id>`); a schema without one is inlined. */
  id?: string;
  description?: string;
}

/** Every response schema with a name or a description; document.ts converts them in one pass (`io: "output"`). */
export const responseRegistry = z.registry<SchemaMeta>();
/** The same for request bodies and parameters (`io: "input"`: a field with a default is optional). */
export const requestRegistry = z.registry<SchemaMeta>();

/** `schema`, registered in `registry` with `meta`. */
export function named<T extends z.core.$ZodType>(
  registry: z.core.$ZodRegistry<SchemaMeta>,
  schema: T,
  meta: SchemaMeta,
): T {
  registry.add(schema, meta);
  return schema;
}

const doc = <T extends z.core.$ZodType>(schema: T, description: string): T =>
  named(responseRegistry, schema, { description });

/** Shared field shapes. */
export const RequestId = doc(z.string(), "The request's id, as in the X-Request-Id response header");
export const DurationMs = z.int().check(z.minimum(0));
export const EpochMs = doc(z.int().check(z.minimum(0)), "Epoch milliseconds");
export const IsoTime = named(responseRegistry, z.iso.datetime({ offset: true }), {
  id: "DateTime",
  description: "ISO 8601 date-time",
});
export const JsonObject = z.record(z.string(), z.unknown());

/** The one error shape (workers/shared/errors.ts). */
export const ErrorBodySchema = named(
  responseRegistry,
  z.strictObject({
    error: doc(z.string(), "Human-readable message"),
    code: doc(
      z.string().check(z.regex(/^[A-Z][A-Z0-9_]*$/)),
      "Machine code (the catalogue in workers/shared/errors.ts, or an agent's own code when its error is relayed)",
    ),
    request_id: RequestId,
    duration_ms: DurationMs,
    service: doc(z.string(), "The service that produced the error: gateway, or the agent's when relayed"),
    details: z.optional(JsonObject),
  }),
  { id: "ErrorBody", description: "Every error answer: the HTTP status follows from `code`." },
);
type _ErrorBody = Expect<Same<z.output<typeof ErrorBodySchema>, ErrorBody>>;

/** `GET /health`. */
const AgentHealthSchema = z.strictObject({
  status: z.enum(["ok", "error", "unreachable", "unbound"]),
  http_status: z.optional(z.int()),
  latency_ms: z.optional(DurationMs),
});
type _AgentHealth = Expect<Same<z.output<typeof AgentHealthSchema>, AgentHealth>>;

export const HealthSchema = named(
  responseRegistry,
  z.strictObject({
    status: z.enum(["ok", "degraded"]),
    service: z.literal("gateway"),
    version: z.string(),
    agents: z.record(z.string(), AgentHealthSchema),
    problems: z.optional(z.array(z.string())),
    request_id: RequestId,
  }),
  {
    id: "Health",
    description:
      "Always 200 while the gateway runs; `degraded` when an agent is not ok or the configuration has problems.",
  },
);

/** `GET /agents`: an agent without its service binding, its capabilities limited to the credential's scopes. */
const AgentSchema = z.strictObject({
  name: z.string(),
  display_name: z.string(),
  description: z.optional(z.string()),
  version: z.optional(z.string()),
  capabilities: z.array(
    z.strictObject({
      name: z.string(),
      description: z.optional(z.string()),
      input_schema: z.optional(JsonObject),
      output_schema: z.optional(JsonObject),
    }),
  ),
  llm: z.optional(
    z.strictObject({ provider: z.string(), model: z.string(), settings: z.optional(z.array(z.string())) }),
  ),
  timeout_seconds: z.optional(z.number()),
  hosted: z.optional(z.strictObject({ version: z.number() })),
});
type _Agent = Expect<Same<z.output<typeof AgentSchema>, Omit<AgentInfo, "binding">>>;

export const AgentListSchema = named(
  responseRegistry,
  z.strictObject({ agents: z.array(named(responseRegistry, AgentSchema, { id: "Agent" })), request_id: RequestId }),
  {
    id: "AgentList",
  },
);

/** `POST /execute`, `POST /agents/:agent/execute`: a call's answer. */
export const ExecuteResultSchema = named(
  responseRegistry,
  z.strictObject({
    result: doc(z.unknown(), "The capability's output"),
    agent: doc(z.string(), "The agent the call was routed to"),
    served_by: doc(z.string(), "The agent that answered (a fallback's name when one did)"),
    task: z.string(),
    request_id: RequestId,
    duration_ms: DurationMs,
    usage: z.optional(doc(z.unknown(), "Tokens the call used, as the agent reported them")),
  }),
  { id: "ExecuteResult" },
);

/** Runs (runs/types.ts). */
const RunStatusSchema = named(responseRegistry, z.enum(["queued", "running", "succeeded", "failed", "cancelled"]), {
  id: "RunStatus",
});

const RunViewSchema = z.strictObject({
  run_id: z.string(),
  agent: z.string(),
  task: z.string(),
  status: RunStatusSchema,
  result: z.optional(z.unknown()),
  usage: z.optional(z.unknown()),
  served_by: z.optional(z.string()),
  error: z.optional(
    z.strictObject({
      error: z.string(),
      code: z.string(),
      status: z.int(),
      request_id: z.string(),
      details: z.optional(z.unknown()),
    }),
  ),
  attempts: z.int().check(z.minimum(0)),
  created_at: IsoTime,
  started_at: z.optional(IsoTime),
  finished_at: z.optional(IsoTime),
  request_id: RequestId,
  status_url: z.string(),
  callback: z.optional(
    z.strictObject({
      url: z.string(),
      state: z.enum(["pending", "delivered", "failed"]),
      deliveries: z.array(
        z.strictObject({
          attempt: z.int(),
          at: IsoTime,
          ok: z.boolean(),
          status: z.optional(z.int()),
          error: z.optional(z.string()),
          duration_ms: DurationMs,
        }),
      ),
    }),
  ),
});
type _RunView = Expect<Same<z.output<typeof RunViewSchema>, RunView>>;
export const RunSchema = named(responseRegistry, RunViewSchema, {
  id: "Run",
  description: "A long-running run (docs/runs.md).",
});

export const RunPageSchema = named(
  responseRegistry,
  z.strictObject({
    runs: z.array(RunSchema),
    next_cursor: z.optional(doc(z.string(), "Pass as `cursor` for the next page; absent on the last")),
  }),
  { id: "RunPage" },
);
type _RunPage = Expect<Same<z.output<typeof RunPageSchema>, RunPage>>;

export const RunAcceptedSchema = named(
  responseRegistry,
  z.strictObject({ run_id: z.string(), status: RunStatusSchema, status_url: z.string(), request_id: RequestId }),
  {
    id: "RunAccepted",
    description: "`Prefer: respond-async`: the call became a run; read it at `status_url` (also the Location header).",
  },
);

/** JSON-RPC 2.0 (MCP and A2A): the envelope only; the methods are their protocols'. */
const JsonRpcId = z.union([z.string(), z.number(), z.null()]);

export const JsonRpcRequestSchema = named(
  requestRegistry,
  z.looseObject({
    jsonrpc: z.literal("2.0"),
    id: z.optional(z.union([z.string(), z.number()])),
    method: z.string(),
    params: z.optional(z.union([JsonObject, z.array(z.unknown())])),
  }),
  { id: "JsonRpcRequest" },
);

const JsonRpcResponseSchema = z.union([
  z.strictObject({ jsonrpc: z.literal("2.0"), id: JsonRpcId, result: z.unknown() }),
  z.strictObject({
    jsonrpc: z.literal("2.0"),
    id: JsonRpcId,
    error: z.strictObject({ code: z.int(), message: z.string(), data: z.optional(z.unknown()) }),
  }),
]);
type _JsonRpcResponse = Expect<Same<z.output<typeof JsonRpcResponseSchema>, JsonRpcResponse>>;
export const JsonRpcAnswerSchema = named(responseRegistry, JsonRpcResponseSchema, { id: "JsonRpcResponse" });

/** The A2A card: A2A's own schema, so only what every dialect's card holds is required. */
export const AgentCardSchema = named(
  responseRegistry,
  z.looseObject({
    name: z.string(),
    description: z.string(),
    version: z.string(),
    skills: z.array(z.looseObject({ id: z.string(), name: z.string() })),
  }),
  { id: "AgentCard", description: "The agent's A2A card (docs/a2a.md): 1.0 or 0.3 after `A2A-Version`." },
);
