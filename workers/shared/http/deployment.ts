/**
 * Where a Worker runs: local development or a deployment. `ZAHARA_ENV` is
 * `production` in every wrangler config's vars and `development` in the
 * `.dev.vars` files `npm run dev` creates, so a Worker deployed without it
 * set gets the strict behaviour, never the lenient one.
 *
 * Local development relaxes what a deployment refuses (short bootstrap keys,
 * the committed development `SESSION_SECRET`), and tightens one thing a
 * deployment does not need: {@link localHostGuard} answers only requests
 * addressed to the loopback names, so a web page cannot reach a developer's
 * gateway or dashboard through DNS rebinding (the page's own host name
 * resolving to 127.0.0.1). Calls over service bindings use internal names
 * (`https://gateway/...`, `https://<agent>.agent.internal/...`), which no
 * public DNS name can take, so they pass.
 */
import { createMiddleware } from "hono/factory";
import { ZaharaError } from "../errors";

/** The vars that say where a Worker runs. */
export interface DeploymentVars {
  /** `development` under `npm run dev`; anything else (the default `production`) is a deployment. */
  ZAHARA_ENV?: string;
  /** Extra host names local development answers (comma-separated), e.g. for a test harness. */
  DEV_ALLOWED_HOSTS?: string;
}

/** True only when `ZAHARA_ENV` is exactly `development`. */
export function isLocalDevelopment(env: DeploymentVars | undefined): boolean {
  return (env?.ZAHARA_ENV ?? "").trim().toLowerCase() === "development";
}

/** Host names local development always answers. */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
/** Internal names of service-binding calls: single-label `gateway`, and `*.internal`. */
const INTERNAL = /^(?:gateway|[a-z0-9.-]+\.internal)$/;

/** The host name of a `Host` header value, lower-cased, without its port. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.indexOf(":");
  return colon === -1 ? h : h.slice(0, colon);
}

/** Whether local development answers a request addressed to `host`. */
export function hostAllowed(host: string, extra: readonly string[] = []): boolean {
  const name = hostName(host);
  return LOOPBACK.has(name) || INTERNAL.test(name) || extra.includes(name);
}

/**
 * In local development, refuses (403 `FORBIDDEN`) a request whose `Host` is
 * not a loopback or internal name (or one of `DEV_ALLOWED_HOSTS`). Does
 * nothing in a deployment.
 */
export function localHostGuard() {
  return createMiddleware<{ Bindings: DeploymentVars }>(async function localHostGuard(c, next) {
    if (isLocalDevelopment(c.env)) {
      const extra = (c.env?.DEV_ALLOWED_HOSTS ?? "")
        .split(",")
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean);
      const host = c.req.header("Host") ?? new URL(c.req.url).host;
      if (!hostAllowed(host, extra)) {
        throw new ZaharaError("FORBIDDEN", {
          message: "Local development answers only localhost, 127.0.0.1 and [::1] (DNS rebinding protection)",
        });
      }
    }
    await next();
  });
}
