/**
 * `POST /api/login`, `POST /api/logout`, `GET /api/session`.
 *
 * Login (DASHBOARD_AUTH=login) opens a session at the gateway with the
 * presented key: `POST /v1/sessions` with it through the service binding
 * (201 means an admin key; the gateway records the session and audits it).
 * The key is then forgotten: the cookie carries the session id, who signed in
 * and until when, signed, and the proxy uses the server-held keys. Failed
 * logins count against the browser's address in the gateway's AuthThrottle
 * (its `CF-Connecting-IP` is passed on), so guessing is throttled with 429
 * `TOO_MANY_AUTH_FAILURES` exactly as at the gateway.
 *
 * Logout ends the session at the gateway (`DELETE /v1/sessions/:id`), so a
 * copy of the cookie opens nothing afterwards, and clears the cookie.
 */
import type { Context } from "hono";
import { ZaharaError } from "../../../../workers/shared/errors";
import { readJsonBody } from "../../../../workers/shared/http/json-body";
import { ACCESS_LOGOUT_PATH } from "../access";
import type { AuthMode, DashboardHono, DashboardUser } from "../env";
import { type SessionChecks, openSession } from "../gateway-sessions";
import { SESSION_TTL_SECONDS, clearedSessionCookie, sessionCookie, sessionSecret, signSession } from "../session";

/** Body of `GET /api/session` (and of a successful login). */
export interface SessionInfo {
  user: { sub: string; email?: string };
  mode: AuthMode;
  /** When the session ends (ISO 8601). */
  expires_at: string;
  /** Link to the Jaeger UI for traces, or null. */
  jaeger_ui_url: string | null;
  /** The gateway's public URL (`GATEWAY_PUBLIC_URL`), without a trailing slash, or null. */
  gateway_url: string | null;
}

/** Largest login body, in bytes. */
const MAX_LOGIN_BODY_BYTES = 4096;
/** Longest key accepted at login. */
const MAX_KEY_CHARS = 512;

type Ctx = Context<DashboardHono>;

function isSecure(c: Ctx): boolean {
  return new URL(c.req.url).protocol === "https:";
}

/** `value` when it is an http(s) URL (JAEGER_UI_URL, GATEWAY_PUBLIC_URL), else null. */
function httpUrl(value: string | undefined): string | null {
  const v = value?.trim();
  return v && URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) ? v : null;
}

function sessionInfo(c: Ctx, user: DashboardUser): SessionInfo {
  return {
    user: { sub: user.sub, ...(user.email ? { email: user.email } : {}) },
    mode: c.get("mode"),
    expires_at: new Date(user.exp * 1000).toISOString(),
    jaeger_ui_url: httpUrl(c.env.JAEGER_UI_URL),
    gateway_url: httpUrl(c.env.GATEWAY_PUBLIC_URL)?.replace(/\/+$/, "") ?? null,
  };
}

async function readAdminKey(c: Ctx): Promise<string> {
  let body: unknown;
  try {
    body = await readJsonBody(c.req.raw, MAX_LOGIN_BODY_BYTES);
  } catch (err) {
    // The parser's message can quote the body, which holds a key: never echo it.
    if (err instanceof ZaharaError && err.code === "INVALID_JSON")
      throw new ZaharaError("INVALID_JSON", { message: "Request body is not valid JSON" });
    throw err;
  }
  const key = (body as { admin_key?: unknown } | null)?.admin_key;
  if (typeof key !== "string" || key.trim() === "" || key.length > MAX_KEY_CHARS) {
    throw new ZaharaError("INVALID_REQUEST", {
      details: {
        fields: [{ field: "admin_key", message: `Required: the admin key, a string of 1-${MAX_KEY_CHARS} characters` }],
      },
    });
  }
  return key.trim();
}

/** `POST /api/login {admin_key}` → 200 {@link SessionInfo} and the session cookie. */
export async function loginHandler(c: Ctx, sessions: SessionChecks, now: () => number): Promise<Response> {
  if (c.get("mode") !== "login") {
    throw new ZaharaError("NOT_FOUND", { message: "Sign-in is handled by Cloudflare Access (DASHBOARD_AUTH=access)" });
  }
  const secret = sessionSecret(c.env);
  const key = await readAdminKey(c);
  c.set("logger", c.get("logger").redacting([key]));
  const session = await openSession(c, key, SESSION_TTL_SECONDS);
  sessions.remember(session.id, session);
  // The cookie ends with the gateway's record, and never later than a login's lifetime on this clock.
  const nowSeconds = Math.floor(now() / 1000);
  const exp = Math.min(Math.floor(session.expiresAt / 1000), nowSeconds + SESSION_TTL_SECONDS);
  const user: DashboardUser = { sub: session.principal, exp };
  const token = await signSession({ sid: session.id, ...user }, secret);
  c.set("logger", c.get("logger").redacting([token]));
  c.get("logFields").user = user.sub;
  c.get("logger").info("dashboard login", { user: user.sub });
  c.header("Set-Cookie", sessionCookie(token, { secure: isSecure(c), maxAge: Math.max(0, exp - nowSeconds) }));
  c.set("user", user);
  return c.json(sessionInfo(c, user));
}

/**
 * `POST /api/logout`: ends the session at the gateway and clears the cookie
 * (login mode), or points at Access's logout. Should the gateway fail to end
 * it, the answer is that error, still clearing the cookie.
 */
export async function logoutHandler(c: Ctx, sessions: SessionChecks): Promise<Response> {
  if (c.get("mode") === "access") return c.json({ ok: true, logout_url: ACCESS_LOGOUT_PATH });
  const cleared = clearedSessionCookie(isSecure(c));
  const id = c.get("sessionId");
  if (id) await sessions.revoke(c, id, { "Set-Cookie": cleared });
  c.get("logger").info("dashboard logout", { user: c.get("user").sub });
  c.header("Set-Cookie", cleared);
  return c.json({ ok: true, logout_url: null });
}

/** `GET /api/session` → {@link SessionInfo}. */
export function sessionHandler(c: Ctx): Response {
  return c.json(sessionInfo(c, c.get("user")));
}
