/**
 * `POST /execute` and `POST /agents/:agent/execute`: Zahara's own API.
 * Validate the body, make the call (calls/run-call.ts: routing, scopes,
 * deadline, the resilient call) and answer with its result as JSON, or, for
 * a caller that asks with `Accept: text/event-stream`, as server-sent events
 * (calls/stream-relay.ts). A call that fails before its first event is
 * answered as an error response, as without streaming. With
 * `Prefer: respond-async` the call becomes a run instead (runs/create.ts):
 * 202 and a run id, the body's optional `callback` asking for a webhook.
 */
import * as z from "zod/mini";
import { SSE_CONTENT_TYPE, encodeEvent, wantsEventStream } from "../../../shared/http/sse";
import { parseJsonBody } from "../../../shared/http/validation";
import { IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from "../../../shared/idempotency-headers";
import { allowsCall } from "../auth/scopes";
import { type CallDeps, type CallInput, type GatewayContext, runCall } from "../calls/run-call";
import { resolveGatewayConfig } from "../config";
import { rateLimitHeadersOf } from "../resilience/rejections";
import { createRun, prefersRespondAsync } from "../runs/create";
import { ZaharaError } from "../../../shared/errors";

export { TIMEOUT_HEADER, resolveDeadlineMs } from "../calls/run-call";

// zod/mini keeps the gateway bundle small (the classic API pulls in every locale).
const Parameters = z._default(z.record(z.string(), z.unknown(), { error: "parameters must be a JSON object" }), {});
const Task = z
  .string({ error: "task must be a string" })
  .check(z.minLength(1, "task must not be empty"), z.maxLength(128));
const AgentName = z.string({ error: "agent must be a string" }).check(z.minLength(1), z.maxLength(253));
/** A run's webhook (only with `Prefer: respond-async`); the URL itself is checked by runs/callback-url.ts. */
const Callback = z.optional(
  z.strictObject(
    { url: z.string({ error: "callback.url must be a string" }) },
    { error: "callback must be an object {url}" },
  ),
);

/** Body of `POST /execute`. */
export const ExecuteBodySchema = z.strictObject({
  task: Task,
  parameters: Parameters,
  agent: z.optional(AgentName),
  callback: Callback,
});

/** Body of `POST /agents/:agent/execute`. */
export const AgentExecuteBodySchema = z.strictObject({ task: Task, parameters: Parameters, callback: Callback });

/** What the execute handlers need (the same as any call). */
export type ExecuteDeps = CallDeps;

type ExecuteInput = Omit<CallInput, "protocol" | "idempotencyKey" | "stream"> & {
  callback?: { url: string } | undefined;
};

async function execute(c: GatewayContext, deps: CallDeps, { callback, ...input }: ExecuteInput) {
  // Prefer: respond-async starts a run (202); any other preference is ignored (RFC 7240).
  if (prefersRespondAsync(c.req.header("Prefer")) && c.env.AGENT_RUN) {
    return createRun(c, deps, { ...input, ...(callback ? { callback } : {}) });
  }
  if (callback) {
    throw new ZaharaError("INVALID_REQUEST", {
      message: "callback is only for runs: send it with the header Prefer: respond-async",
      details: { fields: [{ field: "callback", message: "needs Prefer: respond-async" }] },
    });
  }
  const idempotencyKey = c.req.header(IDEMPOTENCY_KEY_HEADER);
  const stream = wantsEventStream(c.req.header("Accept"));
  const out = await runCall(c, deps, {
    ...input,
    protocol: "http",
    stream,
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  });
  for (const [name, value] of Object.entries(rateLimitHeadersOf(out.rateLimit))) c.header(name, value);
  if (out.replayed) c.header(REPLAYED_HEADER, "true");
  const answer = {
    result: out.result,
    agent: out.agent,
    served_by: out.servedBy,
    task: out.task,
    request_id: c.get("requestId"),
    duration_ms: out.durationMs,
    ...(out.usage !== undefined ? { usage: out.usage } : {}),
  };
  if (!stream) return c.json(answer);
  // A streaming caller: the agent's relayed stream, or (an agent that answered at once) a single `done` event.
  c.header("Content-Type", SSE_CONTENT_TYPE);
  c.header("Cache-Control", "no-store");
  c.header("X-Accel-Buffering", "no");
  return c.body(out.body ?? encodeEvent("done", answer));
}

/** Creates the `POST /execute` handler (routing by task, or by `agent` in the body). */
export function executeHandler(deps: CallDeps) {
  return async function executeRoute(c: GatewayContext): Promise<Response> {
    c.set("protocol", "http");
    const body = await parseJsonBody(c.req.raw, ExecuteBodySchema, {
      maxBytes: resolveGatewayConfig(c.env).maxBodyBytes,
    });
    return execute(c, deps, {
      task: body.task,
      parameters: body.parameters,
      callback: body.callback,
      ...(body.agent !== undefined ? { agent: body.agent } : {}),
    });
  };
}

/** Creates the `POST /agents/:agent/execute` handler. */
export function agentExecuteHandler(deps: CallDeps) {
  return async function agentExecuteRoute(c: GatewayContext): Promise<Response> {
    c.set("protocol", "http");
    const agentName = c.req.param("agent") ?? "";
    const principal = c.get("principal");
    deps.registry.agent(agentName, (a, cap) => allowsCall(principal, a, cap));
    const body = await parseJsonBody(c.req.raw, AgentExecuteBodySchema, {
      maxBytes: resolveGatewayConfig(c.env).maxBodyBytes,
    });
    return execute(c, deps, {
      task: body.task,
      parameters: body.parameters,
      agent: agentName,
      callback: body.callback,
    });
  };
}
