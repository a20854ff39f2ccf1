/**
 * The dashboard's side of the gateway's session records (`/v1/sessions`),
 * through the service binding. The gateway owns the records because it owns
 * the keys: only it can tell that the admin key behind a session was revoked.
 *
 * - {@link openSession}: login, with the presented key (its refusals become
 *   the login's: 401, 403, 429 with Retry-After, 503).
 * - {@link SessionChecks.check}: the guard, with `GATEWAY_ADMIN_KEY`. A
 *   positive answer is reused for the gateway's `cache_ttl_ms`
 *   (`AUTH_CACHE_TTL_MS`), so logout and revocation end a session within that
 *   bound in every isolate; a gateway that cannot answer is a 503, never a
 *   session let in unchecked.
 * - {@link SessionChecks.revoke}: logout, with `GATEWAY_ADMIN_KEY`, on behalf
 *   of the person, from the browser's address (both audited by the gateway).
 *
 * The cache lives in a {@link SessionChecks} the app creates (one per
 * isolate), never in module state.
 */
import type { Context } from "hono";
import { ZaharaError } from "../../../workers/shared/errors";
import type { DashboardHono } from "./env";
import { ON_BEHALF_OF_HEADER } from "./routes/gateway-proxy";

type Ctx = Context<DashboardHono>;

/** A session as the gateway describes it (`expiresAt`: epoch ms). */
export interface GatewaySession {
  principal: string;
  expiresAt: number;
  /** How long a positive check may be reused, in ms. */
  cacheTtlMs: number;
}

/** Sessions remembered per isolate; the map is cleared when it grows past this. */
const MAX_CACHED = 10_000;

/** The gateway's URL of a session (the id is path-safe: verifySession checked it). */
const sessionUrl = (id: string) => `https://gateway/v1/sessions/${id}`;

function unreachable(err: unknown): ZaharaError {
  return new ZaharaError("AUTH_UNAVAILABLE", {
    message: "The gateway could not be reached to check the session",
    headers: { "Retry-After": "1" },
    cause: err,
  });
}

function adminKey(c: Ctx): string {
  const key = c.env.GATEWAY_ADMIN_KEY;
  if (!key) throw new Error("GATEWAY_ADMIN_KEY is not set: the dashboard cannot check sessions with the gateway");
  return key;
}

/** Reads a session from a gateway answer; throws (a 502) when the body is not one. */
async function readSession(res: Response, withId: true): Promise<GatewaySession & { id: string }>;
async function readSession(res: Response, withId: false): Promise<GatewaySession>;
async function readSession(res: Response, withId: boolean): Promise<GatewaySession & { id?: string }> {
  type Fields = { session_id?: unknown; principal?: unknown; expires_at?: unknown; cache_ttl_ms?: unknown };
  const body = (await res.json().catch(() => null)) as Fields | null;
  const { session_id: id, principal, expires_at: expiresAt, cache_ttl_ms: cacheTtlMs } = body ?? {};
  if (
    typeof principal !== "string" ||
    !principal ||
    typeof expiresAt !== "number" ||
    typeof cacheTtlMs !== "number" ||
    cacheTtlMs < 0 ||
    (withId && typeof id !== "string")
  ) {
    throw new ZaharaError("UPSTREAM_FAILED", { message: "The gateway answered a session the dashboard cannot read" });
  }
  return { principal, expiresAt, cacheTtlMs, ...(typeof id === "string" ? { id } : {}) };
}

/**
 * Opens a session for the admin key `key` (`POST /v1/sessions` with it), for
 * at most `ttlSeconds`. Throws the login's refusal when the key is not an
 * admin key, exactly as the gateway answered it.
 */
export async function openSession(c: Ctx, key: string, ttlSeconds: number): Promise<GatewaySession & { id: string }> {
  const headers = new Headers({ "X-API-Key": key, "X-Request-Id": c.get("requestId") });
  headers.set("Content-Type", "application/json");
  // Failed logins count against the browser's address in the gateway's AuthThrottle; a success is audited with it.
  const address = c.req.header("CF-Connecting-IP");
  if (address) headers.set("CF-Connecting-IP", address);
  let res: Response;
  try {
    const body = JSON.stringify({ ttl_seconds: ttlSeconds });
    res = await c.env.GATEWAY.fetch("https://gateway/v1/sessions", { method: "POST", headers, body });
  } catch (err) {
    throw new ZaharaError("UPSTREAM_UNREACHABLE", { message: "The gateway could not be reached", cause: err });
  }
  if (res.status === 201) {
    const session = await readSession(res, true);
    c.set("logger", c.get("logger").redacting([session.id]));
    return session;
  }
  await res.body?.cancel();
  const details = { auth_mode: "login" };
  if (res.status === 401) throw new ZaharaError("UNAUTHORIZED", { message: "Not a valid admin key", details });
  if (res.status === 403) {
    throw new ZaharaError("FORBIDDEN", { message: "This key is valid but has no admin scope", details });
  }
  const retryAfter = res.headers.get("Retry-After");
  const headersOut: Record<string, string> = retryAfter ? { "Retry-After": retryAfter } : {};
  if (res.status === 429) throw new ZaharaError("TOO_MANY_AUTH_FAILURES", { headers: headersOut });
  if (res.status === 503) throw new ZaharaError("AUTH_UNAVAILABLE", { headers: headersOut });
  throw new ZaharaError("UPSTREAM_FAILED", {
    message: `The gateway answered ${res.status} while opening the session`,
    details: { gateway_status: res.status },
  });
}

/** The isolate's checks of sessions with the gateway, and its memory of the positive ones. */
export class SessionChecks {
  private readonly active = new Map<string, GatewaySession & { until: number }>();

  /** `now` is the app's clock (epoch ms). */
  constructor(private readonly now: () => number) {}

  /** Remembers a session the gateway just vouched for (at login, or a check). */
  remember(id: string, session: GatewaySession): void {
    if (session.cacheTtlMs <= 0) return;
    if (this.active.size >= MAX_CACHED) this.active.clear();
    this.active.set(id, { ...session, until: this.now() + session.cacheTtlMs });
  }

  /**
   * The session `id` while the gateway holds it open, else undefined (ended,
   * revoked, its admin key no longer an admin, or never issued). Throws 503
   * `AUTH_UNAVAILABLE` when the gateway cannot say, and a 500 when it refuses
   * the dashboard's own key (a setting to fix, not a session to end).
   */
  async check(c: Ctx, id: string): Promise<GatewaySession | undefined> {
    const at = this.now();
    const cached = this.active.get(id);
    if (cached && at < cached.until && at < cached.expiresAt) return cached;
    this.active.delete(id);
    let res: Response;
    try {
      const headers = { "X-API-Key": adminKey(c), "X-Request-Id": c.get("requestId") };
      res = await c.env.GATEWAY.fetch(sessionUrl(id), { headers });
    } catch (err) {
      throw unreachable(err);
    }
    if (res.status === 200) {
      const session = await readSession(res, false);
      this.remember(id, session);
      return session;
    }
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    c.get("logFields").gateway_status = res.status;
    if (res.status === 401 || res.status === 403) {
      throw new Error(
        `The gateway refused GATEWAY_ADMIN_KEY (${res.status}) while checking a session: ` +
          "it must be a key with the admin scope",
      );
    }
    const retryAfter = res.headers.get("Retry-After") ?? "1";
    throw new ZaharaError("AUTH_UNAVAILABLE", {
      message: "The session cannot be checked right now",
      headers: { "Retry-After": retryAfter },
    });
  }

  /**
   * Ends the session `id` at the gateway (`DELETE /v1/sessions/:id`) and
   * forgets it here. An id the gateway does not know is already ended. An
   * error carries `errorHeaders` (logout's cookie-clearing `Set-Cookie`).
   */
  async revoke(c: Ctx, id: string, errorHeaders: Record<string, string> = {}): Promise<void> {
    this.active.delete(id);
    const user = c.get("user");
    const headers = new Headers({
      "X-API-Key": adminKey(c),
      "X-Request-Id": c.get("requestId"),
      [ON_BEHALF_OF_HEADER]: user.email ?? user.sub,
    });
    const address = c.req.header("CF-Connecting-IP");
    if (address) headers.set("CF-Connecting-IP", address);
    let res: Response;
    try {
      res = await c.env.GATEWAY.fetch(sessionUrl(id), { method: "DELETE", headers });
    } catch (err) {
      throw new ZaharaError("UPSTREAM_UNREACHABLE", {
        message: "The gateway could not be reached to end the session",
        headers: errorHeaders,
        cause: err,
      });
    }
    await res.body?.cancel();
    if (res.status === 204 || res.status === 404) return;
    c.get("logFields").gateway_status = res.status;
    throw new ZaharaError("UPSTREAM_FAILED", {
      message: `The gateway answered ${res.status} while ending the session`,
      details: { gateway_status: res.status },
      headers: errorHeaders,
    });
  }
}
