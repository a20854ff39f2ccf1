/**
 * JWT bearer credentials (`Authorization: Bearer <JWT>`), verified with WebCrypto only: HS256 with a
 * shared secret, or RS256/ES256 with a key from a JWKS URL; issuer, audience, expiry and not-before are
 * checked. The accepted algorithms follow from the configuration alone, never from the token, so an
 * HS256 token is never checked with a JWKS key nor an RS256/ES256 token with the HMAC secret (no alg
 * confusion), and `none` is never accepted. {@link isAllowed} is the scope check a route applies.
 */
import { ZaharaError } from "../../../shared/errors";
import { allowsCall } from "./scopes";

/** What {@link createJwtVerifier} needs. At least one of `hs256Secret` / `jwksUrl`. */
export interface JwtVerifierConfig {
  /** Required `iss` claim, compared exactly. */
  issuer: string;
  /** This gateway's audience: `aud` (string or array) must contain it. */
  audience: string;
  /** HMAC secret (UTF-8, at least 32 bytes); enables HS256. */
  hs256Secret?: string;
  /** JWKS endpoint (https, or http on localhost); enables RS256 and ES256. */
  jwksUrl?: string;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockToleranceSec?: number;
  /** How long a fetched JWKS is reused, in ms. Default 300000 (5 min). */
  jwksCacheMs?: number;
}

/** The verified claims (registered claims as in RFC 7519; `agent_id` names the calling agent, OSSA-style). */
export interface JwtClaims {
  sub: string;
  iss: string;
  aud: string | string[];
  exp: number;
  nbf?: number;
  iat?: number;
  agent_id?: string;
  /** Agents this credential may call; absent = any agent (capabilities still apply). */
  agents?: string[];
  /** What may be called; see {@link isAllowed}. Absent = nothing. */
  capabilities?: string[];
  /** OAuth-style space-separated scope, carried but not used by {@link isAllowed}. */
  scope?: string;
  [claim: string]: unknown;
}

/** Injectable dependencies: `fetch` for the JWKS (default global fetch), `now` in epoch ms (default `Date.now`). */
export interface JwtVerifierDeps {
  fetch?: typeof fetch;
  now?: () => number;
}

/** A configured verifier. */
export interface JwtVerifier {
  /** Verifies `token` (without the `Bearer ` prefix); throws 401 `UNAUTHORIZED` on any failure. */
  verify(token: string): Promise<JwtClaims>;
}

/** Largest token accepted, in bytes (characters: a valid token is ASCII). */ export const MAX_JWT_BYTES = 8192;
/** JWKS fetch timeout, in ms. */ export const JWKS_TIMEOUT_MS = 2000;
/** Minimum interval between JWKS refetches forced by an unknown `kid`, in ms. */ export const JWKS_REFETCH_INTERVAL_MS = 30_000;

type Alg = "HS256" | "RS256" | "ES256";
type Jwk = Record<string, unknown>;
const B64URL = /^[A-Za-z0-9_-]+$/;
const ALGS: Record<"RS256" | "ES256", { import: SubtleCryptoImportKeyAlgorithm; verify: SubtleCryptoSignAlgorithm }> = {
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: { name: "RSASSA-PKCS1-v1_5" } },
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } },
};

function fail(message: string, cause?: unknown): never {
  throw new ZaharaError("UNAUTHORIZED", { message, cause });
}

function b64urlBytes(part: string): Uint8Array {
  if (!B64URL.test(part) || part.length % 4 === 1) fail("Malformed token: a part is not base64url");
  const bin = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

function jsonObject(part: string, what: string): Record<string, unknown> {
  const bytes = b64urlBytes(part);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    fail(`Malformed token: the ${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail(`Malformed token: the ${what} is not an object`);
  return value as Record<string, unknown>;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/**
 * Reads the JWT settings from env. Returns undefined when none of them is set
 * (JWT auth off); throws when they are set but incomplete, so a half-configured
 * deployment fails loudly instead of silently dropping JWT auth.
 */
export function resolveJwtConfig(
  env: Partial<Record<"JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_HS256_SECRET" | "JWT_JWKS_URL", string>>,
): JwtVerifierConfig | undefined {
  const issuer = env.JWT_ISSUER?.trim() ?? "";
  const audience = env.JWT_AUDIENCE?.trim() ?? "";
  const hs256Secret = env.JWT_HS256_SECRET ?? "";
  const jwksUrl = env.JWT_JWKS_URL?.trim() ?? "";
  if (!issuer && !audience && !hs256Secret && !jwksUrl) return undefined;
  const config: JwtVerifierConfig = {
    issuer,
    audience,
    ...(hs256Secret && { hs256Secret }),
    ...(jwksUrl && { jwksUrl }),
  };
  validateConfig(config);
  return config;
}

function validateConfig(config: JwtVerifierConfig): void {
  const missing = [!config.issuer && "JWT_ISSUER", !config.audience && "JWT_AUDIENCE"].filter(Boolean);
  if (missing.length) throw new Error(`JWT auth is misconfigured: ${missing.join(" and ")} must be set`);
  if (!config.hs256Secret && !config.jwksUrl)
    throw new Error("JWT auth is misconfigured: set JWT_HS256_SECRET or JWT_JWKS_URL");
  if (config.hs256Secret && new TextEncoder().encode(config.hs256Secret).length < 32)
    throw new Error("JWT auth is misconfigured: JWT_HS256_SECRET must be at least 32 bytes");
  if (config.jwksUrl) {
    const url = URL.canParse(config.jwksUrl) ? new URL(config.jwksUrl) : undefined;
    const local = url && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
    if (!url || (url.protocol !== "https:" && !(url.protocol === "http:" && local)))
      throw new Error("JWT auth is misconfigured: JWT_JWKS_URL must be an https URL");
  }
}

/**
 * Creates a verifier for `config`. The JWKS is fetched lazily, cached for
 * `jwksCacheMs`, and refetched early (at most once per 30 s) when a token
 * names an unknown `kid`. Throws a plain Error when `config` is invalid.
 */
export function createJwtVerifier(config: JwtVerifierConfig, deps: JwtVerifierDeps = {}): JwtVerifier {
  validateConfig(config);
  const doFetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const now = deps.now ?? Date.now;
  const tolerance = config.clockToleranceSec ?? 30;
  const cacheMs = config.jwksCacheMs ?? 300_000;
  const allowed = new Set<Alg>([
    ...(config.hs256Secret ? (["HS256"] as const) : []),
    ...(config.jwksUrl ? (["RS256", "ES256"] as const) : []),
  ]);
  let hmacKey: Promise<CryptoKey> | undefined;
  let jwks: { keys: Jwk[]; fetchedAt: number } | undefined;
  let inflight: Promise<Jwk[]> | undefined;
  const imported = new Map<string, Promise<CryptoKey>>();

  async function fetchJwks(url: string): Promise<Jwk[]> {
    const init = { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(JWKS_TIMEOUT_MS) };
    const res = await doFetch(url, init).catch((err: unknown) =>
      fail("Signing keys unavailable: the JWKS endpoint could not be reached", err),
    );
    if (!res.ok) fail(`Signing keys unavailable: the JWKS endpoint answered ${res.status}`);
    const body: unknown = await res
      .json()
      .catch((err: unknown) => fail("Signing keys unavailable: the JWKS is not JSON", err));
    const keys = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) fail("Signing keys unavailable: the JWKS has no keys array");
    jwks = { keys: keys.filter((k): k is Jwk => typeof k === "object" && k !== null), fetchedAt: now() };
    imported.clear();
    return jwks.keys;
  }

  function loadJwks(url: string, force: boolean): Promise<Jwk[]> {
    if (!force && jwks && now() - jwks.fetchedAt < cacheMs) return Promise.resolve(jwks.keys);
    inflight ??= fetchJwks(url).finally(() => (inflight = undefined));
    return inflight;
  }

  async function jwksKey(url: string, alg: "RS256" | "ES256", kid: unknown): Promise<CryptoKey> {
    if (typeof kid !== "string" || !kid) fail("Token header has no kid");
    const find = (keys: Jwk[]) => keys.find((k) => k.kid === kid);
    let jwk = find(await loadJwks(url, false));
    if (!jwk && jwks && now() - jwks.fetchedAt >= JWKS_REFETCH_INTERVAL_MS) jwk = find(await loadJwks(url, true));
    if (!jwk) fail("Token signed with an unknown key (kid)");
    const rsa = alg === "RS256";
    if (rsa ? jwk.kty !== "RSA" : jwk.kty !== "EC" || jwk.crv !== "P-256")
      fail(`Key ${kid} is not a ${rsa ? "RSA" : "P-256"} key, as ${alg} needs`);
    if (jwk.alg !== undefined && jwk.alg !== alg) fail(`Key ${kid} is for ${String(jwk.alg)}, not ${alg}`);
    if (jwk.use !== undefined && jwk.use !== "sig") fail(`Key ${kid} is not a signing key`);
    let key = imported.get(`${alg}:${kid}`);
    if (!key) {
      // Only the public members: a JWK leaking `d` must not turn into a private key.
      const pub = rsa ? { kty: "RSA", n: jwk.n, e: jwk.e } : { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
      key = crypto.subtle.importKey("jwk", pub as JsonWebKey, ALGS[alg].import, false, ["verify"]);
      imported.set(`${alg}:${kid}`, key); // cleared on every JWKS fetch
    }
    return key.catch((err: unknown) => fail(`Key ${kid} could not be imported`, err));
  }

  function checkClaims(c: Record<string, unknown>): JwtClaims {
    const t = now() / 1000;
    if (typeof c.exp !== "number" || !Number.isFinite(c.exp)) fail("Token has no exp claim");
    if (t >= c.exp + tolerance) fail("Token has expired");
    if (c.nbf !== undefined && (typeof c.nbf !== "number" || t + tolerance < c.nbf))
      fail("Token is not valid yet (nbf)");
    if (c.iat !== undefined && (typeof c.iat !== "number" || c.iat > t + tolerance))
      fail("Token was issued in the future (iat)");
    if (c.iss !== config.issuer) fail("Token issuer (iss) is not accepted");
    const aud = typeof c.aud === "string" ? [c.aud] : isStringArray(c.aud) ? c.aud : [];
    if (!aud.includes(config.audience)) fail("Token audience (aud) does not include this gateway");
    if (typeof c.sub !== "string" || !c.sub) fail("Token has no sub claim");
    if (c.agent_id !== undefined && typeof c.agent_id !== "string") fail("Token claim agent_id must be a string");
    if (c.agents !== undefined && !isStringArray(c.agents)) fail("Token claim agents must be an array of strings");
    if (c.capabilities !== undefined && !isStringArray(c.capabilities))
      fail("Token claim capabilities must be an array of strings");
    if (c.scope !== undefined && typeof c.scope !== "string") fail("Token claim scope must be a string");
    return c as JwtClaims;
  }

  return {
    async verify(token: string): Promise<JwtClaims> {
      if (typeof token !== "string" || !token) fail("Missing token");
      if (token.length > MAX_JWT_BYTES) fail(`Token is larger than ${MAX_JWT_BYTES} bytes`);
      const parts = token.split(".");
      if (parts.length !== 3) fail("Malformed token: expected three dot-separated parts");
      const [h, p, s] = parts as [string, string, string];
      const header = jsonObject(h, "header");
      const alg = header.alg;
      if (typeof alg !== "string" || !allowed.has(alg as Alg)) {
        const shown = typeof alg === "string" && /^[A-Za-z0-9]{1,16}$/.test(alg) ? ` ${alg}` : "";
        fail(`Token algorithm${shown} is not accepted (accepted: ${[...allowed].join(", ")})`);
      }
      if (header.crit !== undefined) fail("Token header has crit extensions, which are not supported");
      const payload = jsonObject(p, "payload");
      const signature = b64urlBytes(s);
      const data = new TextEncoder().encode(`${h}.${p}`);
      let ok: boolean;
      try {
        if (alg === "HS256") {
          hmacKey ??= crypto.subtle.importKey(
            "raw",
            new TextEncoder().encode(config.hs256Secret),
            { name: "HMAC", hash: "SHA-256" },
            false,
            ["verify"],
          );
          ok = await crypto.subtle.verify("HMAC", await hmacKey, signature, data);
        } else {
          const a = alg as "RS256" | "ES256";
          const key = await jwksKey(config.jwksUrl as string, a, header.kid);
          ok =
            (a !== "ES256" || signature.length === 64) &&
            (await crypto.subtle.verify(ALGS[a].verify, key, signature, data));
        }
      } catch (err) {
        if (err instanceof ZaharaError) throw err;
        fail("Token signature could not be checked", err);
      }
      if (!ok) fail("Token signature is invalid");
      return checkClaims(payload);
    },
  };
}

/**
 * True when `claims` may call `capability` on `agent` (see {@link allowsCall}):
 * `agents` (if present) must list `agent` (or `"*"`), and one `capabilities`
 * entry must match. No `capabilities` claim allows nothing: fail closed.
 * `agent_id` and `scope` are not consulted.
 */
export function isAllowed(
  claims: Pick<JwtClaims, "agents" | "capabilities">,
  agent: string,
  capability: string,
): boolean {
  return allowsCall({ scopes: claims.capabilities ?? [], agents: claims.agents }, agent, capability);
}
