/**
 * Starting a run: `POST /execute` or `POST /agents/:agent/execute` with
 * `Prefer: respond-async` (RFC 7240). The call is routed and its scope
 * checked now, as a synchronous call's would be; an optional `callback.url`
 * passes the SSRF guard (callback-url.ts); then the run's Durable Object
 * stores it and starts it, and the caller gets `202` with `Location`.
 *
 * With `Idempotency-Key`, the same key and body (per principal) give the same
 * run: an alias object named by a hash of (principal, key) holds the run id
 * the key first created, so two racing creations meet in one object and get
 * one run; another body with the key is 422 `IDEMPOTENCY_KEY_REUSED`.
 */
import { ZaharaError } from "../../../shared/errors";
import { IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from "../../../shared/idempotency-headers";
import { authorizeCall } from "../auth/authenticate";
import { sha256, toHex } from "../auth/api-keys";
import { allowsCall } from "../auth/scopes";
import type { CallDeps, GatewayContext } from "../calls/run-call";
import { agentIdempotencyKey } from "../idempotency";
import { serviceBinding } from "../registry";
import { checkCallbackTarget, checkCallbackUrl, resolveCallbackPolicy } from "./callback-url";
import { resolveRunConfig } from "./config";
import type { AgentRun, CancelResult, CreateResult } from "./run-object";
import type { RunInput } from "./run-state";
import type { RunView } from "./types";
import { importWebhookSecret } from "./webhook";

/** A run id: `run_` and 32 hex digits (128 random bits). */
export const RUN_ID_PATTERN = /^run_[0-9a-f]{32}$/;

/** The run ids' namespace as the gateway sees it. */
export type RunNamespace = DurableObjectNamespace<AgentRun>;

/**
 * A run's object as its callers use it. Declared here because RPC's derived types cannot carry a result of
 * `unknown` type (the JSON an agent answered): they would turn every answer into `never`.
 */
export interface RunStub {
  create(input: RunInput): Promise<CreateResult>;
  view(): Promise<{ view: RunView; principalId: string } | null>;
  cancel(requestId: string): Promise<CancelResult>;
  purge(now?: number): Promise<boolean>;
  claimAlias(bodyHash: string, runId: string, holdMs: number): Promise<{ runId: string; conflict?: boolean }>;
  fetch(request: Request): Promise<Response>;
}

/** The object of the run (or Idempotency-Key alias) named `name`. */
export function runStub(ns: RunNamespace, name: string): RunStub {
  return ns.get(ns.idFromName(name)) as unknown as RunStub;
}

/** True when a `Prefer` header (RFC 7240; several are joined by commas) asks for `respond-async`. */
export function prefersRespondAsync(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(",").some((pref) => pref.split(";")[0]!.split("=")[0]!.trim().toLowerCase() === "respond-async");
}

/** A new, unguessable run id. */
export function newRunId(): string {
  return `run_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/** What to start. */
export interface RunRequest {
  task: string;
  parameters: Record<string, unknown>;
  agent?: string;
  callback?: { url: string };
}

async function hashHex(text: string): Promise<string> {
  return toHex(await sha256(text));
}

/** Checks the callback URL (syntax, scheme, private addresses, allow-list, DNS in a deployment); 400 with the reason. */
async function checkCallback(c: GatewayContext, url: string): Promise<void> {
  const policy = resolveCallbackPolicy(c.env);
  const syntax = checkCallbackUrl(url, policy);
  const target = syntax.ok ? await checkCallbackTarget(syntax.url, policy) : syntax;
  if (!target.ok) {
    throw new ZaharaError("INVALID_CALLBACK", {
      message: target.reason,
      details: { fields: [{ field: "callback.url", message: target.reason }] },
    });
  }
  if (!(await importWebhookSecret(c.env.WEBHOOK_SIGNING_SECRET))) throw new ZaharaError("WEBHOOKS_NOT_CONFIGURED");
}

/** The run id an Idempotency-Key already created, or a new one it now names; 422 when the body differs. */
async function runIdFor(
  ns: RunNamespace,
  principalId: string,
  key: string | undefined,
  bodyHash: string,
  holdMs: number,
): Promise<string> {
  if (key === undefined) return newRunId();
  const alias = runStub(ns, `idem:${await hashHex(`${principalId}\n${key}`)}`);
  const claim = await alias.claimAlias(bodyHash, newRunId(), holdMs);
  if (claim.conflict) throw new ZaharaError("IDEMPOTENCY_KEY_REUSED");
  return claim.runId;
}

/** Creates the run for `request` and answers 202 (or the run a repeated Idempotency-Key created). */
export async function createRun(c: GatewayContext, deps: CallDeps, request: RunRequest): Promise<Response> {
  const principal = c.get("principal");
  const agent = deps.registry.route(request.task, request.agent, (a, cap) => allowsCall(principal, a, cap));
  authorizeCall(principal, agent.name, request.task);
  if (!serviceBinding(c.env, agent.binding)) {
    throw new ZaharaError("AGENT_UNAVAILABLE", {
      message: `Agent "${agent.name}" has no service binding ${agent.binding} on this gateway`,
    });
  }
  const logFields = c.get("logFields");
  Object.assign(logFields, { agent: agent.name, task: request.task });
  if (request.callback) await checkCallback(c, request.callback.url);
  const key = c.req.header(IDEMPOTENCY_KEY_HEADER);
  await agentIdempotencyKey(key, principal.id); // 400 for a malformed key
  const config = resolveRunConfig(c.env);
  const timeoutMs = Math.min(
    config.maxDurationMs,
    agent.timeout_seconds !== undefined ? agent.timeout_seconds * 1000 : Infinity,
  );
  const ns = c.env.AGENT_RUN;
  if (!ns)
    throw new ZaharaError("RUNS_UNAVAILABLE", { message: "This gateway has no AGENT_RUN binding: runs are off" });
  let created;
  try {
    const bodyHash = key !== undefined ? await hashHex(JSON.stringify([agent.name, request])) : undefined;
    const runId = await runIdFor(ns, principal.id, key, bodyHash ?? "", config.retentionMs + config.maxDurationMs);
    logFields.run_id = runId;
    created = await runStub(ns, runId).create({
      runId,
      agent: agent.name,
      task: request.task,
      parameters: request.parameters,
      principal,
      requestId: c.get("requestId"),
      timeoutMs,
      ...(request.callback ? { callbackUrl: request.callback.url } : {}),
      ...(bodyHash !== undefined ? { bodyHash } : {}),
    });
  } catch (err) {
    if (err instanceof ZaharaError) throw err;
    c.get("logger").error("run creation failed", { error: String(err) });
    throw new ZaharaError("RUNS_UNAVAILABLE");
  }
  if (created.conflict) throw new ZaharaError("IDEMPOTENCY_KEY_REUSED");
  const { view } = created;
  c.header("Location", view.status_url);
  c.header("Preference-Applied", "respond-async");
  if (!created.created) c.header(REPLAYED_HEADER, "true");
  return c.json(
    { run_id: view.run_id, status: view.status, status_url: view.status_url, request_id: view.request_id },
    202,
  );
}
