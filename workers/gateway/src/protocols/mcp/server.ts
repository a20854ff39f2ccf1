/**
 * The MCP methods the gateway serves, one JSON-RPC request at a time:
 * `initialize`, `ping`, `tools/list` and `tools/call` (the server offers
 * tools only, so other methods are "method not found"). Stateless: nothing
 * is kept between requests, so any isolate answers any request and there is
 * no `Mcp-Session-Id`.
 *
 * `tools/call` is a call like `/execute` (calls/run-call.ts): scopes,
 * admission, retries, deadline, fallbacks, request log, traces, metrics. A
 * served call is a result with `structuredContent` and the same JSON as a
 * text block; a call the agent or the gateway failed is a result with
 * `isError: true` carrying Zahara's error (code, message, request id), never
 * a JSON-RPC error. JSON-RPC errors are for protocol mistakes: unknown
 * method, bad params, unknown tool, and a tool the credential may not call.
 */
import { ZaharaError } from "../../../../shared/errors";
import { allowsCall } from "../../auth/scopes";
import { type CallDeps, type GatewayContext, runCall } from "../../calls/run-call";
import { JsonRpcError, type JsonRpcRequest, RPC, paramsObject } from "../jsonrpc";
import { type ToolScope, listTools, resolveTool } from "./tools";
import { isJsonObject } from "../../../../shared/json-object";

/** Protocol revisions served, newest first (the official TypeScript SDK's list, less the 2024-10-07 draft). */
export const MCP_PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"] as const;

/** The revision a request without `MCP-Protocol-Version` is taken to speak (the specification's default). */
export const DEFAULT_PROTOCOL_VERSION = "2025-03-26";

/** JSON-RPC error code (server range) for a tool outside the credential's scopes. */
export const FORBIDDEN_CODE = -32003;

/** What handling one MCP request needs. */
export interface McpSession {
  c: GatewayContext;
  deps: CallDeps;
  scope: ToolScope;
  /** The gateway's version (serverInfo). */
  version: string;
  /** The caller's `Idempotency-Key`, passed to a call only when the HTTP request carries one call. */
  idempotencyKey?: string;
}

/** Answers one MCP request (its `result`); throws a {@link JsonRpcError} for a protocol mistake. */
export async function handleMcpRequest(session: McpSession, request: JsonRpcRequest): Promise<unknown> {
  switch (request.method) {
    case "initialize":
      return initialize(session, paramsObject(request));
    case "ping":
      return {};
    case "tools/list":
      return toolsList(session, paramsObject(request));
    case "tools/call":
      return toolsCall(session, paramsObject(request));
    default:
      throw new JsonRpcError(RPC.METHOD_NOT_FOUND, `Method not found: ${request.method.slice(0, 64)}`);
  }
}

function initialize(session: McpSession, params: Record<string, unknown>) {
  const asked = params.protocolVersion;
  if (typeof asked !== "string" || asked.length === 0 || asked.length > 64) {
    throw new JsonRpcError(RPC.INVALID_PARAMS, "Invalid params: protocolVersion must be a string");
  }
  const served = (MCP_PROTOCOL_VERSIONS as readonly string[]).includes(asked) ? asked : MCP_PROTOCOL_VERSIONS[0];
  const agent = session.scope.kind === "agent" ? session.scope.agent : undefined;
  return {
    protocolVersion: served,
    capabilities: { tools: { listChanged: false } },
    serverInfo: {
      name: agent ? `zahara-${agent}` : "zahara-gateway",
      title: agent ? `Zahara agent ${agent}` : "Zahara gateway",
      version: session.version,
    },
    instructions: agent
      ? `Tools are the capabilities of the agent ${agent} this credential may call.`
      : "Tools are named <agent>__<capability>: each calls one capability of one agent behind the Zahara gateway.",
  };
}

function toolsList(session: McpSession, params: Record<string, unknown>) {
  // Every tool fits in one page: there is never a next cursor, so none is valid.
  if (params.cursor !== undefined) throw new JsonRpcError(RPC.INVALID_PARAMS, "Invalid params: unknown cursor");
  const principal = session.c.get("principal");
  return { tools: listTools(session.deps.registry.agents, session.scope, (a, cap) => allowsCall(principal, a, cap)) };
}

/** Key prefix of Zahara's fields in a result's `_meta`. */
const META = "zahara";

async function toolsCall(session: McpSession, params: Record<string, unknown>) {
  const { c, deps, scope } = session;
  const name = params.name;
  if (typeof name !== "string" || name.length === 0)
    throw new JsonRpcError(RPC.INVALID_PARAMS, "Invalid params: name must be a non-empty string");
  const args = params.arguments ?? {};
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    throw new JsonRpcError(RPC.INVALID_PARAMS, "Invalid params: arguments must be an object");
  }
  const target = resolveTool(deps.registry.agents, scope, name);
  if (!target) throw new JsonRpcError(RPC.INVALID_PARAMS, `Unknown tool: ${name.slice(0, 128)}`);
  const principal = c.get("principal");
  const requestId = c.get("requestId");
  if (!allowsCall(principal, target.agent, target.capability)) {
    const needed = `${target.agent}:${target.capability}`;
    throw new JsonRpcError(
      FORBIDDEN_CODE,
      `Forbidden: this credential lacks the scope "${needed}" (or "${target.agent}:*")`,
      {
        code: "FORBIDDEN",
        status: 403,
        scope: needed,
        request_id: requestId,
      },
    );
  }
  try {
    const out = await runCall(c, deps, {
      task: target.capability,
      parameters: args as Record<string, unknown>,
      agent: target.agent,
      protocol: "mcp",
      ...(session.idempotencyKey !== undefined ? { idempotencyKey: session.idempotencyKey } : {}),
    });
    const structured = isJsonObject(out.result) ? out.result : { result: out.result };
    return {
      content: [{ type: "text", text: JSON.stringify(out.result) }],
      structuredContent: structured,
      isError: false,
      _meta: {
        [`${META}/request_id`]: requestId,
        [`${META}/agent`]: out.agent,
        [`${META}/served_by`]: out.servedBy,
        [`${META}/duration_ms`]: out.durationMs,
        ...(out.usage !== undefined ? { [`${META}/usage`]: out.usage } : {}),
      },
    };
  } catch (err) {
    const failure = err instanceof ZaharaError ? err : new ZaharaError("INTERNAL_ERROR");
    if (failure.code === "INTERNAL_ERROR")
      c.get("logger").error("tool call failed", { error: err instanceof Error ? err.message : String(err) });
    // No structuredContent: a client checks it against the tool's output schema, which an error does not match.
    const retryAfter = Number(failure.headers["Retry-After"]);
    const error = {
      code: failure.code,
      message: failure.message,
      status: failure.status,
      request_id: requestId,
      ...(failure.details !== undefined ? { details: failure.details } : {}),
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retry_after_s: retryAfter } : {}),
    };
    return {
      content: [
        { type: "text", text: `${failure.code}: ${failure.message} (request ${requestId})\n${JSON.stringify(error)}` },
      ],
      isError: true,
      _meta: { [`${META}/request_id`]: requestId, [`${META}/error`]: error },
    };
  }
}
