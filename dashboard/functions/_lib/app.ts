/**
 * The dashboard's API (Pages Functions under /api): a Hono app built from the
 * same request context and error handling as the gateway, so every answer
 * carries `X-Request-Id` and every error is the gateway's shape with
 * `service: "dashboard"`. This file only wires; handlers live in `routes/`.
 *
 *   POST /api/login            open (login mode): admin key → a gateway session → session cookie
 *   POST /api/logout           ends the session (at the gateway too) and clears the cookie
 *   GET  /api/session          who is signed in, the auth mode, the Jaeger link
 *   GET|POST|PUT|PATCH|DELETE /api/gw/*   the gateway, with a server-held key
 *   anything else under /api   404 (401 first when not signed in)
 *
 * In local development (`ZAHARA_ENV=development`) only loopback hosts are
 * answered (`localHostGuard`), before anything reads a cookie or calls the
 * gateway, so a web page cannot drive a developer's dashboard by DNS rebinding.
 */
import { Hono } from "hono";
import { type JwtVerifierDeps } from "../../../workers/gateway/src/auth/jwt";
import { notFound, onError } from "../../../workers/shared/http/error-handler";
import { localHostGuard } from "../../../workers/shared/http/deployment";
import { requestContext } from "../../../workers/shared/http/request-context";
import { AccessVerifiers } from "./access";
import { apiHeaders, guard, sameOrigin } from "./auth";
import { type DashboardHono, serverSecrets } from "./env";
import { SessionChecks } from "./gateway-sessions";
import { PROXY_METHODS, PROXY_PREFIX, gatewayProxy } from "./routes/gateway-proxy";
import { loginHandler, logoutHandler, sessionHandler } from "./routes/session";

/** What the app is built with. Defaults are the production ones. */
export interface DashboardAppOptions {
  /** How Access JWKS are fetched (default: global fetch) and the clock the verifier uses. */
  access?: JwtVerifierDeps;
  /** Clock for sessions, epoch ms (default `Date.now`). */
  now?: () => number;
}

/** Creates the dashboard API app. One per isolate: it owns the Access JWKS cache and the session checks' cache. */
export function createDashboardApp({ access, now = Date.now }: DashboardAppOptions = {}) {
  const app = new Hono<DashboardHono>();
  const sessions = new SessionChecks(now);
  app.use(requestContext({ service: "dashboard", secrets: (env) => serverSecrets(env) }));
  // Only adds headers to the answer (the host guard's 403 included); reads nothing of the request.
  app.use(apiHeaders);
  app.use(localHostGuard());
  app.use(sameOrigin);
  app.use(guard(new AccessVerifiers(access), sessions, now));
  app.post("/api/login", (c) => loginHandler(c, sessions, now));
  app.post("/api/logout", (c) => logoutHandler(c, sessions));
  app.get("/api/session", sessionHandler);
  app.on([...PROXY_METHODS], `${PROXY_PREFIX}/*`, gatewayProxy);
  app.onError(onError);
  app.notFound(notFound(() => app.routes));
  return app;
}
