/**
 * The hosted-agent Worker's core: it serves every agent uploaded at runtime
 * (`PUT /v1/agents/:name` on the gateway) with the shared agent runtime. It
 * holds no store. The gateway sends the agent's validated manifest with each
 * call (`{task, parameters, hosted: {name, version, digest, manifest}}`, see
 * the gateway's hosted/payload.ts); this Worker builds the agent once per
 * name, version and digest, keeps the most recently used {@link CACHE_SIZE}
 * of them, and hands the call on as `{task, parameters}`, exactly what a
 * compiled-in agent receives. So a call runs the version it was routed to,
 * even when that version is replaced or deleted while it runs.
 *
 * It also checks uploads for the gateway (`POST /validate`, below).
 *
 * Every hosted agent shares this Worker's `IdempotencyStore` namespace: a
 * caller's `Idempotency-Key` is namespaced by agent before it reaches it.
 * The Worker has no public address (workers_dev = false): only the gateway's
 * service binding reaches it, and it trusts what the gateway sends.
 */
import { ZaharaError } from "../../shared/errors";
import { errorShape } from "../../shared/http/error-handler";
import { parseByteLimit, readLimited } from "../../shared/http/json-body";
import { isJsonObject } from "../../shared/json-object";
import { IDEMPOTENCY_KEY_HEADER } from "../../shared/idempotency-headers";
import type { ZaharaAgentManifest } from "../../shared/manifest";
import { createUnenforcedCheck } from "../../shared/manifest/enforcement";
import { checkHostedManifest } from "../../shared/manifest/hosted";
import { REQUEST_ID_HEADER } from "../../shared/request-id";
import { sha256Hex } from "../../shared/sha256";
import { createAgentHandler } from "../../agent-runtime/src";
import type { AgentRuntimeEnv } from "../../agent-runtime/src";

/** This Worker's service name (errors and traces). */
export const HOSTED_SERVICE = "zahara-agent-hosted";
/** Agents kept built per isolate; the least recently used goes first. */
export const CACHE_SIZE = 32;
/** Room for the manifest on top of the call's own body limit (the gateway caps manifests at 64 KiB by default). */
const MANIFEST_ALLOWANCE_BYTES = 256 * 1024;

/** What the gateway sends about the agent. */
interface HostedPayload {
  name: string;
  version: number;
  digest: string;
  manifest: ZaharaAgentManifest;
}

type AgentFetch = (request: Request, env: AgentRuntimeEnv, ctx: ExecutionContext) => Response | Promise<Response>;

/** Built agents by `name@version#digest`, least recently used first. */
export class AgentCache {
  private readonly agents = new Map<string, AgentFetch>();

  constructor(private readonly size = CACHE_SIZE) {}

  /** The agent built from `payload`, built now unless cached. */
  get(payload: HostedPayload): AgentFetch {
    const key = `${payload.name}@${payload.version}#${payload.digest}`;
    let agent = this.agents.get(key);
    if (agent) {
      this.agents.delete(key);
    } else {
      const app = createAgentHandler<AgentRuntimeEnv>({ manifest: payload.manifest });
      agent = (request, env, ctx) => app.fetch(request, env, ctx);
      if (this.agents.size >= this.size) this.agents.delete(this.agents.keys().next().value as string);
    }
    this.agents.set(key, agent);
    return agent;
  }

  /** How many agents are built (tests). */
  get count(): number {
    return this.agents.size;
  }
}

/** The agent's name from the Host the gateway calls (`<name>.agent.internal`). */
function hostName(request: Request): string {
  const host = new URL(request.url).hostname;
  return host.endsWith(".agent.internal") ? host.slice(0, -".agent.internal".length) : "";
}

function payloadOf(body: unknown, name: string): { call: Record<string, unknown>; payload: HostedPayload } {
  if (!isJsonObject(body)) throw new ZaharaError("INVALID_REQUEST", { message: "The call must be a JSON object" });
  const { hosted, ...call } = body;
  const ok =
    isJsonObject(hosted) &&
    typeof hosted.name === "string" &&
    hosted.name === name &&
    Number.isSafeInteger(hosted.version) &&
    typeof hosted.digest === "string" &&
    isJsonObject(hosted.manifest);
  if (!ok) {
    throw new ZaharaError("INVALID_REQUEST", {
      message: "A call to the hosted-agent Worker carries its agent (hosted.name, version, digest, manifest)",
    });
  }
  return { call, payload: hosted as unknown as HostedPayload };
}

/** The call as the agent's own app receives it: `{task, parameters}`, its idempotency key namespaced by agent. */
async function forwarded(request: Request, name: string, call: Record<string, unknown>): Promise<Request> {
  const headers = new Headers(request.headers);
  headers.delete("Content-Length");
  const key = headers.get(IDEMPOTENCY_KEY_HEADER);
  if (key !== null) headers.set(IDEMPOTENCY_KEY_HEADER, `h:${name}:${await sha256Hex(key)}`);
  return new Request(request.url, { method: "POST", headers, body: JSON.stringify(call), signal: request.signal });
}

function errorAnswer(err: unknown, request: Request, startedAt: number): Response {
  const failure = err instanceof ZaharaError ? err : new ZaharaError("INTERNAL_ERROR", { cause: err });
  const requestId = request.headers.get(REQUEST_ID_HEADER) ?? "";
  if (!(err instanceof ZaharaError)) {
    console.error(
      JSON.stringify({ level: "error", msg: "hosted agent failed", request_id: requestId, error: String(err) }),
    );
  }
  const body = errorShape(failure, { requestId, startedAt, service: HOSTED_SERVICE });
  return new Response(JSON.stringify(body), {
    status: failure.status,
    headers: { "Content-Type": "application/json; charset=utf-8", [REQUEST_ID_HEADER]: requestId },
  });
}

/**
 * `POST /validate` `{text, name, mediaType, unenforced}`: the gateway's check of an upload (the manifest loader,
 * the hosted rules, the unenforced fields at the given severity), answered as the `HostedCheck` JSON. Here, not in
 * the gateway, so the gateway's bundle carries no YAML parser or OSSA schema.
 */
async function validate(request: Request, env: AgentRuntimeEnv): Promise<Response> {
  const bytes = await readLimited(request, parseByteLimit(env.MAX_BODY_BYTES) + MANIFEST_ALLOWANCE_BYTES);
  const body = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  const { text, name, mediaType, unenforced } = body;
  if (typeof text !== "string" || typeof name !== "string" || typeof mediaType !== "string") {
    throw new ZaharaError("INVALID_REQUEST", { message: "POST /validate takes {text, name, mediaType, unenforced}" });
  }
  const severity = unenforced === "error" ? "error" : "warning";
  const checked = checkHostedManifest(text, {
    name,
    mediaType,
    unenforced: createUnenforcedCheck(severity),
    unenforcedSeverity: severity,
  });
  return Response.json(checked);
}

/** Serves one request to the hosted-agent Worker. */
export async function serveHosted(
  request: Request,
  env: AgentRuntimeEnv,
  ctx: ExecutionContext,
  cache: AgentCache,
): Promise<Response> {
  const startedAt = Date.now();
  try {
    const path = new URL(request.url).pathname;
    const name = hostName(request);
    if (request.method === "GET" && path === "/health") {
      const requestId = request.headers.get(REQUEST_ID_HEADER) ?? "";
      return Response.json({ status: "ok", agent: name || null, service: HOSTED_SERVICE, request_id: requestId });
    }
    if (request.method === "POST" && path === "/validate") return await validate(request, env);
    if (request.method !== "POST" || path !== "/run") {
      throw new ZaharaError("NOT_FOUND", {
        message: "The hosted-agent Worker answers POST /run, POST /validate and GET /health",
      });
    }
    const limit = parseByteLimit(env.MAX_BODY_BYTES) + MANIFEST_ALLOWANCE_BYTES;
    const bytes = await readLimited(request, limit);
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    } catch {
      throw new ZaharaError("INVALID_JSON", { message: "Request body is not valid JSON" });
    }
    const { call, payload } = payloadOf(body, name);
    const agent = cache.get(payload);
    return await agent(await forwarded(request, name, call), env, ctx);
  } catch (err) {
    return errorAnswer(err, request, startedAt);
  }
}
