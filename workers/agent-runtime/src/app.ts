/**
 * The agent runtime: turns a manifest plus capability handlers into a Hono
 * app with `GET /`, `GET /health`, `GET /capabilities` and `POST /run`.
 * Every response lists the agent's own spans in `Server-Timing`.
 */
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { agentInfo } from "../../shared/agents";
import { localHostGuard } from "../../shared/http/deployment";
import { notFound, onError } from "../../shared/http/error-handler";
import { requestContext } from "../../shared/http/request-context";
import type { ZaharaAgentManifest } from "../../shared/manifest";
import type { ResolvedCapability } from "./capability";
import type { AgentRuntimeEnv } from "./env";
import { idempotency } from "./idempotency";
import { TRY_SCRIPT, renderAgentPage } from "./page";
import { piiKindsHeader } from "./pii-guard";
import { runHandler } from "./run";
import { otlpHeaderSecrets } from "../../shared/observability/tracing-config";
import { serverTiming } from "./timings";

/** Every secret value in an agent's env, redacted from its logs: the LLM key and the OTLP headers. */
function agentSecrets(env: Record<string, unknown>): string[] {
  return [
    ...(typeof env.LLM_API_KEY === "string" ? [env.LLM_API_KEY] : []),
    ...otlpHeaderSecrets(env.OTEL_EXPORTER_OTLP_HEADERS as string | undefined),
  ];
}

/** Creates the Hono app of one agent. */
export function createAgentApp<E extends AgentRuntimeEnv>(
  manifest: ZaharaAgentManifest,
  capabilities: ReadonlyMap<string, ResolvedCapability<E>>,
) {
  const info = agentInfo(manifest);
  const page = renderAgentPage(manifest, info);
  const app = new Hono<{ Bindings: E }>();
  app.use(requestContext({ service: info.name, secrets: agentSecrets }));
  // Local development answers only loopback and internal host names (DNS rebinding); a deployment is unaffected.
  app.use(localHostGuard());
  app.use(serverTiming());
  app.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], scriptSrc: ["'self'"] },
    }),
  );
  app.get("/", (c) => c.html(page));
  app.get("/_assets/try.js", (c) =>
    c.body(TRY_SCRIPT, 200, {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": "public, max-age=300",
    }),
  );
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/health", (c) =>
    c.json({
      status: "ok",
      agent: info.name,
      version: info.version ?? null,
      capabilities: [...capabilities.keys()],
      request_id: c.get("requestId"),
    }),
  );
  app.get("/capabilities", (c) => c.json({ ...info, request_id: c.get("requestId") }));
  app.post("/run", piiKindsHeader(), idempotency<E>(), runHandler({ manifest, capabilities }));
  app.onError(onError);
  app.notFound(notFound(() => app.routes));
  return app;
}
