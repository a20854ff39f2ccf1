/**
 * The login-mode session: a cookie holding `base64url(JSON {sub, exp})` and
 * its HMAC-SHA256 (`SESSION_SECRET`), separated by a dot. Stateless: the
 * signature and `exp` (epoch seconds) are all that is checked, so a session
 * ends at its expiry or when the secret changes. The cookie is HttpOnly,
 * SameSite=Strict, and Secure whenever the site is served over https.
 */

/** Cookie name. */
export const SESSION_COOKIE = "zahara_session";
/** Session lifetime: 12 hours, in seconds. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
/** Shortest accepted `SESSION_SECRET`, in bytes. */
export const MIN_SESSION_SECRET_BYTES = 32;
/** Longest cookie value looked at (a valid one is far shorter). */
const MAX_TOKEN_CHARS = 1024;

/** What a session cookie carries. */
export interface SessionClaims {
  /** Who signed in: the gateway principal id of the admin key, or `admin`. */
  sub: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

const enc = new TextEncoder();
const B64URL = /^[A-Za-z0-9_-]+$/;

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
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

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** Signs `claims` into a cookie value. */
export async function signSession(claims: SessionClaims, secret: string): Promise<string> {
  checkSessionSecret(secret);
  const payload = b64url(enc.encode(JSON.stringify({ sub: claims.sub, exp: claims.exp })));
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), enc.encode(payload));
  return `${payload}.${b64url(new Uint8Array(sig))}`;
}

/**
 * The claims of a cookie value when its signature is valid and it has not
 * expired at `nowMs`; undefined otherwise (malformed, tampered, expired).
 * The signature is checked with `crypto.subtle.verify` (constant time).
 */
export async function verifySession(token: string | undefined, secret: string, nowMs: number = Date.now()): Promise<SessionClaims | undefined> {
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
  const { sub, exp } = (claims ?? {}) as Partial<SessionClaims>;
  if (typeof sub !== "string" || !sub || typeof exp !== "number" || !Number.isFinite(exp)) return undefined;
  if (nowMs / 1000 >= exp) return undefined;
  return { sub, exp };
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
  return [`${SESSION_COOKIE}=${value}`, "Path=/", `Max-Age=${maxAge}`, "HttpOnly", "SameSite=Strict", ...(secure ? ["Secure"] : [])].join("; ");
}

/** `Set-Cookie` that deletes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie("", { secure, maxAge: 0 });
}
