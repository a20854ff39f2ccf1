/**
 * Access-control settings: the environment as given (vars and secrets) and
 * resolved with defaults.
 */
import type { DeploymentVars } from "../../../shared/http/deployment";
import type { JwtVerifierConfig } from "./jwt";
import { resolveJwtConfig } from "./jwt";

/** The vars and secrets authentication reads (`ZAHARA_ENV`: short bootstrap keys only in local development). */
export interface AccessVars extends DeploymentVars {
  GATEWAY_API_KEYS?: string;
  ADMIN_API_KEYS?: string;
  METRICS_SCRAPE_TOKEN?: string;
  AUTH_CACHE_TTL_MS?: string;
  AUTH_FAILURE_LIMIT?: string;
  AUTH_FAILURE_WINDOW_SECONDS?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  JWT_HS256_SECRET?: string;
  JWT_JWKS_URL?: string;
}

/** Defaults of {@link AccessConfig}. */
export const ACCESS_DEFAULTS = {
  /** Revocation bound: a verified managed key is reused this long in an isolate. */
  cacheTtlMs: 5000,
  failureLimit: 20,
  failureWindowMs: 60_000,
} as const;

/** Access-control settings resolved with defaults. */
export interface AccessConfig {
  cacheTtlMs: number;
  failureLimit: number;
  failureWindowMs: number;
  /** JWT verification; undefined = JWTs are not accepted. */
  jwt: JwtVerifierConfig | undefined;
  /** Set when the JWT settings are present but incomplete (JWTs are then refused). */
  jwtError?: string;
}

function bounded(value: string | undefined, fallback: number, min: number, max: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isFinite(n) && n >= min && n <= max
    ? Math.floor(n)
    : fallback;
}

/** Resolves the access settings; a cache TTL is capped at 60 s so revocation stays prompt. */
export function resolveAccessConfig(env: AccessVars): AccessConfig {
  let jwt: JwtVerifierConfig | undefined;
  let jwtError: string | undefined;
  try {
    jwt = resolveJwtConfig(env);
  } catch (error) {
    jwtError = error instanceof Error ? error.message : String(error);
  }
  return {
    cacheTtlMs: bounded(env.AUTH_CACHE_TTL_MS, ACCESS_DEFAULTS.cacheTtlMs, 0, 60_000),
    failureLimit: bounded(env.AUTH_FAILURE_LIMIT, ACCESS_DEFAULTS.failureLimit, 1, 1_000_000),
    failureWindowMs: bounded(env.AUTH_FAILURE_WINDOW_SECONDS, ACCESS_DEFAULTS.failureWindowMs / 1000, 1, 86_400) * 1000,
    jwt,
    ...(jwtError !== undefined ? { jwtError } : {}),
  };
}
