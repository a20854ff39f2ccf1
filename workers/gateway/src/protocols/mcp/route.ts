/**
 * `POST /mcp` (every agent the credential may call) and
 * `POST /agents/:agent/mcp` (one agent): MCP's Streamable HTTP transport,
 * stateless, answering each POST with JSON (never a stream; `GET` and
 * `DELETE` are 405, as the transport allows a server without
 * server-initiated messages or sessions).
 *
 * HTTP-level rules are the gateway's: a credential (401 with
 * `WWW-Authenticate`), the body limit (413), JSON only (415), and an
 * `Origin` the gateway's CORS list allows (403; the transport requires
 * servers to check it). A parse error or a malformed message is a JSON-RPC
 * error with HTTP 400; other JSON-RPC errors and every result are HTTP 200.
 * A body of notifications or client responses only is 202 with no body.
 * Batches exist only in the 2025-03-26 revision: they are served when the
 * request speaks it (its `MCP-Protocol-Version`, or none, which means it)
 * and refused otherwise.
 */
import { ZaharaError } from "../../../../shared/errors";
import { allowsCall } from "../../auth/scopes";
import type { CallDeps, GatewayContext } from "../../calls/run-call";
import { resolveGatewayConfig } from "../../config";
import { IDEMPOTENCY_KEY_HEADER } from "../../../../shared/idempotency-headers";
import { isJsonObject } from "../../../../shared/json-object";
import {
  JsonRpcError,
  type JsonRpcResponse,
  RPC,
  idOf,
  parseRequest,
  readJsonRpcBody,
  rpcError,
  rpcResult,
} from "../jsonrpc";
import { DEFAULT_PROTOCOL_VERSION, MCP_PROTOCOL_VERSIONS, type McpSession, handleMcpRequest } from "./server";
import type { ToolScope } from "./tools";

/** The header naming the revision a request speaks. */
export const PROTOCOL_VERSION_HEADER = "MCP-Protocol-Version";

/** Most messages in one batch. */
export const MAX_BATCH = 20;

function json(c: GatewayContext, body: JsonRpcResponse | JsonRpcResponse[], status: 200 | 400 = 200): Response {
  return c.json(body, status);
}

/** Whether `origin` may talk to the MCP endpoint (absent: not a browser, allowed). */
function originAllowed(c: GatewayContext, origin: string | undefined): boolean {
  if (origin === undefined) return true;
  const allowed = resolveGatewayConfig(c.env).corsOrigins;
  return allowed.includes("*") || allowed.includes(origin);
}

/** True for a message that expects no answer: a notification, or a client's response to a server request. */
function expectsNoAnswer(message: unknown): boolean {
  if (!isJsonObject(message) || message.jsonrpc !== "2.0") return false;
  if (typeof message.method === "string") return message.method.length > 0 && !("id" in message);
  return "id" in message && ("result" in message || "error" in message);
}

/** Answers one message: its response, or undefined when it expects none. */
async function answer(session: McpSession, message: unknown): Promise<JsonRpcResponse | undefined> {
  if (expectsNoAnswer(message)) return undefined;
  const id = idOf(message);
  try {
    const request = parseRequest(message);
    if (request.id === undefined) return undefined;
    return rpcResult(id, await handleMcpRequest(session, request));
  } catch (err) {
    return rpcError(id, err, session.c.get("logger"));
  }
}

/** Creates the MCP handler; `scopeOf` picks the agents the endpoint serves from the request. */
export function mcpHandler(deps: CallDeps, version: string, scopeOf: (c: GatewayContext) => ToolScope) {
  return async function mcpRoute(c: GatewayContext): Promise<Response> {
    c.set("protocol", "mcp");
    if (!originAllowed(c, c.req.header("Origin"))) {
      throw new ZaharaError("FORBIDDEN", { message: "This Origin may not use the MCP endpoint (see CORS_ORIGINS)" });
    }
    const scope = scopeOf(c);
    // An unknown agent is a 404 naming only the agents the credential may call.
    const principal = c.get("principal");
    if (scope.kind === "agent") deps.registry.agent(scope.agent, (a, cap) => allowsCall(principal, a, cap));
    const asked = c.req.header(PROTOCOL_VERSION_HEADER);
    const speaks = asked ?? DEFAULT_PROTOCOL_VERSION;
    if (!(MCP_PROTOCOL_VERSIONS as readonly string[]).includes(speaks)) {
      const message = `Bad Request: unsupported ${PROTOCOL_VERSION_HEADER} "${speaks.slice(0, 32)}" (served: ${MCP_PROTOCOL_VERSIONS.join(", ")})`;
      return json(c, rpcError(null, new JsonRpcError(RPC.INVALID_REQUEST, message)), 400);
    }
    let body: unknown;
    try {
      body = await readJsonRpcBody(c.req.raw, resolveGatewayConfig(c.env).maxBodyBytes);
    } catch (err) {
      if (err instanceof JsonRpcError) return json(c, rpcError(null, err), 400);
      throw err;
    }
    const session: McpSession = { c, deps, scope, version };
    if (!Array.isArray(body)) {
      const idempotencyKey = c.req.header(IDEMPOTENCY_KEY_HEADER);
      if (idempotencyKey !== undefined) session.idempotencyKey = idempotencyKey;
      if (isJsonObject(body) && typeof body.method === "string")
        c.get("logFields").rpc_method = body.method.slice(0, 64);
      const reply = await answer(session, body);
      if (!reply) return c.body(null, 202);
      const malformed =
        "error" in reply && (reply.error.code === RPC.INVALID_REQUEST || reply.error.code === RPC.PARSE_ERROR);
      return json(c, reply, malformed ? 400 : 200);
    }
    if (speaks !== "2025-03-26") {
      const message = `Invalid Request: batches are not part of protocol version ${speaks}; send one message per request`;
      return json(c, rpcError(null, new JsonRpcError(RPC.INVALID_REQUEST, message)), 400);
    }
    if (body.length === 0 || body.length > MAX_BATCH) {
      const message = `Invalid Request: a batch holds 1 to ${MAX_BATCH} messages`;
      return json(c, rpcError(null, new JsonRpcError(RPC.INVALID_REQUEST, message)), 400);
    }
    c.get("logFields").rpc_method = "batch";
    const replies: JsonRpcResponse[] = [];
    // One after another: the calls of a batch share the request's deadline, in order.
    for (const message of body) {
      const isInitialize = isJsonObject(message) && message.method === "initialize";
      if (isInitialize) {
        replies.push(
          rpcError(
            idOf(message),
            new JsonRpcError(RPC.INVALID_REQUEST, "Invalid Request: initialize must not be part of a batch"),
          ),
        );
        continue;
      }
      const reply = await answer(session, message);
      if (reply) replies.push(reply);
    }
    return replies.length === 0 ? c.body(null, 202) : json(c, replies);
  };
}
