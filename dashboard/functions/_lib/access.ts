/**
 * Cloudflare Access (DASHBOARD_AUTH=access): Access signs every request it
 * lets through with an RS256 JWT in `Cf-Access-Jwt-Assertion`. It is checked
 * with the gateway's WebCrypto verifier (`createJwtVerifier`): signature
 * against the team's JWKS at `https://<team domain>/cdn-cgi/access/certs`,
 * `iss` = `https://<team domain>`, `aud` containing `ACCESS_AUD`, `exp`/`nbf`/
 * `iat` with 30 s of leeway, and a non-empty `sub`. Only RS256 is accepted
 * (Access signs with RS256), so an ES256 key in the same JWKS is never used.
 */
import {
  type JwtClaims,
  type JwtVerifier,
  type JwtVerifierDeps,
  createJwtVerifier,
} from "../../../workers/gateway/src/auth/jwt";
import { ZaharaError } from "../../../workers/shared/errors";
import type { DashboardEnv } from "./env";

/** Request header Access puts its JWT in. */
export const ACCESS_JWT_HEADER = "Cf-Access-Jwt-Assertion";

/** Where people sign out of Access (on the dashboard's own host). */
export const ACCESS_LOGOUT_PATH = "/cdn-cgi/access/logout";

/** The Access settings. */
export interface AccessConfig {
  /** Team domain without scheme or trailing slash, e.g. `myteam.cloudflareaccess.com`. */
  teamDomain: string;
  /** The application's AUD tag. */
  audience: string;
}

/** Reads ACCESS_TEAM_DOMAIN and ACCESS_AUD; throws (a 500: fail closed) when either is missing or malformed. */
export function resolveAccessConfig(env: Pick<DashboardEnv, "ACCESS_TEAM_DOMAIN" | "ACCESS_AUD">): AccessConfig {
  const teamDomain = (env.ACCESS_TEAM_DOMAIN ?? "")
    .trim()
    .replace(/^https:\/\//i, "")
    .replace(/\/+$/, "");
  const audience = (env.ACCESS_AUD ?? "").trim();
  if (!teamDomain || !audience)
    throw new Error("DASHBOARD_AUTH is access: ACCESS_TEAM_DOMAIN and ACCESS_AUD must be set");
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(teamDomain))
    throw new Error("ACCESS_TEAM_DOMAIN must be a host name such as myteam.cloudflareaccess.com");
  return { teamDomain, audience };
}

/** The verifier settings for an Access application. */
export function accessJwtConfig({ teamDomain, audience }: AccessConfig) {
  return { issuer: `https://${teamDomain}`, audience, jwksUrl: `https://${teamDomain}/cdn-cgi/access/certs` };
}

/** Who Access let in. */
export interface AccessIdentity {
  sub: string;
  email?: string;
  exp: number;
}

/**
 * Verifiers per Access configuration, each keeping its JWKS cache (5 min, an
 * unknown `kid` refetches at most every 30 s). One instance per isolate.
 */
export class AccessVerifiers {
  private readonly verifiers = new Map<string, JwtVerifier>();

  /** `deps.fetch` fetches the JWKS (default: global fetch); `deps.now` is the clock. */
  constructor(private readonly deps: JwtVerifierDeps = {}) {}

  /** Verifies an Access JWT; throws 401 `UNAUTHORIZED` when it is missing or not valid. */
  async verify(token: string | null | undefined, config: AccessConfig): Promise<AccessIdentity> {
    if (!token)
      throw new ZaharaError("UNAUTHORIZED", {
        message: `Missing ${ACCESS_JWT_HEADER}: sign in through Cloudflare Access`,
      });
    if (headerAlg(token) !== "RS256")
      throw new ZaharaError("UNAUTHORIZED", { message: "Access token algorithm is not accepted (accepted: RS256)" });
    const key = `${config.teamDomain}\n${config.audience}`;
    let verifier = this.verifiers.get(key);
    if (!verifier) {
      verifier = createJwtVerifier(accessJwtConfig(config), this.deps);
      this.verifiers.set(key, verifier);
    }
    const claims: JwtClaims = await verifier.verify(token);
    return {
      sub: claims.sub,
      exp: claims.exp,
      ...(typeof claims.email === "string" && claims.email ? { email: claims.email } : {}),
    };
  }
}

/** The `alg` of a JWT's header, or undefined when it cannot be read (the verifier then rejects the token). */
function headerAlg(token: string): string | undefined {
  const head = token.split(".", 1)[0] ?? "";
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(head)) return undefined;
  try {
    const header: unknown = JSON.parse(atob(head.replace(/-/g, "+").replace(/_/g, "/")));
    const alg = (header as { alg?: unknown } | null)?.alg;
    return typeof alg === "string" ? alg : undefined;
  } catch {
    return undefined;
  }
}
