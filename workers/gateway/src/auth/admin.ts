/**
 * Admin access for operator endpoints (`/metrics`, `/v1/stats`,
 * `/v1/requests`): an `X-API-Key` listed in the `ADMIN_API_KEYS` secret, or,
 * where the route allows it, `Authorization: Bearer <METRICS_SCRAPE_TOKEN>`
 * (so a Prometheus scraper holds no admin key). A valid caller key that is
 * not an admin key gets 403; anything else 401.
 */
import { createMiddleware } from "hono/factory";
import { ZaharaError } from "../../../shared/errors";
import { checkApiKey, parseApiKeys } from "./api-keys";

/** Secrets the admin middleware reads. */
export interface AdminVars {
  GATEWAY_API_KEYS?: string;
  ADMIN_API_KEYS?: string;
  METRICS_SCRAPE_TOKEN?: string;
}

/** Options for {@link adminAuth}. */
export interface AdminAuthOptions {
  /** Also accept `Authorization: Bearer <METRICS_SCRAPE_TOKEN>`. */
  allowScrapeToken?: boolean;
}

/** Creates the admin middleware. */
export function adminAuth({ allowScrapeToken = false }: AdminAuthOptions = {}) {
  return createMiddleware<{ Bindings: AdminVars }>(async function adminAuth(c, next) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
    if (allowScrapeToken && bearer !== undefined && c.env.METRICS_SCRAPE_TOKEN) {
      const { entries } = await parseApiKeys(c.env.METRICS_SCRAPE_TOKEN);
      const check = await checkApiKey(bearer, entries);
      if (check.valid) {
        c.set("keyId", check.keyId);
        c.get("logFields").key_id = check.keyId;
        return next();
      }
      throw new ZaharaError("UNAUTHORIZED", { message: "Invalid scrape token" });
    }
    const presented = c.req.header("X-API-Key");
    if (!presented) throw new ZaharaError("UNAUTHORIZED", { message: "Missing admin API key: send it in the X-API-Key header" });
    const admin = await checkApiKey(presented, (await parseApiKeys(c.env.ADMIN_API_KEYS)).entries);
    c.get("logFields").key_id = admin.keyId;
    if (admin.valid) {
      c.set("keyId", admin.keyId);
      return next();
    }
    const caller = await checkApiKey(presented, (await parseApiKeys(c.env.GATEWAY_API_KEYS)).entries);
    if (caller.valid) throw new ZaharaError("FORBIDDEN", { message: "This endpoint needs an admin API key" });
    throw new ZaharaError("UNAUTHORIZED", { message: "Invalid API key" });
  });
}
