/**
 * Turns a presented credential into a {@link Principal}. Secret-configured
 * keys (GATEWAY_API_KEYS: callers; ADMIN_API_KEYS: admins;
 * METRICS_SCRAPE_TOKEN: scrapers) are checked in the isolate; managed keys
 * (`zk_...`) through the {@link KeyCache} and D1; JWTs with the configured
 * verifier. One instance per app (it owns the caches); never module state.
 */
import { ZaharaError } from "../../../shared/errors";
import type { Logger } from "../../../shared/logger";
import { TimeoutError, withTimeout } from "../../../shared/timeout";
import { isLocalDevelopment } from "../../../shared/http/deployment";
import { type ApiKeyEntry, MANAGED_KEY_PREFIX, keyIdOf, matchesAny, parseApiKeys, sha256, toHex } from "./api-keys";
import { MIN_BOOTSTRAP_KEY_CHARS } from "./bootstrap-policy";
import type { AccessConfig, AccessVars } from "./config";
import { type JwtVerifier, createJwtVerifier } from "./jwt";
import { KeyCache } from "./key-cache";
import { type KeyRecord, findKeyBySecretHash, touchKey } from "./key-store";
import type { Principal } from "./principal";
import { ADMIN_SCOPE, METRICS_SCOPE } from "./scopes";
import { ThrottleMemory } from "./throttle";

/** A credential as presented: an API key (header `X-API-Key`, or a non-JWT bearer) or a JWT bearer. */
export type Credential = { type: "key"; secret: string } | { type: "jwt"; token: string };

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Reads the credential from `X-API-Key` or `Authorization: Bearer`; undefined when neither is present. */
export function readCredential(headers: Headers): Credential | undefined {
  const key = headers.get("X-API-Key");
  if (key) return { type: "key", secret: key };
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("Authorization") ?? "")?.[1];
  if (!bearer) return undefined;
  return JWT_SHAPE.test(bearer) ? { type: "jwt", token: bearer } : { type: "key", secret: bearer };
}

/** What one authentication needs from the request. */
export interface AuthContext {
  env: AccessVars & { ACCESS_DB?: D1Database };
  config: AccessConfig;
  logger: Logger;
  waitUntil(promise: Promise<unknown>): void;
}

/** Options for {@link Authenticator}. */
export interface AuthenticatorOptions {
  cache?: KeyCache;
  now?: () => number;
  /** A D1 lookup slower than this counts as D1 unavailable. */
  lookupTimeoutMs?: number;
  /** `last_used_at` is written at most this often per key per isolate. */
  touchEveryMs?: number;
  /** `fetch` for the JWKS (tests pass a double's). */
  fetch?: typeof fetch;
}

const unauthorized = (message: string) => new ZaharaError("UNAUTHORIZED", { message });

/** Longest JWT `sub` accepted. */
export const MAX_SUBJECT_CHARS = 256;

/**
 * A JWT principal's id: `jwt:<readable prefix>:<32 hex>`, the hex from the
 * SHA-256 of the issuer and the raw subject, so different subjects (or the
 * same subject from another issuer) never share an id, their rate cells,
 * stored idempotent answers or log identity. The prefix (up to 24 safe
 * characters of the subject) is only for people reading logs.
 */
export async function jwtPrincipalId(issuer: string, sub: string): Promise<string> {
  const readable = sub.replace(/[^A-Za-z0-9._@-]/g, "").slice(0, 24);
  return `jwt:${readable}:${toHex(await sha256(`${issuer}\u0000${sub}`)).slice(0, 32)}`;
}

/** Resolves credentials to principals, with the isolate's caches. */
export class Authenticator {
  /** What this isolate learnt from the failed-authentication throttle (blocked addresses, verified credentials). */
  readonly throttle = new ThrottleMemory();
  private readonly cache: KeyCache;
  private readonly now: () => number;
  private readonly lookupTimeoutMs: number;
  private readonly touchEveryMs: number;
  private readonly fetchFn: typeof fetch | undefined;
  private readonly touched = new Map<string, number>();
  private readonly parsed = new Map<string, ApiKeyEntry[]>();
  private jwt: { key: string; verifier: JwtVerifier } | undefined;

  constructor({
    cache = new KeyCache(),
    now = Date.now,
    lookupTimeoutMs = 2000,
    touchEveryMs = 60_000,
    fetch,
  }: AuthenticatorOptions = {}) {
    this.cache = cache;
    this.now = now;
    this.lookupTimeoutMs = lookupTimeoutMs;
    this.touchEveryMs = touchEveryMs;
    this.fetchFn = fetch;
  }

  /** The principal for `credential`; throws 401 `UNAUTHORIZED` (or 503 `AUTH_UNAVAILABLE`). */
  async authenticate(credential: Credential, ctx: AuthContext): Promise<Principal> {
    return credential.type === "jwt" ? this.fromJwt(credential.token, ctx) : this.fromKey(credential.secret, ctx);
  }

  private async fromKey(secret: string, ctx: AuthContext): Promise<Principal> {
    const digest = await sha256(secret);
    const bootstrap = await this.bootstrap(digest, ctx);
    if (bootstrap) return bootstrap;
    if (!secret.startsWith(MANAGED_KEY_PREFIX)) throw unauthorized("Invalid API key");
    const record = await this.lookup(toHex(digest), ctx);
    if (!record) throw unauthorized("Invalid API key");
    const now = this.now();
    if (record.revokedAt !== null) throw unauthorized("This API key has been revoked");
    if (record.expiresAt !== null && record.expiresAt <= now) throw unauthorized("This API key has expired");
    if (record.notAfter !== null && record.notAfter <= now)
      throw unauthorized("This API key was rotated and its grace period is over; use the new key");
    this.touch(record.id, now, ctx);
    return {
      id: record.id,
      kind: "managed",
      name: record.name,
      scopes: record.scopes,
      limits: {
        ...(record.rateLimit
          ? {
              rateLimit: {
                limit: record.rateLimit.requests_per_minute,
                periodMs: 60_000,
                burst: record.rateLimit.burst ?? record.rateLimit.requests_per_minute,
              },
            }
          : {}),
        ...(record.dailyTokenBudget !== null ? { maxTokensPerDay: record.dailyTokenBudget } : {}),
      },
    };
  }

  /** Checks the secret-configured keys (all of them, in constant time per entry). */
  private async bootstrap(digest: Uint8Array, { env, logger }: AuthContext): Promise<Principal | undefined> {
    const scopes: string[] = [];
    for (const [name, scope] of [
      ["GATEWAY_API_KEYS", "*"],
      ["ADMIN_API_KEYS", ADMIN_SCOPE],
      ["METRICS_SCRAPE_TOKEN", METRICS_SCOPE],
    ] as const) {
      const minChars = isLocalDevelopment(env) ? 0 : MIN_BOOTSTRAP_KEY_CHARS;
      if (matchesAny(digest, await this.entries(name, env[name], minChars, logger))) scopes.push(scope);
    }
    return scopes.length > 0 ? { id: keyIdOf(digest), kind: "bootstrap", scopes } : undefined;
  }

  private async entries(
    name: string,
    value: string | undefined,
    minChars: number,
    logger: Logger,
  ): Promise<ApiKeyEntry[]> {
    if (!value) return [];
    const cacheKey = `${minChars}\u0000${value}`;
    let entries = this.parsed.get(cacheKey);
    if (!entries) {
      const parsed = await parseApiKeys(value, minChars);
      if (parsed.malformed > 0)
        logger.error(`${name} has malformed sha256 entries; they are ignored`, { malformed: parsed.malformed });
      if (parsed.short > 0) {
        logger.error(
          `${name} has keys shorter than ${minChars} characters; they are refused outside local development`,
          { refused: parsed.short },
        );
      }
      entries = parsed.entries;
      if (this.parsed.size >= 8) this.parsed.clear();
      this.parsed.set(cacheKey, entries);
    }
    return entries;
  }

  /** The key record for a secret hash: fresh cache, else D1, else (D1 failing) a stale cached record. */
  private async lookup(hash: string, ctx: AuthContext): Promise<KeyRecord | null> {
    const now = this.now();
    const fresh = this.cache.fresh(hash, now, ctx.config.cacheTtlMs);
    if (fresh) return fresh.record;
    try {
      if (!ctx.env.ACCESS_DB) throw new Error("ACCESS_DB is not bound");
      const record = await withTimeout(
        findKeyBySecretHash(ctx.env.ACCESS_DB, hash),
        this.lookupTimeoutMs,
        "key store lookup timed out",
      );
      this.cache.set(hash, record, now);
      return record;
    } catch (error) {
      const stale = this.cache.stale(hash, now, ctx.config.cacheTtlMs);
      const reason = error instanceof TimeoutError ? "timeout" : error instanceof Error ? error.message : String(error);
      if (stale) {
        ctx.logger.warn("key store unavailable; using the cached key", { reason });
        return stale;
      }
      ctx.logger.error("key store unavailable; credential not checked", { reason });
      throw new ZaharaError("AUTH_UNAVAILABLE", { headers: { "Retry-After": "1" }, cause: error });
    }
  }

  private touch(id: string, now: number, ctx: AuthContext): void {
    const last = this.touched.get(id);
    if (last !== undefined && now - last < this.touchEveryMs) return;
    if (this.touched.size >= 10_000) this.touched.clear();
    this.touched.set(id, now);
    const db = ctx.env.ACCESS_DB;
    if (db)
      ctx.waitUntil(
        touchKey(db, id, now).catch((error) => ctx.logger.warn("last_used_at not recorded", { error: String(error) })),
      );
  }

  private async fromJwt(token: string, ctx: AuthContext): Promise<Principal> {
    const { jwt, jwtError } = ctx.config;
    if (jwtError) ctx.logger.error("JWT settings are incomplete; bearer tokens are refused", { problem: jwtError });
    if (!jwt) throw unauthorized("This gateway does not accept JWT bearer tokens; send an API key");
    const key = JSON.stringify(jwt);
    if (this.jwt?.key !== key)
      this.jwt = { key, verifier: createJwtVerifier(jwt, this.fetchFn ? { fetch: this.fetchFn } : {}) };
    const claims = await this.jwt.verifier.verify(token);
    const sub = String(claims.sub);
    // Refused rather than cleaned: two different subjects must never become one principal.
    // eslint-disable-next-line no-control-regex
    if (sub.length === 0 || sub.length > MAX_SUBJECT_CHARS || /[\u0000-\u001f\u007f]/.test(sub)) {
      throw unauthorized(`Token subject (sub) must be 1-${MAX_SUBJECT_CHARS} characters without control characters`);
    }
    return {
      id: await jwtPrincipalId(claims.iss, sub),
      kind: "jwt",
      name: sub,
      // A token states what it may call; the operator scopes (admin, metrics) belong to keys alone.
      scopes: (claims.capabilities ?? []).filter((scope) => scope !== ADMIN_SCOPE && scope !== METRICS_SCOPE),
      ...(claims.agents !== undefined ? { agents: claims.agents } : {}),
    };
  }
}
