/**
 * How a run's Durable Object executes its call: through the same call core as
 * `/execute` (calls/run-call.ts: routing, scopes, admission, retries,
 * deadline, fallbacks, breaker, budgets), inside a small Hono app that wears
 * the gateway's own middleware (request context, request log, the agents'
 * metrics) and its tracing, so a run's execution is logged, counted and
 * traced like any request, under the creating request's id.
 *
 * The app is reachable only from the object (it is never routed from the
 * internet): the object posts the stored call, with the creator's principal,
 * and reads back the outcome. Aborting the request's signal (a cancel) aborts
 * the call, and with it the attempt in flight on the agent.
 *
 * The deadline: the gateway's timeout becomes `RUN_MAX_DURATION_MS`, and the
 * run's remaining time is sent as `X-Timeout-Ms`, so the call ends by the
 * run's deadline, whichever execution it is. The agent sees the idempotency
 * key `run:<run id>` (scoped by the creator, as every caller key is), the same
 * in every execution: a resumed execution replays an answer the agent already
 * gave instead of doing the work again.
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Principal } from "../auth/principal";
import { ZaharaError } from "../../../shared/errors";
import { errorBody } from "../../../shared/http/error-handler";
import { requestContext } from "../../../shared/http/request-context";
import { REQUEST_ID_HEADER } from "../../../shared/request-id";
import { withTracing } from "../../../shared/observability/instrument";
import type { ZaharaAgentManifest } from "../../../shared/manifest";
import { gatewaySecrets } from "../app";
import { type GatewayContext, TIMEOUT_HEADER, runCall } from "../calls/run-call";
import { recordRequests } from "../observability/record";
import { traceContext } from "../observability/trace-context";
import { AgentDirectory, refreshAgents } from "../hosted/directory";
import { RequestLogOutboxes, requestLog } from "../request-log/writer";
import { IsolateLeases } from "../resilience/leases";
import type { ExecutionOutcome, RunRecord } from "./run-state";
import type { RunError } from "./types";

/** What the object posts to the execution app. */
interface ExecutionRequest {
  task: string;
  parameters: Record<string, unknown>;
  agent: string;
  principal: Principal;
  idempotencyKey: string;
}

/** The execution app's answer: the outcome of one execution. */
type ExecutionAnswer =
  | { ok: true; result: unknown; usage?: unknown; served_by: string; attempts: number }
  | { ok: false; error: RunError; attempts: number };

/** The path a run's execution is logged under. */
export function executionPath(runId: string): string {
  return `/v1/runs/${runId}/execution`;
}

function createExecutionApp(manifests: readonly ZaharaAgentManifest[]) {
  // Compiled-in and hosted agents, as the gateway serves them (a run may call a hosted agent).
  const directory = new AgentDirectory(manifests);
  const deps = directory.callDeps(new IsolateLeases());
  const app = new Hono<{ Bindings: Env }>();
  app.use(requestContext({ service: "gateway", secrets: gatewaySecrets }));
  app.use(refreshAgents(directory));
  app.use(traceContext());
  app.use(requestLog(new RequestLogOutboxes()));
  app.post(
    "/v1/runs/:run/execution",
    async function asCreator(c, next) {
      const body = await c.req.json<ExecutionRequest>();
      c.set("principal", body.principal);
      c.set("keyId", body.principal.id);
      c.set("protocol", "http");
      c.get("logFields").run_id = c.req.param("run");
      await next();
    },
    recordRequests(deps.leases),
    async function executeRunCall(c) {
      const body = await c.req.json<ExecutionRequest>();
      try {
        const out = await runCall(c as unknown as GatewayContext, deps, {
          task: body.task,
          parameters: body.parameters,
          agent: body.agent,
          protocol: "http",
          idempotencyKey: body.idempotencyKey,
        });
        const answer: ExecutionAnswer = {
          ok: true,
          result: out.result,
          served_by: out.servedBy,
          attempts: out.attempts.length,
          ...(out.usage !== undefined ? { usage: out.usage } : {}),
        };
        return c.json(answer);
      } catch (err) {
        const failure = err instanceof ZaharaError ? err : new ZaharaError("INTERNAL_ERROR");
        if (!(err instanceof ZaharaError)) c.get("logger").error("run execution failed", { error: String(err) });
        const attempts = c.get("calls")?.[0]?.attempts.length ?? 0;
        const error: RunError = { ...errorBody(c, failure), status: failure.status };
        const answer: ExecutionAnswer = { ok: false, error, attempts };
        return c.json(answer, failure.status as ContentfulStatusCode);
      }
    },
  );
  return app;
}

/** Executes runs for one object: the app (and its isolate state) is built once. */
export class RunExecutor {
  private readonly traced: ExportedHandler<Env>;
  private readonly env: Env;

  constructor(manifests: readonly ZaharaAgentManifest[], version: string, env: Env, maxDurationMs: number) {
    const app = createExecutionApp(manifests);
    this.traced = withTracing<Env, ExportedHandler<Env>>(
      { fetch: (req, env, ctx) => app.fetch(req, env, ctx) },
      { name: "zahara-gateway", version },
    );
    // The gateway's deadline for a run is the run maximum (X-Timeout-Ms lowers it to the time left).
    this.env = { ...env, GATEWAY_TIMEOUT_MS: String(maxDurationMs) };
  }

  /** Runs `r`'s call with `remainingMs` left; resolves with its outcome (never throws). */
  async execute(
    r: RunRecord,
    remainingMs: number,
    signal: AbortSignal,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<ExecutionOutcome> {
    const body: ExecutionRequest = {
      task: r.task,
      parameters: r.parameters,
      agent: r.agent,
      principal: r.principal,
      idempotencyKey: `run:${r.runId}`,
    };
    const request = new Request(`https://gateway.internal${executionPath(r.runId)}`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        [REQUEST_ID_HEADER]: r.requestId,
        [TIMEOUT_HEADER]: String(Math.max(1, Math.floor(remainingMs))),
      },
      body: JSON.stringify(body),
      signal,
    });
    const ctx: ExecutionContext = { waitUntil, passThroughOnException: () => undefined, props: {} };
    try {
      const res = await this.traced.fetch!(request as Request<unknown, IncomingRequestCfProperties>, this.env, ctx);
      const answer = await res.json<ExecutionAnswer>();
      return answer.ok
        ? {
            ok: true,
            attempts: answer.attempts,
            result: answer.result,
            servedBy: answer.served_by,
            ...(answer.usage !== undefined ? { usage: answer.usage } : {}),
          }
        : { ok: false, attempts: answer.attempts, error: answer.error };
    } catch (err) {
      const error: RunError = {
        error: "The run's execution failed",
        code: "INTERNAL_ERROR",
        status: 500,
        request_id: r.requestId,
      };
      if (signal.aborted) error.error = "The run's execution was aborted";
      else error.details = { reason: err instanceof Error ? err.message : String(err) };
      return { ok: false, attempts: 0, error };
    }
  }
}
