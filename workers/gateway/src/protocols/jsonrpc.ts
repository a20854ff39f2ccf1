/**
 * JSON-RPC 2.0, as MCP and A2A carry it over HTTP: reading a body (the
 * gateway's body limit and Content-Type rules, a parse error as JSON-RPC's
 * -32700), checking one message's envelope, and building answers.
 *
 * HTTP-level refusals stay in Zahara's error shape (401, 413, 415: the
 * caller's transport sees them before any JSON-RPC); anything inside a
 * well-formed body is answered in JSON-RPC, with the standard codes.
 */
import { ZaharaError } from "../../../shared/errors";
import { readJsonBody } from "../../../shared/http/json-body";
import type { Logger } from "../../../shared/logger";
import { isJsonObject } from "../../../shared/json-object";

/** A JSON-RPC id: a string or a number (null only in an answer to a message whose id could not be read). */
export type JsonRpcId = string | number | null;

/** The standard error codes. */
export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

/** One request or notification (a notification has no `id`). */
export interface JsonRpcRequest {
  jsonrpc: "2.0";
  id?: string | number;
  method: string;
  params?: Record<string, unknown> | unknown[];
}

/** One answer. */
export type JsonRpcResponse =
  | { jsonrpc: "2.0"; id: JsonRpcId; result: unknown }
  | { jsonrpc: "2.0"; id: JsonRpcId; error: { code: number; message: string; data?: unknown } };

/** An error to answer in JSON-RPC (thrown by a method; answered by the protocol's route). */
export class JsonRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "JsonRpcError";
  }
}

/** Longest id kept in an answer (a longer one is refused as an invalid request). */
const MAX_ID_LENGTH = 256;

/**
 * Reads a JSON-RPC body: 415 and 413 as Zahara errors (as every route), an
 * unparsable body as a {@link JsonRpcError} parse error.
 */
export async function readJsonRpcBody(request: Request, maxBytes: number): Promise<unknown> {
  try {
    return await readJsonBody(request, maxBytes);
  } catch (err) {
    if (err instanceof ZaharaError && (err.code === "INVALID_JSON" || err.code === "INVALID_REQUEST")) {
      throw new JsonRpcError(RPC.PARSE_ERROR, `Parse error: ${err.message}`);
    }
    throw err;
  }
}

function validId(id: unknown): id is string | number {
  if (typeof id === "string") return id.length <= MAX_ID_LENGTH;
  return typeof id === "number" && Number.isSafeInteger(id);
}

/** The id to answer a message with: its own when readable, else null. */
export function idOf(message: unknown): JsonRpcId {
  return isJsonObject(message) && validId(message.id) ? message.id : null;
}

/** Checks one message's envelope; throws an invalid request naming what is wrong. */
export function parseRequest(message: unknown): JsonRpcRequest {
  if (!isJsonObject(message))
    throw new JsonRpcError(RPC.INVALID_REQUEST, "Invalid Request: a message must be a JSON object");
  if (message.jsonrpc !== "2.0")
    throw new JsonRpcError(RPC.INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"');
  if ("id" in message && !validId(message.id)) {
    throw new JsonRpcError(
      RPC.INVALID_REQUEST,
      `Invalid Request: "id" must be a string (at most ${MAX_ID_LENGTH} characters) or an integer`,
    );
  }
  if (typeof message.method !== "string" || message.method.length === 0 || message.method.length > 128) {
    throw new JsonRpcError(RPC.INVALID_REQUEST, 'Invalid Request: "method" must be a non-empty string');
  }
  const params = message.params;
  if (params !== undefined && typeof params !== "object") {
    throw new JsonRpcError(RPC.INVALID_REQUEST, 'Invalid Request: "params" must be an object or an array');
  }
  if (params === null)
    throw new JsonRpcError(RPC.INVALID_REQUEST, 'Invalid Request: "params" must be an object or an array');
  return {
    jsonrpc: "2.0",
    method: message.method,
    ...(validId(message.id) ? { id: message.id } : {}),
    ...(params !== undefined ? { params: params as Record<string, unknown> | unknown[] } : {}),
  };
}

/** `params` as an object (absent: `{}`); an array is refused as invalid params. */
export function paramsObject(request: JsonRpcRequest): Record<string, unknown> {
  if (request.params === undefined) return {};
  if (Array.isArray(request.params)) throw new JsonRpcError(RPC.INVALID_PARAMS, "Invalid params: expected an object");
  return request.params;
}

/** A success answer. */
export function rpcResult(id: JsonRpcId, result: unknown): JsonRpcResponse {
  return { jsonrpc: "2.0", id, result };
}

/**
 * An error answer; anything but a {@link JsonRpcError} is an internal error (no message or stack leaks to the
 * caller; the cause goes to `logger`).
 */
export function rpcError(id: JsonRpcId, err: unknown, logger?: Logger): JsonRpcResponse {
  if (err instanceof JsonRpcError) {
    return {
      jsonrpc: "2.0",
      id,
      error: { code: err.code, message: err.message, ...(err.data !== undefined ? { data: err.data } : {}) },
    };
  }
  logger?.error("json-rpc request failed", {
    error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
  });
  return { jsonrpc: "2.0", id, error: { code: RPC.INTERNAL_ERROR, message: "Internal error" } };
}
