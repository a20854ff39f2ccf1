/**
 * `POST /agents/:agent/a2a`: one agent's A2A endpoint, JSON-RPC 2.0 over
 * HTTP, one request per HTTP request, answered with JSON (never a stream).
 *
 * HTTP-level rules are the gateway's, in Zahara's error shape: a credential
 * (401, by the `/agents/*` auth middleware), an agent that exists (404
 * `AGENT_NOT_FOUND`, naming only agents the credential may call), the body
 * limit (413) and JSON only (415). Everything inside a JSON body is answered
 * in JSON-RPC with HTTP 200, as A2A's own server does: a parse error
 * (-32700), a batch (A2A has none: -32600), a notification (every A2A method
 * answers: -32600), an `A2A-Version` other than 1.0 or 0.3 (-32009), and
 * the methods' own errors (server.ts). The method's name picks the dialect
 * of its params and answer (1.0's `SendMessage` or 0.3's `message/send`).
 * `Idempotency-Key` is passed to the call, as on `/execute`.
 */
import { IDEMPOTENCY_KEY_HEADER } from "../../../../shared/idempotency-headers";
import { allowsCall } from "../../auth/scopes";
import type { CallDeps, GatewayContext } from "../../calls/run-call";
import { resolveGatewayConfig } from "../../config";
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
import { type A2ASession, handleA2ARequest } from "./server";
import { TaskStore } from "./store";
import { A2A_LEGACY_VERSION, A2A_VERSION, A2A_VERSION_HEADER, a2aError, askedVersion } from "./wire";

export { agentCardHandler } from "./card";

/** The D1 database answered tasks are kept in (the request log's), if bound. */
function taskDb(c: GatewayContext): D1Database | undefined {
  return (c.env as { REQUEST_LOG?: D1Database }).REQUEST_LOG;
}

/** Answers one parsed JSON body: its response (a protocol mistake or a method's error included). */
async function answer(session: A2ASession, body: unknown): Promise<JsonRpcResponse> {
  const id = idOf(body);
  try {
    if (Array.isArray(body))
      throw new JsonRpcError(
        RPC.INVALID_REQUEST,
        "Invalid Request: A2A has no batches; send one request per HTTP request",
      );
    const request = parseRequest(body);
    session.c.get("logFields").rpc_method = request.method.slice(0, 64);
    if (request.id === undefined)
      throw new JsonRpcError(RPC.INVALID_REQUEST, 'Invalid Request: every A2A method answers; send an "id"');
    if (askedVersion(session.c.req.header(A2A_VERSION_HEADER)) === undefined) {
      throw a2aError(
        "VERSION_NOT_SUPPORTED",
        `${A2A_VERSION_HEADER} not supported; served: ${A2A_VERSION}, ${A2A_LEGACY_VERSION}`,
      );
    }
    return rpcResult(id, await handleA2ARequest(session, request));
  } catch (err) {
    return rpcError(id, err, session.c.get("logger"));
  }
}

/** Creates the A2A handler. */
export function a2aHandler(deps: CallDeps) {
  return async function a2aRoute(c: GatewayContext): Promise<Response> {
    c.set("protocol", "a2a");
    const principal = c.get("principal");
    const agent = deps.registry.agent(c.req.param("agent") ?? "", (a, cap) => allowsCall(principal, a, cap));
    let body: unknown;
    try {
      body = await readJsonRpcBody(c.req.raw, resolveGatewayConfig(c.env).maxBodyBytes);
    } catch (err) {
      if (err instanceof JsonRpcError) return c.json(rpcError(null, err));
      throw err;
    }
    const db = taskDb(c);
    const session: A2ASession = { c, deps, agent, store: db ? new TaskStore(db, c.get("logger")) : undefined };
    const idempotencyKey = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (idempotencyKey !== undefined) session.idempotencyKey = idempotencyKey;
    return c.json(await answer(session, body));
  };
}
