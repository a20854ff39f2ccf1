/**
 * The login-mode session cookie: `base64url(JSON {sid, sub, exp})` and its
 * HMAC-SHA256 (`SESSION_SECRET`), separated by a dot. `sid` names the
 * session record the gateway keeps (`/v1/sessions`), `sub` the admin key's
 * principal, `exp` the end (epoch seconds). The signature and `exp` are
 * checked here; whether the session is still open (no logout, its admin key
 * still an admin) is asked of the gateway by the guard. The cookie is
 * HttpOnly, SameSite=Strict, and Secure whenever the site is served over https.
 *
 * The development `SESSION_SECRET` is committed (dashboard/.dev.vars.example),
 * so anyone can sign with it: {@link sessionSecret} refuses it outside local
 * development, exactly as a missing secret is refused.
 */
import { type DeploymentVars, isLocalDevelopment } from "../../../workers/shared/http/deployment";

/** Cookie name. */
export const SESSION_COOKIE = "zahara_session";
/**
 * Session lifetime: 12 hours, in seconds. Login asks the gateway for this long (its
 * `SESSION_MAX_TTL_SECONDS` may cut it shorter); a cookie whose `exp` is further away
 * than this (plus {@link CLOCK_SKEW_SECONDS}) is refused, whoever signed it.
 */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
/** Slack for the clocks of the dashboard and the gateway, in seconds. */
export const CLOCK_SKEW_SECONDS = 60;
/**
 * The development `SESSION_SECRET`, as committed in dashboard/.dev.vars.example (a test
 * keeps the two equal). Public, so refused outside local development.
 */
export const DEVELOPMENT_SESSION_SECRET = "zahara-dev-session-secret-0123456789abcdef";
/** Shortest accepted `SESSION_SECRET`, in bytes. */
export const MIN_SESSION_SECRET_BYTES = 32;
/** Longest cookie value looked at (a valid one is far shorter). */
const MAX_TOKEN_CHARS = 1024;

/** What a session cookie carries. */
export interface SessionClaims {
  /** The gateway's session id (`POST /v1/sessions`): a secret, never logged. */
  sid: string;
  /** Who signed in: the gateway principal id of the admin key. */
  sub: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

const enc = new TextEncoder();
const B64URL = /^[A-Za-z0-9_-]+$/;
/** A session id the gateway could have issued: path-safe characters only (it goes into `/v1/sessions/<sid>`). */
const SESSION_ID = /^[A-Za-z0-9_-]{16,128}$/;

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function unb64url(text: string): Uint8Array | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
}

/** Throws when `secret` is missing or shorter than {@link MIN_SESSION_SECRET_BYTES}. */
export function checkSessionSecret(secret: string | undefined): asserts secret is string {
  if (!secret || enc.encode(secret).byteLength < MIN_SESSION_SECRET_BYTES) {
    throw new Error(`SESSION_SECRET must be set to at least ${MIN_SESSION_SECRET_BYTES} bytes`);
  }
}

/**
 * The `SESSION_SECRET` to sign and verify with; throws (a 500, logged) when it
 * is missing or short, or when it is the committed development secret and this
 * is not local development (`ZAHARA_ENV` other than `development`). The
 * message names the problem, never the value.
 */
export function sessionSecret(env: { SESSION_SECRET?: string | undefined } & DeploymentVars): string {
  const secret = env.SESSION_SECRET;
  checkSessionSecret(secret);
  if (secret === DEVELOPMENT_SESSION_SECRET && !isLocalDevelopment(env)) {
    throw new Error(
      "SESSION_SECRET is the development secret committed in dashboard/.dev.vars.example, refused outside " +
        "local development (ZAHARA_ENV is not development): set a random one (openssl rand -base64 32)",
    );
  }
  return secret;
}

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** Signs `claims` into a cookie value. */
export async function signSession(claims: SessionClaims, secret: string): Promise<string> {
  checkSessionSecret(secret);
  const payload = b64url(enc.encode(JSON.stringify({ sid: claims.sid, sub: claims.sub, exp: claims.exp })));
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), enc.encode(payload));
  return `${payload}.${b64url(new Uint8Array(sig))}`;
}

/**
 * The claims of a cookie value when its signature is valid, it names a
 * session, and its `exp` is after `nowMs` and no further than the lifetime a
 * login gives; undefined otherwise (malformed, tampered, expired, beyond the
 * ceiling). The gateway still has to confirm the session (the guard asks).
 * The signature is checked with `crypto.subtle.verify` (constant time).
 */
export async function verifySession(
  token: string | undefined,
  secret: string,
  nowMs: number = Date.now(),
): Promise<SessionClaims | undefined> {
  checkSessionSecret(secret);
  if (!token || token.length > MAX_TOKEN_CHARS) return undefined;
  const [payload, sig, extra] = token.split(".");
  if (!payload || !sig || extra !== undefined) return undefined;
  const sigBytes = unb64url(sig);
  const payloadBytes = unb64url(payload);
  if (!sigBytes || !payloadBytes) return undefined;
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), sigBytes, enc.encode(payload));
  if (!ok) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch {
    return undefined;
  }
  const { sid, sub, exp } = (claims ?? {}) as Partial<SessionClaims>;
  if (typeof sid !== "string" || !SESSION_ID.test(sid)) return undefined;
  if (typeof sub !== "string" || !sub || typeof exp !== "number" || !Number.isFinite(exp)) return undefined;
  if (nowMs / 1000 >= exp) return undefined;
  // Whoever holds the secret could sign any exp: none is honoured beyond the lifetime a login gives.
  if (exp > nowMs / 1000 + SESSION_TTL_SECONDS + CLOCK_SKEW_SECONDS) return undefined;
  return { sid, sub, exp };
}

/** The value of cookie `name` in a `Cookie` header. */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `Set-Cookie` for a session value (`maxAge` seconds; 0 clears it). */
export function sessionCookie(value: string, { secure, maxAge }: { secure: boolean; maxAge: number }): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    `Max-Age=${maxAge}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

/** `Set-Cookie` that deletes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie("", { secure, maxAge: 0 });
}
