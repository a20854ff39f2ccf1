/**
 * The key admin API (admin scope; mount behind `authenticate()` and
 * `requireScope("admin")`): create, list, read, update, rotate and revoke
 * managed keys. A secret appears once, in the answer that creates it; only
 * its SHA-256 is stored. Every change is audited in the same transaction.
 */
import { type Context, Hono } from "hono";
import { ZaharaError } from "../../../shared/errors";
import { parseJsonBody } from "../../../shared/http/validation";
import {
  type KeySettings,
  type KeyView,
  getKey,
  insertKey,
  listKeys,
  revokeKey,
  rotateKey,
  updateKey,
} from "../auth/key-store";
import { displayPrefix, generateKeyId, generateSecret, sha256, toHex } from "../auth/api-keys";
import { clientAddress } from "../auth/throttle";
import type { AuditEntry } from "../audit/audit-log";
import {
  CreateKeySchema,
  DEFAULT_GRACE_SECONDS,
  KEY_ID_PATTERN,
  RotateKeySchema,
  UpdateKeySchema,
  resolveSettings,
  scopeCatalog,
} from "../admin/key-schemas";
import type { AgentsView } from "../hosted/directory";
import type { UpstreamGuard } from "../../../../durable-objects/upstream-guard/src";
import { withTimeout } from "../../../shared/timeout";

/** Bindings the key routes use. */
export interface KeyRouteBindings {
  ACCESS_DB?: D1Database;
  UPSTREAM_GUARD?: DurableObjectNamespace<UpstreamGuard>;
}

/** Largest body a key request may send. */
const MAX_KEY_BODY_BYTES = 16_384;

/** How long `GET /v1/keys/:id/usage` waits for each agent's guard. */
export const USAGE_TIMEOUT_MS = 2000;

type KeyContext = Context<{ Bindings: KeyRouteBindings }>;

const EMPTY: KeySettings = { name: "", scopes: [], rateLimit: null, dailyTokenBudget: null, expiresAt: null };

/** Runs a key-store call, turning a D1 fault into 503 `KEY_STORE_UNAVAILABLE` (cause logged, never sent). */
export async function withKeyStore<T>(c: KeyContext, action: string, run: (db: D1Database) => Promise<T>): Promise<T> {
  const db = c.env.ACCESS_DB;
  if (!db)
    throw new ZaharaError("KEY_STORE_UNAVAILABLE", {
      message: "The key store is not configured (no ACCESS_DB binding)",
    });
  try {
    return await run(db);
  } catch (err) {
    if (err instanceof ZaharaError) throw err;
    c.get("logger").error(`key store ${action} failed`, {
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    throw new ZaharaError("KEY_STORE_UNAVAILABLE", { cause: err, headers: { "Retry-After": "1" } });
  }
}

/** The audit entry for an action by the current principal. */
export function auditOf(
  c: Context,
  action: string,
  target: string | null,
  details?: Record<string, unknown>,
): AuditEntry {
  const onBehalfOf = actingFor(c.req.header(ACTING_FOR_HEADER));
  const all = { ...details, ...(onBehalfOf ? { on_behalf_of: onBehalfOf } : {}) };
  return {
    actor: c.get("principal").id,
    action,
    target,
    requestId: c.get("requestId"),
    clientIp: clientAddress(c.req.raw.headers, c.env),
    ...(Object.keys(all).length > 0 ? { details: all } : {}),
  };
}

/**
 * Header an admin client that acts for people (the dashboard) sets to the
 * person's identity; recorded as `details.on_behalf_of` next to the admin
 * credential's own id, which stays the `actor`.
 */
export const ACTING_FOR_HEADER = "X-Zahara-On-Behalf-Of";

/** The header's value if it is a plausible identity (printable, at most 128 characters), else undefined. */
function actingFor(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v && v.length <= 128 && /^[\x21-\x7e][\x20-\x7e]*$/.test(v) ? v : undefined;
}

function keyId(c: KeyContext): string {
  const id = c.req.param("id") ?? "";
  if (!KEY_ID_PATTERN.test(id)) {
    throw new ZaharaError("KEY_NOT_FOUND", { message: "No such API key (ids look like key_0123456789abcdef)" });
  }
  return id;
}

async function existing(c: KeyContext, db: D1Database, id: string, now: number): Promise<KeyView> {
  const key = await getKey(db, id, now);
  if (!key) throw new ZaharaError("KEY_NOT_FOUND", { message: `No API key ${id}` });
  return key;
}

const settingsOf = (k: KeyView): KeySettings => ({
  name: k.name,
  scopes: k.scopes,
  rateLimit: k.rate_limit,
  dailyTokenBudget: k.daily_token_budget,
  expiresAt: k.expires_at,
});
const described = (s: KeySettings) => ({
  name: s.name,
  scopes: s.scopes,
  rate_limit: s.rateLimit,
  daily_token_budget: s.dailyTokenBudget,
  expires_at: s.expiresAt,
});

/**
 * Creates the `/v1/keys` routes; mount with `app.route("/v1/keys", keyRoutes(view))`. Scopes are checked against
 * the agents served when the request comes (hosted agents included).
 */
export function keyRoutes(view: Pick<AgentsView, "registry">, now: () => number = Date.now) {
  const routes = new Hono<{ Bindings: KeyRouteBindings }>();

  routes.post("/", async function createKey(c) {
    const input = await parseJsonBody(c.req.raw, CreateKeySchema, { maxBytes: MAX_KEY_BODY_BYTES });
    const at = now();
    const settings = resolveSettings(input, EMPTY, scopeCatalog(view.registry), at);
    const secret = generateSecret();
    const id = generateKeyId();
    const prefix = displayPrefix(secret);
    const key = await withKeyStore(c, "create", async (db) =>
      insertKey(
        db,
        id,
        settings,
        { hash: toHex(await sha256(secret)), prefix },
        c.get("principal").id,
        at,
        auditOf(c, "key.create", id, { ...described(settings), prefix }),
      ),
    );
    c.get("logger").info("api key created", { target: id, prefix });
    return c.json({ key, secret, request_id: c.get("requestId") }, 201);
  });

  routes.get("/", async function listKeysRoute(c) {
    const query = c.req.query();
    const unknown = Object.keys(query).filter((k) => !["include_revoked", "cursor", "limit"].includes(k));
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    const problems = [
      ...unknown.map((field) => ({ field, message: "Unknown query parameter" })),
      ...(!Number.isSafeInteger(limit) || limit < 1 || limit > 200
        ? [{ field: "limit", message: "expected an integer from 1 to 200" }]
        : []),
      ...(query.include_revoked !== undefined && !["true", "false"].includes(query.include_revoked)
        ? [{ field: "include_revoked", message: "expected true or false" }]
        : []),
      ...(query.cursor !== undefined && !KEY_ID_PATTERN.test(query.cursor)
        ? [{ field: "cursor", message: "expected a next_cursor from a previous page" }]
        : []),
    ];
    if (problems.length > 0) {
      throw new ZaharaError("INVALID_REQUEST", {
        message: `Invalid query: ${problems.map((f) => `${f.field}: ${f.message}`).join("; ")}`,
        details: { fields: problems },
      });
    }
    const page = await withKeyStore(c, "list", (db) =>
      listKeys(
        db,
        { includeRevoked: query.include_revoked === "true", limit, ...(query.cursor ? { after: query.cursor } : {}) },
        now(),
      ),
    );
    return c.json({ keys: page.keys, next_cursor: page.next, request_id: c.get("requestId") });
  });

  routes.get("/:id", async function getKeyRoute(c) {
    const id = keyId(c);
    const key = await withKeyStore(c, "read", (db) => existing(c, db, id, now()));
    return c.json({ key, request_id: c.get("requestId") });
  });

  routes.get("/:id/usage", async function keyUsageRoute(c) {
    const id = keyId(c);
    await withKeyStore(c, "read", (db) => existing(c, db, id, now()));
    const ns = c.env.UPSTREAM_GUARD;
    // Per agent: today's tokens against the key's budget and its rate-limit cell, from each agent's guard.
    const agents = await Promise.all(
      view.registry.agents.map(async ({ name }) => {
        try {
          if (!ns) throw new Error("UPSTREAM_GUARD is not bound");
          const usage = await withTimeout(
            ns.get(ns.idFromName(name)).keyUsage(id),
            USAGE_TIMEOUT_MS,
            "guard did not answer",
          );
          const rate = usage.rateLimit;
          return {
            agent: name,
            tokens: usage.tokens ?? null,
            rate_limit: rate
              ? {
                  limit: rate.limit,
                  remaining: rate.remaining,
                  retry_after_ms: rate.retryAfterMs,
                  reset_ms: rate.resetMs,
                }
              : null,
          };
        } catch (err) {
          c.get("logger").warn("key usage unavailable for an agent", {
            agent: name,
            error: err instanceof Error ? err.message : String(err),
          });
          return { agent: name, unavailable: true };
        }
      }),
    );
    return c.json({ key_id: id, agents, request_id: c.get("requestId") });
  });

  routes.patch("/:id", async function updateKeyRoute(c) {
    const id = keyId(c);
    const input = await parseJsonBody(c.req.raw, UpdateKeySchema, { maxBytes: MAX_KEY_BODY_BYTES });
    const at = now();
    const key = await withKeyStore(c, "update", async (db) => {
      const current = await existing(c, db, id, at);
      if (current.revoked_at !== null)
        throw new ZaharaError("KEY_REVOKED", { message: `API key ${id} is revoked; create a new key instead` });
      const settings = resolveSettings(input, settingsOf(current), scopeCatalog(view.registry), at);
      return updateKey(
        db,
        id,
        settings,
        at,
        auditOf(c, "key.update", id, { before: described(settingsOf(current)), after: described(settings) }),
      );
    });
    return c.json({ key, request_id: c.get("requestId") });
  });

  routes.post("/:id/rotate", async function rotateKeyRoute(c) {
    const id = keyId(c);
    const { grace_seconds: grace = DEFAULT_GRACE_SECONDS } = await parseJsonBody(c.req.raw, RotateKeySchema, {
      maxBytes: MAX_KEY_BODY_BYTES,
      optional: true,
    });
    const at = now();
    const secret = generateSecret();
    const prefix = displayPrefix(secret);
    const key = await withKeyStore(c, "rotate", async (db) => {
      const current = await existing(c, db, id, at);
      if (current.revoked_at !== null)
        throw new ZaharaError("KEY_REVOKED", { message: `API key ${id} is revoked; it cannot be rotated` });
      const previous = current.secrets.map((s) => s.prefix);
      return rotateKey(
        db,
        id,
        { hash: toHex(await sha256(secret)), prefix },
        grace * 1000,
        at,
        auditOf(c, "key.rotate", id, { prefix, previous, grace_seconds: grace }),
      );
    });
    c.get("logger").info("api key rotated", { target: id, prefix, grace_seconds: grace });
    return c.json({ key, secret, previous_valid_until: at + grace * 1000, request_id: c.get("requestId") });
  });

  routes.post("/:id/revoke", async function revokeKeyRoute(c) {
    const id = keyId(c);
    const at = now();
    const key = await withKeyStore(c, "revoke", async (db) => {
      const current = await existing(c, db, id, at);
      return current.revoked_at !== null
        ? current
        : revokeKey(db, id, at, auditOf(c, "key.revoke", id, { name: current.name }));
    });
    c.get("logger").info("api key revoked", { target: id });
    return c.json({ key, request_id: c.get("requestId") });
  });

  return routes;
}
