/**
 * `POST /execute` and `POST /agents/:agent/execute`: validate the body,
 * route to an agent, apply the deadline, and run the resilient call
 * (admission, attempts, retries, fallbacks) over the service bindings.
 */
import { trace } from "@opentelemetry/api";
import type { Context } from "hono";
import * as z from "zod/mini";
import { ZaharaError } from "../../../shared/errors";
import { elapsedMs } from "../../../shared/http/request-context";
import { parseJsonBody } from "../../../shared/http/validation";
import { type GatewayVars, resolveGatewayConfig } from "../config";
import { authorizeCall } from "../auth/authenticate";
import { allowsCall } from "../auth/scopes";
import { IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from "../../../shared/idempotency-headers";
import { agentIdempotencyKey } from "../idempotency";
import { type AgentRegistry, serviceBinding } from "../registry";
import { type AttemptRecord, type ExecutorRuntime, executeResilient, sleep } from "../resilience/executor";
import type { IsolateLeases } from "../resilience/leases";
import type { GuardNamespace } from "../resilience/guard-client";
import { type ResilienceCatalog, buildPlans } from "../resilience/plans";
import { rateLimitHeadersOf } from "../resilience/rejections";

// zod/mini keeps the gateway bundle small (the classic API pulls in every locale).
const Parameters = z._default(z.record(z.string(), z.unknown(), { error: "parameters must be a JSON object" }), {});
const Task = z.string({ error: "task must be a string" }).check(z.minLength(1, "task must not be empty"), z.maxLength(128));
const AgentName = z.string({ error: "agent must be a string" }).check(z.minLength(1), z.maxLength(253));

/** Body of `POST /execute`. */
export const ExecuteBodySchema = z.strictObject({ task: Task, parameters: Parameters, agent: z.optional(AgentName) });

/** Body of `POST /agents/:agent/execute`. */
export const AgentExecuteBodySchema = z.strictObject({ task: Task, parameters: Parameters });

/** Header a caller uses to ask for a shorter deadline. */
export const TIMEOUT_HEADER = "X-Timeout-Ms";

/**
 * The deadline for one request: `GATEWAY_TIMEOUT_MS`, lowered by the caller's
 * `X-Timeout-Ms` and capped by the agent's `timeoutSeconds`.
 */
export function resolveDeadlineMs(gatewayMs: number, header: string | undefined, agentTimeoutSeconds?: number): number {
  let ms = gatewayMs;
  if (header !== undefined) {
    const asked = Number(header);
    if (!/^\d{1,9}$/.test(header.trim()) || !Number.isSafeInteger(asked) || asked < 1) {
      throw new ZaharaError("INVALID_HEADER", {
        message: `${TIMEOUT_HEADER} must be a positive integer number of milliseconds`,
        details: { fields: [{ field: TIMEOUT_HEADER, message: "expected a positive integer" }] },
      });
    }
    ms = Math.min(ms, asked);
  }
  if (agentTimeoutSeconds !== undefined) ms = Math.min(ms, Math.round(agentTimeoutSeconds * 1000));
  return ms;
}

type GatewayContext = Context<{ Bindings: GatewayVars & { UPSTREAM_GUARD?: GuardNamespace } }>;

async function execute(c: GatewayContext, deps: ExecuteDeps, task: string, parameters: Record<string, unknown>, agentName?: string) {
  const logFields = c.get("logFields");
  logFields.task = task;
  const principal = c.get("principal");
  const agent = deps.registry.route(task, agentName, (a, cap) => allowsCall(principal, a, cap));
  logFields.agent = agent.name;
  authorizeCall(principal, agent.name, task);
  const binding = serviceBinding(c.env, agent.binding);
  if (!binding) {
    throw new ZaharaError("AGENT_UNAVAILABLE", { message: `Agent "${agent.name}" has no service binding ${agent.binding} on this gateway` });
  }
  const config = resolveGatewayConfig(c.env);
  const timeoutMs = resolveDeadlineMs(config.timeoutMs, c.req.header(TIMEOUT_HEADER), agent.timeout_seconds);
  const idempotencyKey = await agentIdempotencyKey(c.req.header(IDEMPOTENCY_KEY_HEADER), principal.id);
  const plans = buildPlans(
    {
      env: c.env,
      registry: deps.registry,
      catalog: deps.catalog,
      agent,
      task,
      parameters,
      requestId: c.get("requestId"),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      keyId: principal.id,
      ...(principal.limits && (principal.limits.rateLimit || principal.limits.maxTokensPerDay !== undefined) ? { keyLimits: principal.limits } : {}),
      gatewayTimeoutMs: config.timeoutMs,
      breakerTimeoutFloorMs: config.breakerTimeoutFloorMs,
      maxResponseBytes: config.maxResponseBytes,
      // A fallback serves only a caller that may call the task on it too.
      mayCall: (name) => allowsCall(principal, name, task),
      logger: c.get("logger"),
      signal: c.req.raw.signal,
      doCalls: c.get("doCalls"),
      leases: deps.leases,
      leaseSettings: config.leases,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
    },
    binding,
  );
  trace.getActiveSpan()?.setAttributes({ "zahara.request_id": c.get("requestId"), "agent.id": agent.name, capability: task });
  const execution: { attempts: AttemptRecord[]; agent: string; task: string } = { attempts: [], agent: agent.name, task };
  c.set("execution", execution);
  const runtime: ExecutorRuntime = {
    now: Date.now,
    sleep,
    random: Math.random,
    waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p),
    signal: c.req.raw.signal,
    logger: c.get("logger"),
  };
  const out = await executeResilient(plans, { at: c.get("startedAt") + timeoutMs, ms: timeoutMs }, runtime, execution.attempts);
  logFields.served_by = out.servedBy;
  logFields.attempts = out.attempts.length;
  for (const [name, value] of Object.entries(rateLimitHeadersOf(out.rateLimit))) c.header(name, value);
  if (out.replayed) c.header(REPLAYED_HEADER, "true");
  return c.json({
    result: out.result,
    agent: agent.name,
    served_by: out.servedBy,
    task,
    request_id: c.get("requestId"),
    duration_ms: elapsedMs(c.get("startedAt")),
    ...(out.usage !== undefined ? { usage: out.usage } : {}),
  });
}

/** What the execute handlers need: the routing registry, the resolved resilience settings and this isolate's leases. */
export interface ExecuteDeps {
  registry: AgentRegistry;
  catalog: ResilienceCatalog;
  leases: IsolateLeases;
}

/** Creates the `POST /execute` handler (routing by task, or by `agent` in the body). */
export function executeHandler(deps: ExecuteDeps) {
  return async function executeRoute(c: GatewayContext): Promise<Response> {
    const body = await parseJsonBody(c.req.raw, ExecuteBodySchema, { maxBytes: resolveGatewayConfig(c.env).maxBodyBytes });
    return execute(c, deps, body.task, body.parameters, body.agent);
  };
}

/** Creates the `POST /agents/:agent/execute` handler. */
export function agentExecuteHandler(deps: ExecuteDeps) {
  return async function agentExecuteRoute(c: GatewayContext): Promise<Response> {
    const agentName = c.req.param("agent") ?? "";
    const principal = c.get("principal");
    deps.registry.agent(agentName, (a, cap) => allowsCall(principal, a, cap));
    const body = await parseJsonBody(c.req.raw, AgentExecuteBodySchema, { maxBytes: resolveGatewayConfig(c.env).maxBodyBytes });
    return execute(c, deps, body.task, body.parameters, agentName);
  };
}
