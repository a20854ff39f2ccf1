/**
 * One call of a capability through the gateway, whatever API it came in by:
 * `/execute`, an MCP `tools/call` or an A2A message. It routes the task (by
 * the caller's scopes), checks the scope, applies the deadline, and runs the
 * resilient call (admission, attempts, retries, fallbacks) over the service
 * bindings; the call is recorded in the request's `calls` for the request
 * log, traces and metrics. A failure is thrown as the {@link ZaharaError}
 * `/execute` answers with; a protocol route turns it into its own message.
 */
import { type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { endSpanWhen } from "../../../shared/observability/spans";
import type { Context } from "hono";
import { ZaharaError } from "../../../shared/errors";
import { elapsedMs } from "../../../shared/http/request-context";
import { authorizeCall } from "../auth/authenticate";
import { allowsCall } from "../auth/scopes";
import { type GatewayVars, resolveGatewayConfig } from "../config";
import { agentIdempotencyKey } from "../idempotency";
import { type AgentRegistry, serviceBinding } from "../registry";
import { type ExecutionSuccess, type ExecutorRuntime, executeResilient, sleep } from "../resilience/executor";
import type { GuardNamespace } from "../resilience/guard-client";
import type { IsolateLeases } from "../resilience/leases";
import { type ResilienceCatalog, buildPlans } from "../resilience/plans";
import { totalTokens } from "../dispatch";
import { type StreamEnd, relayStream } from "./stream-relay";
import type { CallProtocol, CallSummary } from "./summary";
import type { RunNamespace } from "../runs/create";

/** Header a caller uses to ask for a shorter deadline. */
export const TIMEOUT_HEADER = "X-Timeout-Ms";

/** What a call needs from the app: the routing registry, the resolved resilience settings and this isolate's leases. */
export interface CallDeps {
  readonly registry: AgentRegistry;
  readonly catalog: ResilienceCatalog;
  readonly leases: IsolateLeases;
}

/** The gateway's request context as the call routes see it. */
export type GatewayContext = Context<{
  Bindings: GatewayVars & { UPSTREAM_GUARD?: GuardNamespace; AGENT_RUN?: RunNamespace };
}>;

/** One call to make. */
export interface CallInput {
  task: string;
  parameters: Record<string, unknown>;
  /** The agent asked for (by the path or the body); otherwise the task picks one. */
  agent?: string;
  protocol: CallProtocol;
  /** The caller's `Idempotency-Key` for this call, if any. */
  idempotencyKey?: string;
  /** The caller asked for an event stream (`Accept: text/event-stream`). */
  stream?: boolean;
}

/** A served call. */
export interface CallResult extends ExecutionSuccess {
  /** The agent routed to (`servedBy` differs when a fallback served). */
  agent: string;
  task: string;
  durationMs: number;
  /** The answer as an event stream, when the agent streamed (already relayed: the caller's body). */
  body?: ReadableStream<Uint8Array>;
}

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

/** Runs `input` for the request `c`; throws the call's {@link ZaharaError} when it fails. */
export async function runCall(c: GatewayContext, deps: CallDeps, input: CallInput): Promise<CallResult> {
  const { task, parameters } = input;
  const logFields = c.get("logFields");
  logFields.task = task;
  const principal = c.get("principal");
  const agent = deps.registry.route(task, input.agent, (a, cap) => allowsCall(principal, a, cap));
  logFields.agent = agent.name;
  authorizeCall(principal, agent.name, task);
  const binding = serviceBinding(c.env, agent.binding);
  if (!binding) {
    throw new ZaharaError("AGENT_UNAVAILABLE", {
      message: `Agent "${agent.name}" has no service binding ${agent.binding} on this gateway`,
    });
  }
  const config = resolveGatewayConfig(c.env);
  const timeoutMs = resolveDeadlineMs(config.timeoutMs, c.req.header(TIMEOUT_HEADER), agent.timeout_seconds);
  const idempotencyKey = await agentIdempotencyKey(input.idempotencyKey, principal.id);
  const startedAt = Date.now();
  // A stream's whole length: the manifest's timeoutSeconds, up to the gateway's maximum.
  const streamMs = Math.min(
    config.stream.maxDurationMs,
    agent.timeout_seconds !== undefined ? agent.timeout_seconds * 1000 : Infinity,
  );
  const streamEndsAt = c.get("startedAt") + streamMs;
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
      ...(principal.limits && (principal.limits.rateLimit || principal.limits.maxTokensPerDay !== undefined)
        ? { keyLimits: principal.limits }
        : {}),
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
      ...(input.stream ? { stream: { endsAt: streamEndsAt } } : {}),
    },
    binding,
  );
  const span = trace.getActiveSpan();
  span?.setAttributes({
    "zahara.request_id": c.get("requestId"),
    "agent.id": agent.name,
    capability: task,
    "zahara.protocol": input.protocol,
  });
  const call: CallSummary = { protocol: input.protocol, agent: agent.name, task, attempts: [], startedAt };
  const calls = c.get("calls") ?? [];
  calls.push(call);
  c.set("calls", calls);
  const runtime: ExecutorRuntime = {
    now: Date.now,
    sleep,
    random: Math.random,
    waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p),
    signal: c.req.raw.signal,
    logger: c.get("logger"),
  };
  // The deadline runs from when the request entered the gateway (a protocol request's later calls get less).
  const deadline = { at: c.get("startedAt") + timeoutMs, ms: timeoutMs };
  try {
    const out = await executeResilient(plans, deadline, runtime, call.attempts);
    logFields.served_by = out.servedBy;
    logFields.attempts = out.attempts.length;
    call.servedBy = out.servedBy;
    if (out.stream) {
      const relay = {
        agent: agent.name,
        servedBy: out.servedBy,
        task,
        requestId: c.get("requestId"),
        startedAt: c.get("startedAt"),
      };
      const settled = holdUntilStreamEnds(c);
      const body = relayStream({
        ...relay,
        attempt: out.stream,
        idleTimeoutMs: config.stream.idleTimeoutMs,
        endsAt: streamEndsAt,
        maxBytes: config.maxResponseBytes,
        onEnd: (end) => {
          endStream(c, call, span, end);
          settled();
        },
      });
      return { ...out, agent: agent.name, task, durationMs: elapsedMs(c.get("startedAt")), body };
    }
    Object.assign(call, { status: 200, durationMs: elapsedMs(startedAt), ...tokensOf(out.usage) });
    return { ...out, agent: agent.name, task, durationMs: elapsedMs(c.get("startedAt")) };
  } catch (err) {
    const failure = err instanceof ZaharaError ? err : new ZaharaError("INTERNAL_ERROR");
    Object.assign(call, { status: failure.status, code: failure.code, durationMs: elapsedMs(startedAt) });
    logFields.attempts = call.attempts.length;
    throw err;
  }
}

function tokensOf(usage: unknown): { tokens?: number } {
  const tokens = totalTokens(usage);
  return tokens > 0 ? { tokens } : {};
}

/**
 * Completes a streamed call's record when its stream ends: how it ended, its time to first byte, bytes and
 * usage, on the summary, the log line and the request's span. The request log and metrics wait for it
 * (`callsSettled`, see {@link holdUntilStreamEnds}).
 */
function endStream(c: GatewayContext, call: CallSummary, span: Span | undefined, end: StreamEnd): void {
  Object.assign(call, {
    status: end.status,
    durationMs: elapsedMs(call.startedAt),
    bytesOut: end.bytes,
    ...(end.code !== undefined ? { code: end.code } : {}),
    ...(end.ttfbMs !== undefined ? { ttfbMs: end.ttfbMs } : {}),
    ...(end.tokens > 0 ? { tokens: end.tokens } : {}),
  });
  const last = call.attempts.at(-1);
  if (last && end.code !== undefined && last.code === undefined) last.code = end.code;
  const fields = c.get("logFields");
  Object.assign(fields, {
    stream_end: end.reason,
    stream_bytes: end.bytes,
    ...(end.ttfbMs !== undefined ? { ttfb_ms: end.ttfbMs } : {}),
  });
  span?.setAttributes({
    "zahara.stream.end": end.reason,
    "zahara.stream.bytes": end.bytes,
    ...(end.ttfbMs !== undefined ? { "zahara.stream.ttfb_ms": end.ttfbMs } : {}),
    ...(end.tokens > 0 ? { "gen_ai.usage.total_tokens": end.tokens } : {}),
  });
  if (end.outcome === "failure") span?.setStatus({ code: SpanStatusCode.ERROR, message: end.code ?? end.reason });
  c.get("logger").info("stream ended", {
    reason: end.reason,
    status: end.status,
    bytes: end.bytes,
    ...(end.code ? { code: end.code } : {}),
  });
}

/** Marks `c`'s answer as a stream: its log, metrics and span wait until the returned function is called. */
function holdUntilStreamEnds(c: GatewayContext): () => void {
  let resolve: () => void = () => {};
  const settled = new Promise<void>((r) => (resolve = r));
  c.set("callsSettled", settled);
  endSpanWhen(c.req.raw, settled);
  return resolve;
}
