/**
 * The gateway's Hono app: request context, CORS, secure headers, API-key
 * auth, and the routes. Business handlers live in `routes/`; this file only
 * wires them.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { localHostGuard } from "../../shared/http/deployment";
import { notFound, onError } from "../../shared/http/error-handler";
import { requestContext } from "../../shared/http/request-context";
import { otlpHeaderSecrets } from "../../shared/observability/tracing-config";
import type { ZaharaAgentManifest } from "../../shared/manifest";
import { authenticate, requireScope } from "./auth/authenticate";
import { Authenticator } from "./auth/authenticator";
import { resolveGatewayConfig, splitList } from "./config";
import { recordRequests } from "./observability/record";
import { traceContext } from "./observability/trace-context";
import { RequestLogOutboxes, requestLog } from "./request-log/writer";
import { IsolateLeases } from "./resilience/leases";
import { listAgentsHandler } from "./routes/agents";
import { auditHandler } from "./routes/audit";
import { keyRoutes } from "./routes/keys";
import { guardAdminRoutes } from "./routes/guard-admin";
import { agentExecuteHandler, executeHandler } from "./routes/execute";
import { healthHandler } from "./routes/health";
import { openApiHandler } from "./openapi/route";
import { requestLogRoutes } from "./routes/requests";
import { sessionRoutes } from "./routes/sessions";
import { metricsHandler } from "./routes/metrics";
import { mcpHandler } from "./protocols/mcp/route";
import { a2aHandler, agentCardHandler } from "./protocols/a2a/route";
import { statsHandler } from "./routes/stats";
import { runRoutes } from "./routes/runs";
import { hostedAgentRoutes } from "./routes/hosted-agents";
import { AgentDirectory, refreshAgents } from "./hosted/directory";

/** What the gateway app is built from. */
export interface GatewayAppOptions {
  manifests: readonly ZaharaAgentManifest[];
  version: string;
  /** Resolves credentials; owns the isolate's key cache (one per app instance). */
  authenticator?: Authenticator;
}

/** Secrets redacted from every log line (the presented credential is added per request by `authenticate`). */
const SECRET_VARS = [
  "GATEWAY_API_KEYS",
  "ADMIN_API_KEYS",
  "METRICS_SCRAPE_TOKEN",
  "JWT_HS256_SECRET",
  "WEBHOOK_SIGNING_SECRET",
];

/** Every secret value in the gateway's env, redacted from its logs (OTLP headers value by value too). */
export function gatewaySecrets(env: Record<string, unknown>): string[] {
  return [
    ...SECRET_VARS.flatMap((name) => splitList(env[name] as string | undefined)),
    ...otlpHeaderSecrets(env.OTEL_EXPORTER_OTLP_HEADERS as string | undefined),
  ];
}

/** Headers a browser may send and read across origins. */
const CORS_ALLOW_HEADERS = [
  ...[
    "Content-Type",
    "X-API-Key",
    "X-Request-Id",
    "X-Timeout-Ms",
    "Authorization",
    "X-Zahara-On-Behalf-Of",
    "Idempotency-Key",
    "Prefer",
  ],
  ...["MCP-Protocol-Version", "Mcp-Session-Id", "Last-Event-ID"],
  ...["A2A-Version", "A2A-Extensions"],
];
const CORS_EXPOSE_HEADERS = [
  "X-Request-Id",
  "Retry-After",
  "RateLimit",
  "RateLimit-Policy",
  "Idempotent-Replayed",
  "Location",
  "Preference-Applied",
];

/** Creates the gateway app. */
export function createGatewayApp({ manifests, version, authenticator = new Authenticator() }: GatewayAppOptions) {
  // The compiled-in agents and the hosted ones (uploaded at runtime), as this isolate last loaded them.
  const directory = new AgentDirectory(manifests);
  // This isolate's admission leases, one holder per agent: owned by the app, like the key caches.
  const leases = new IsolateLeases();
  // This isolate's request-log outbox: entries go to the queue in batches (request-log/outbox.ts).
  const outboxes = new RequestLogOutboxes();
  // Read at request time: a reload of the hosted agents swaps the registry and the catalog together.
  const deps = directory.callDeps(leases);
  const app = new Hono<{ Bindings: Env }>();
  app.use(requestContext({ service: "gateway", secrets: gatewaySecrets }));
  // Local development answers only loopback host names (DNS rebinding); a deployment is unaffected.
  app.use(localHostGuard());
  // The hosted agents as the store last said, reloaded when older than HOSTED_AGENTS_REFRESH_MS (hosted/directory.ts).
  app.use(refreshAgents(directory));
  app.use(async function noStore(c, next) {
    await next();
    // Answers are per credential (and some carry a new secret): no cache, shared or private, may keep them.
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });
  app.use(traceContext());
  // Every request (401s, 404s and 413s included) goes to the D1 request log after the response.
  app.use(requestLog(outboxes));
  app.use(
    cors({
      origin: (origin, c) => {
        const allowed = resolveGatewayConfig(c.env).corsOrigins;
        return allowed.includes("*") ? "*" : allowed.includes(origin) ? origin : null;
      },
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      allowHeaders: CORS_ALLOW_HEADERS,
      exposeHeaders: CORS_EXPOSE_HEADERS,
      maxAge: 600,
    }),
  );
  app.use(secureHeaders());
  app.get("/health", healthHandler(deps, version));
  // The OpenAPI 3.1 document (docs/openapi.json, from `npm run openapi`): public and cacheable.
  app.get("/openapi.json", openApiHandler());
  // A2A agent cards are public: registered before the /agents/* auth middleware, they answer without it.
  app.get("/agents/:agent/.well-known/agent-card.json", agentCardHandler(deps));
  const auth = authenticate(authenticator);
  // Callers: any valid credential; each call is then checked against its scopes (403 outside them).
  app.use("/agents", auth);
  app.use("/agents/*", auth);
  app.use("/execute", auth);
  app.use("/execute", recordRequests(leases));
  app.use("/agents/:agent/execute", recordRequests(leases));
  app.get("/agents", listAgentsHandler(deps));
  app.post("/execute", executeHandler(deps));
  app.post("/agents/:agent/execute", agentExecuteHandler(deps));
  // MCP (protocols/mcp/): every agent the credential may call on /mcp, one on /agents/:agent/mcp.
  app.use("/mcp", auth, recordRequests(leases));
  app.use("/agents/:agent/mcp", recordRequests(leases));
  app.post(
    "/mcp",
    mcpHandler(deps, version, () => ({ kind: "all" })),
  );
  app.post(
    "/agents/:agent/mcp",
    mcpHandler(deps, version, (c) => ({ kind: "agent", agent: c.req.param("agent") ?? "" })),
  );
  // A2A (protocols/a2a/): each agent's JSON-RPC endpoint; its card is above.
  app.use("/agents/:agent/a2a", recordRequests(leases));
  app.post("/agents/:agent/a2a", a2aHandler(deps));
  // Runs (runs/, routes/runs.ts): any caller, for its own runs; registered before the admin-only /v1/*.
  app.use("/v1/runs", auth);
  app.use("/v1/runs/*", auth);
  app.route("/v1/runs", runRoutes());
  // Operators: the admin scope (metrics also accepts the metrics scope of a scraper's token).
  app.get("/metrics", auth, requireScope("metrics"), metricsHandler(deps, version));
  app.use("/v1/*", auth, requireScope("admin"));
  app.get("/v1/stats", statsHandler(deps));
  app.route("/v1/requests", requestLogRoutes());
  app.route("/v1/keys", keyRoutes(deps));
  app.route("/v1/sessions", sessionRoutes());
  app.route("/v1/agents", guardAdminRoutes(deps));
  app.route("/v1/agents", hostedAgentRoutes(directory));
  app.get("/v1/audit", auditHandler());
  app.onError(onError);
  app.notFound(notFound(() => app.routes));
  return app;
}
