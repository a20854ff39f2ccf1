/** Middleware requiring a valid `X-API-Key` (see {@link checkApiKey}). */
import { createMiddleware } from "hono/factory";
import { ZaharaError } from "../../../shared/errors";
import type { GatewayVars } from "../config";
import { checkApiKey, parseApiKeys } from "./api-keys";

declare module "hono" {
  interface ContextVariableMap {
    /** Non-reversible id of the caller's key, for logs. Never the key. */
    keyId: string;
  }
}

/** Options for {@link apiKeyAuth}. */
export interface ApiKeyAuthOptions {
  /** Header carrying the key. */
  header?: string;
}

/** Creates the API-key middleware. Missing or wrong key → 401 `UNAUTHORIZED`. */
export function apiKeyAuth({ header = "X-API-Key" }: ApiKeyAuthOptions = {}) {
  if (!header.trim()) throw new TypeError("apiKeyAuth: `header` must be a header name");
  return createMiddleware<{ Bindings: GatewayVars }>(async function apiKeyAuth(c, next) {
    const presented = c.req.header(header);
    if (!presented) {
      throw new ZaharaError("UNAUTHORIZED", { message: `Missing API key: send it in the ${header} header` });
    }
    const { entries, malformed } = await parseApiKeys(c.env.GATEWAY_API_KEYS);
    if (malformed > 0) c.get("logger").error("GATEWAY_API_KEYS has malformed sha256 entries", { malformed });
    if (entries.length === 0) c.get("logger").error("GATEWAY_API_KEYS is empty: every request is refused");
    const { valid, keyId } = await checkApiKey(presented, entries);
    if (!valid) throw new ZaharaError("UNAUTHORIZED", { message: "Invalid API key" });
    c.set("keyId", keyId);
    c.get("logFields").key_id = keyId;
    await next();
  });
}
