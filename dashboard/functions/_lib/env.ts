/**
 * The dashboard Functions' bindings (dashboard/wrangler.toml and its secrets).
 * Written by hand rather than generated, so it never collides with the
 * gateway's global `Env` in code that sees both (the tests).
 */

/** How people sign in: Cloudflare Access in front of the site, or an admin key at /api/login. */
export type AuthMode = "access" | "login";

export interface DashboardEnv {
  /** Service binding to the gateway Worker (`zahara-gateway`). */
  GATEWAY: Fetcher;
  /** `access` (production, behind Cloudflare Access) or `login` (local; the default). */
  DASHBOARD_AUTH?: string;
  /** Access team domain, e.g. `myteam.cloudflareaccess.com` (access mode). */
  ACCESS_TEAM_DOMAIN?: string;
  /** The Access application's audience (AUD) tag (access mode). */
  ACCESS_AUD?: string;
  /** Link to a Jaeger UI shown by the dashboard; empty for none. */
  JAEGER_UI_URL?: string;
  /** The gateway's public URL, for the MCP and A2A addresses the Clinic shows; empty: shown as a placeholder. */
  GATEWAY_PUBLIC_URL?: string;
  /** `debug` | `info` | `warn` | `error`. */
  LOG_LEVEL?: string;
  /**
   * `production` (wrangler.toml) or `development` (.dev.vars under `npm run dev`): local development
   * accepts the committed development `SESSION_SECRET` and answers only loopback hosts (`localHostGuard`).
   */
  ZAHARA_ENV?: string;
  /** Local development: extra host names answered (comma-separated), e.g. for a test harness. */
  DEV_ALLOWED_HOSTS?: string;
  /** Secret: a gateway key with the admin scope, sent for `/v1/*` and `/metrics`. */
  GATEWAY_ADMIN_KEY?: string;
  /** Secret: a gateway caller key, sent for `/agents`, `/agents/*`, `/execute`, `/health`. */
  GATEWAY_CALLER_KEY?: string;
  /** Secret: HMAC-SHA256 key of the session cookie (login mode), at least 32 bytes. */
  SESSION_SECRET?: string;
}

/** Secret values of `env`, redacted from every log line and every proxied answer. */
export function serverSecrets(env: Partial<DashboardEnv>): string[] {
  return [env.GATEWAY_ADMIN_KEY, env.GATEWAY_CALLER_KEY, env.SESSION_SECRET].filter(
    (s): s is string => typeof s === "string" && s.length > 0,
  );
}

/** The configured auth mode; throws (a 500) on a value that is neither mode, so a typo never opens the dashboard. */
export function authMode(env: Partial<DashboardEnv>): AuthMode {
  const mode = (env.DASHBOARD_AUTH ?? "").trim().toLowerCase() || "login";
  if (mode !== "access" && mode !== "login")
    throw new Error(`DASHBOARD_AUTH must be "access" or "login", not ${JSON.stringify(mode.slice(0, 32))}`);
  return mode;
}

/** Who is signed in (set by the guard on every route behind it). */
export interface DashboardUser {
  /** Stable id: an Access user's `sub`, or in login mode the gateway principal id of the admin key that signed in. */
  sub: string;
  /** An Access user's e-mail. */
  email?: string;
  /** When the session (cookie or Access token) ends, epoch seconds. */
  exp: number;
}

/** The Hono environment of the dashboard API. */
export interface DashboardHono {
  Bindings: DashboardEnv;
  /** `sessionId`: in login mode, the gateway session the cookie names (logout revokes it); never logged. */
  Variables: { user: DashboardUser; mode: AuthMode; sessionId: string | undefined };
}
