/**
 * `POST /api/login`, `POST /api/logout`, `GET /api/session`.
 *
 * Login (DASHBOARD_AUTH=login) asks the gateway whether the presented key is
 * an admin key: `GET /v1/keys?limit=1` with it through the service binding;
 * 200 means admin. The key is then forgotten: the session cookie carries
 * only who signed in and until when, and the proxy uses the server-held keys.
 * Failed logins count against the browser's address in the gateway's
 * AuthThrottle (its `CF-Connecting-IP` is passed on), so guessing is throttled
 * with 429 `TOO_MANY_AUTH_FAILURES` exactly as at the gateway.
 */
import type { Context } from "hono";
import { MANAGED_KEY_PREFIX, keyIdOf, sha256 } from "../../../../workers/gateway/src/auth/api-keys";
import { ZaharaError } from "../../../../workers/shared/errors";
import { readJsonBody } from "../../../../workers/shared/http/json-body";
import { ACCESS_LOGOUT_PATH } from "../access";
import type { AuthMode, DashboardHono, DashboardUser } from "../env";
import { SESSION_TTL_SECONDS, checkSessionSecret, clearedSessionCookie, sessionCookie, signSession } from "../session";

/** Body of `GET /api/session` (and of a successful login). */
export interface SessionInfo {
  user: { sub: string; email?: string };
  mode: AuthMode;
  /** When the session ends (ISO 8601). */
  expires_at: string;
  /** Link to the Jaeger UI for traces, or null. */
  jaeger_ui_url: string | null;
}

/** Largest login body, in bytes. */
const MAX_LOGIN_BODY_BYTES = 4096;
/** Longest key accepted at login. */
const MAX_KEY_CHARS = 512;

type Ctx = Context<DashboardHono>;

function isSecure(c: Ctx): boolean {
  return new URL(c.req.url).protocol === "https:";
}

/** JAEGER_UI_URL when it is an http(s) URL, else null. */
function jaegerUrl(value: string | undefined): string | null {
  const v = value?.trim();
  return v && URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) ? v : null;
}

function sessionInfo(c: Ctx, user: DashboardUser): SessionInfo {
  return {
    user: { sub: user.sub, ...(user.email ? { email: user.email } : {}) },
    mode: c.get("mode"),
    expires_at: new Date(user.exp * 1000).toISOString(),
    jaeger_ui_url: jaegerUrl(c.env.JAEGER_UI_URL),
  };
}

/** The gateway's principal id for a key: `key_<12 hex of its SHA-256>` for a secret-configured key; a managed key's id is not derivable, so `admin`. */
async function principalOf(key: string): Promise<string> {
  return key.startsWith(MANAGED_KEY_PREFIX) ? "admin" : keyIdOf(await sha256(key));
}

async function readAdminKey(c: Ctx): Promise<string> {
  let body: unknown;
  try {
    body = await readJsonBody(c.req.raw, MAX_LOGIN_BODY_BYTES);
  } catch (err) {
    // The parser's message can quote the body, which holds a key: never echo it.
    if (err instanceof ZaharaError && err.code === "INVALID_JSON") throw new ZaharaError("INVALID_JSON", { message: "Request body is not valid JSON" });
    throw err;
  }
  const key = (body as { admin_key?: unknown } | null)?.admin_key;
  if (typeof key !== "string" || key.trim() === "" || key.length > MAX_KEY_CHARS) {
    throw new ZaharaError("INVALID_REQUEST", {
      details: { fields: [{ field: "admin_key", message: `Required: the admin key, a string of 1-${MAX_KEY_CHARS} characters` }] },
    });
  }
  return key.trim();
}

/** Asks the gateway whether `key` has the admin scope; throws the refusal otherwise. */
async function checkAdminKey(c: Ctx, key: string): Promise<void> {
  const headers = new Headers({ "X-API-Key": key, "X-Request-Id": c.get("requestId") });
  const address = c.req.header("CF-Connecting-IP");
  if (address) headers.set("CF-Connecting-IP", address);
  let res: Response;
  try {
    res = await c.env.GATEWAY.fetch("https://gateway/v1/keys?limit=1", { headers });
  } catch (err) {
    throw new ZaharaError("UPSTREAM_UNREACHABLE", { message: "The gateway could not be reached", cause: err });
  }
  await res.body?.cancel();
  if (res.status === 200) return;
  if (res.status === 401) throw new ZaharaError("UNAUTHORIZED", { message: "Not a valid admin key", details: { auth_mode: "login" } });
  if (res.status === 403) throw new ZaharaError("FORBIDDEN", { message: "This key is valid but has no admin scope", details: { auth_mode: "login" } });
  const retryAfter = res.headers.get("Retry-After");
  const headersOut: Record<string, string> = retryAfter ? { "Retry-After": retryAfter } : {};
  if (res.status === 429) throw new ZaharaError("TOO_MANY_AUTH_FAILURES", { headers: headersOut });
  if (res.status === 503) throw new ZaharaError("AUTH_UNAVAILABLE", { headers: headersOut });
  throw new ZaharaError("UPSTREAM_FAILED", { message: `The gateway answered ${res.status} while checking the key`, details: { gateway_status: res.status } });
}

/** `POST /api/login {admin_key}` → 200 {@link SessionInfo} and the session cookie. */
export async function loginHandler(c: Ctx, now: () => number): Promise<Response> {
  if (c.get("mode") !== "login") throw new ZaharaError("NOT_FOUND", { message: "Sign-in is handled by Cloudflare Access (DASHBOARD_AUTH=access)" });
  checkSessionSecret(c.env.SESSION_SECRET);
  const key = await readAdminKey(c);
  c.set("logger", c.get("logger").redacting([key]));
  await checkAdminKey(c, key);
  const user: DashboardUser = { sub: await principalOf(key), exp: Math.floor(now() / 1000) + SESSION_TTL_SECONDS };
  const token = await signSession(user, c.env.SESSION_SECRET);
  c.get("logFields").user = user.sub;
  c.get("logger").info("dashboard login", { user: user.sub });
  c.header("Set-Cookie", sessionCookie(token, { secure: isSecure(c), maxAge: SESSION_TTL_SECONDS }));
  c.set("user", user);
  return c.json(sessionInfo(c, user));
}

/** `POST /api/logout`: clears the cookie (login mode) or points at Access's logout. */
export function logoutHandler(c: Ctx): Response {
  if (c.get("mode") === "access") return c.json({ ok: true, logout_url: ACCESS_LOGOUT_PATH });
  c.header("Set-Cookie", clearedSessionCookie(isSecure(c)));
  return c.json({ ok: true, logout_url: null });
}

/** `GET /api/session` → {@link SessionInfo}. */
export function sessionHandler(c: Ctx): Response {
  return c.json(sessionInfo(c, c.get("user")));
}
