/**
 * Dashboard sessions (admin scope; mount behind `authenticate()` and
 * `requireScope("admin")`). The dashboard's cookie is signed, but a signature
 * alone cannot be taken back; these records can, so a session ends at logout
 * and as soon as the admin key that bought it stops being an admin key.
 *
 *   POST   /v1/sessions       with the admin key that is signing in: a session for that principal
 *                             → 201 {session_id, principal, expires_at, cache_ttl_ms}
 *   GET    /v1/sessions/:id   with the dashboard's own admin key: 200 {active: true, principal, expires_at,
 *                             cache_ttl_ms} while the session and its principal are valid, else 404 NOT_FOUND
 *   DELETE /v1/sessions/:id   logout: 204; again 204 (idempotent); 404 for an id that never existed
 *
 * Times are epoch ms. A session lasts `ttl_seconds` (optional body of the
 * POST), capped by `SESSION_MAX_TTL_SECONDS` (default 12 h). `cache_ttl_ms`
 * is `AUTH_CACHE_TTL_MS`: how long the dashboard may reuse a positive answer,
 * the same revocation bound as for the gateway's own key cache. The GET reads
 * D1 and `ADMIN_API_KEYS` directly (never the key cache), so a revocation is
 * seen by the next check. Creating and revoking are audited in the same
 * transaction (`session.create`, `session.revoke`; target: the principal the
 * session belongs to; `details.session`: a handle, never the id). The id
 * never appears in a log line.
 */
import { type Context, Hono } from "hono";
import * as z from "zod/mini";
import { ZaharaError } from "../../../shared/errors";
import { parseJsonBody } from "../../../shared/http/validation";
import { type AccessVars, resolveAccessConfig } from "../auth/config";
import {
  SESSION_ID_PATTERN,
  adminLapse,
  findSession,
  generateSessionId,
  insertSession,
  revokeSession,
  sessionHandle,
  sessionHash,
} from "../auth/sessions-store";
import { auditOf, withKeyStore } from "./keys";

/** Bindings the session routes use. */
export interface SessionRouteBindings extends AccessVars {
  ACCESS_DB?: D1Database;
  /** Longest session, in seconds (default {@link DEFAULT_SESSION_MAX_TTL_SECONDS}). */
  SESSION_MAX_TTL_SECONDS?: string;
}

/** Server-side ceiling of a session when `SESSION_MAX_TTL_SECONDS` is unset or invalid: 12 hours. */
export const DEFAULT_SESSION_MAX_TTL_SECONDS = 43_200;
/** Shortest session, and the bounds `SESSION_MAX_TTL_SECONDS` is read within: 1 minute to 7 days. */
export const MIN_SESSION_TTL_SECONDS = 60;
export const MAX_SESSION_TTL_SECONDS = 7 * 86_400;

/** `POST /v1/sessions` (body optional). A longer `ttl_seconds` than the ceiling is cut to it. */
export const CreateSessionSchema = z.strictObject({
  ttl_seconds: z.optional(
    z
      .int({ error: "ttl_seconds must be an integer" })
      .check(z.minimum(MIN_SESSION_TTL_SECONDS), z.maximum(MAX_SESSION_TTL_SECONDS)),
  ),
});

/** Largest body a session request may send. */
const MAX_SESSION_BODY_BYTES = 1024;

type SessionContext = Context<{ Bindings: SessionRouteBindings }>;

/** The ceiling: `SESSION_MAX_TTL_SECONDS` when it is an integer within bounds, else the default. */
export function sessionMaxTtlSeconds(env: Pick<SessionRouteBindings, "SESSION_MAX_TTL_SECONDS">): number {
  const raw = env.SESSION_MAX_TTL_SECONDS?.trim() ?? "";
  const n = Number(raw);
  const valid = raw !== "" && Number.isSafeInteger(n) && n >= MIN_SESSION_TTL_SECONDS && n <= MAX_SESSION_TTL_SECONDS;
  return valid ? n : DEFAULT_SESSION_MAX_TTL_SECONDS;
}

const noSession = () => new ZaharaError("NOT_FOUND", { message: "No active session with this id" });

/** The `:id` of the path, kept out of every later log line; 404 when it cannot be a session id. */
function sessionId(c: SessionContext): string {
  const id = c.req.param("id") ?? "";
  if (!SESSION_ID_PATTERN.test(id)) throw noSession();
  c.set("logger", c.get("logger").redacting([id]));
  return id;
}

/** Creates the `/v1/sessions` routes; mount with `app.route("/v1/sessions", sessionRoutes())`. */
export function sessionRoutes(now: () => number = Date.now) {
  const routes = new Hono<{ Bindings: SessionRouteBindings }>();

  routes.post("/", async function createSession(c) {
    const input = await parseJsonBody(c.req.raw, CreateSessionSchema, {
      maxBytes: MAX_SESSION_BODY_BYTES,
      optional: true,
    });
    const principal = c.get("principal");
    // Only keys sign in to the dashboard: a JWT never carries the admin scope, and its subject cannot be re-checked.
    if (principal.kind === "jwt") {
      throw new ZaharaError("FORBIDDEN", { message: "Dashboard sessions are for admin keys" });
    }
    const max = sessionMaxTtlSeconds(c.env);
    const at = now();
    const expiresAt = at + Math.min(input.ttl_seconds ?? max, max) * 1000;
    const id = generateSessionId();
    c.set("logger", c.get("logger").redacting([id]));
    const hash = await sessionHash(id);
    const handle = sessionHandle(hash);
    const audit = auditOf(c, "session.create", principal.id, { session: handle, expires_at: expiresAt });
    const record = { principal: principal.id, created_at: at, expires_at: expiresAt };
    await withKeyStore(c, "session create", (db) => insertSession(db, hash, record, audit));
    c.get("logger").info("dashboard session created", { session: handle, target: principal.id });
    const cacheTtlMs = resolveAccessConfig(c.env).cacheTtlMs;
    const body = { session_id: id, principal: principal.id, expires_at: expiresAt, cache_ttl_ms: cacheTtlMs };
    return c.json({ ...body, request_id: c.get("requestId") }, 201);
  });

  routes.get("/:id", async function checkSession(c) {
    const hash = await sessionHash(sessionId(c));
    const at = now();
    const session = await withKeyStore(c, "session read", async (db) => {
      const found = await findSession(db, hash);
      if (!found) return undefined;
      const ended =
        found.revoked_at !== null
          ? "revoked"
          : found.expires_at <= at
            ? "expired"
            : await adminLapse(db, c.env.ADMIN_API_KEYS, found.principal, at);
      if (ended) {
        const fields = { session: sessionHandle(hash), target: found.principal, reason: ended };
        c.get("logger").info("dashboard session no longer valid", fields);
        return undefined;
      }
      return found;
    });
    // One answer for "never existed" and "ended", whatever ended it.
    if (!session) throw noSession();
    return c.json({
      active: true,
      principal: session.principal,
      expires_at: session.expires_at,
      cache_ttl_ms: resolveAccessConfig(c.env).cacheTtlMs,
      request_id: c.get("requestId"),
    });
  });

  routes.delete("/:id", async function deleteSession(c) {
    const hash = await sessionHash(sessionId(c));
    const at = now();
    await withKeyStore(c, "session revoke", async (db) => {
      const found = await findSession(db, hash);
      if (!found) throw noSession();
      if (found.revoked_at !== null) return;
      const audit = auditOf(c, "session.revoke", found.principal, { session: sessionHandle(hash) });
      await revokeSession(db, hash, at, audit);
    });
    c.get("logger").info("dashboard session revoked", { session: sessionHandle(hash) });
    return c.body(null, 204);
  });

  return routes;
}
