/**
 * The guard in front of every /api route except `POST /api/login`: it
 * resolves who is calling in the configured mode and sets `user`, or answers
 * 401 `UNAUTHORIZED` (in the gateway's error shape, `details.auth_mode` saying
 * how to sign in). Also the same-origin check for state-changing requests.
 *
 * Login mode: the cookie's signature, `exp` and ceiling are checked here
 * (`verifySession`), then the gateway is asked whether the session it names
 * is still open ({@link SessionChecks}): not logged out, its admin key still
 * an admin. A signed cookie is never enough on its own, since whoever learns
 * `SESSION_SECRET` can sign anything and a signature cannot be taken back.
 */
import { createMiddleware } from "hono/factory";
import { ZaharaError } from "../../../workers/shared/errors";
import { type AccessVerifiers, ACCESS_JWT_HEADER, resolveAccessConfig } from "./access";
import { type AuthMode, type DashboardHono, type DashboardUser, authMode } from "./env";
import type { SessionChecks } from "./gateway-sessions";
import { SESSION_COOKIE, readCookie, sessionSecret, verifySession } from "./session";

/** Routes reachable without a session. */
const OPEN_PATHS = new Set(["/api/login"]);

function unauthorized(mode: AuthMode, message: string): ZaharaError {
  return new ZaharaError("UNAUTHORIZED", { message, details: { auth_mode: mode } });
}

/** The guard. `now` is the clock (epoch ms) used for session expiry; `sessions` asks the gateway. */
export function guard(verifiers: AccessVerifiers, sessions: SessionChecks, now: () => number) {
  return createMiddleware<DashboardHono>(async function guard(c, next) {
    const mode = authMode(c.env);
    c.set("mode", mode);
    c.set("sessionId", undefined);
    if (OPEN_PATHS.has(c.req.path)) return next();
    let user: DashboardUser;
    if (mode === "access") {
      const config = resolveAccessConfig(c.env);
      const token = c.req.header(ACCESS_JWT_HEADER);
      if (token) c.set("logger", c.get("logger").redacting([token]));
      try {
        const identity = await verifiers.verify(token, config);
        user = { sub: identity.sub, exp: identity.exp, ...(identity.email ? { email: identity.email } : {}) };
      } catch (err) {
        if (err instanceof ZaharaError && err.status === 401) {
          c.get("logger").info("access token refused", { reason: err.message });
          throw unauthorized(
            mode,
            "Not signed in through Cloudflare Access (missing or invalid Cf-Access-Jwt-Assertion)",
          );
        }
        throw err;
      }
    } else {
      const secret = sessionSecret(c.env);
      const token = readCookie(c.req.header("Cookie"), SESSION_COOKIE);
      if (token) c.set("logger", c.get("logger").redacting([token]));
      const claims = token ? await verifySession(token, secret, now()) : undefined;
      if (!claims) throw unauthorized(mode, token ? "Session expired or invalid; sign in again" : "Not signed in");
      c.set("logger", c.get("logger").redacting([claims.sid]));
      const session = await sessions.check(c, claims.sid);
      // The gateway's record names the principal; a cookie claiming another one was not signed at that login.
      if (!session || session.principal !== claims.sub) {
        c.get("logger").info("session refused by the gateway", { user: claims.sub });
        throw unauthorized(mode, "Session expired or invalid; sign in again");
      }
      user = { sub: claims.sub, exp: claims.exp };
      c.set("sessionId", claims.sid);
    }
    c.set("user", user);
    c.get("logFields").user = user.sub;
    await next();
  });
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses (403 `FORBIDDEN`) a state-changing request that a browser marks as
 * coming from another origin. The SameSite=Strict cookie already keeps other
 * sites' requests unauthenticated; this also covers login and Access mode.
 */
export const sameOrigin = createMiddleware<DashboardHono>(async function sameOrigin(c, next) {
  if (!SAFE_METHODS.has(c.req.method)) {
    const origin = c.req.header("Origin");
    const site = c.req.header("Sec-Fetch-Site");
    if ((origin && origin !== new URL(c.req.url).origin) || site === "cross-site") {
      throw new ZaharaError("FORBIDDEN", { message: "Cross-origin request refused" });
    }
  }
  await next();
});

/**
 * Adds the headers every API answer carries: never cached, never sniffed, never framed, no
 * referrer, and a CSP that lets the JSON run or load nothing. Pages applies dashboard/public/_headers
 * to the static pages only, never to the Functions' answers, so these are set here.
 */
export const apiHeaders = createMiddleware<DashboardHono>(async function apiHeaders(c, next) {
  await next();
  c.header("Cache-Control", "no-store");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  c.header("X-Frame-Options", "DENY");
  c.header("Referrer-Policy", "no-referrer");
});
