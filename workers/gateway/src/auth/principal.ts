/**
 * Who is calling: the principal a credential resolved to. Set on the context
 * by {@link authenticate}; every later check reads it. It carries ids and
 * scopes, never the credential.
 */
import type { KeyLimits } from "../../../../durable-objects/upstream-guard/src/types";
import type { ScopeHolder } from "./scopes";

/** Limits a managed key carries, enforced per (key, agent) by the upstream guard. */
export type PrincipalLimits = KeyLimits;

/** An authenticated caller. */
export interface Principal extends ScopeHolder {
  /**
   * Id for logs, limits, the request log and the audit log: a managed key's
   * `key_<16 hex>`, a secret-configured key's `key_<12 hex of its SHA-256>`,
   * or `jwt:<readable sub prefix>:<32 hex of SHA-256(iss, sub)>`. Never a secret.
   */
  id: string;
  /** `bootstrap`: from GATEWAY_API_KEYS / ADMIN_API_KEYS / METRICS_SCRAPE_TOKEN; `managed`: from D1; `jwt`: a bearer token. */
  kind: "bootstrap" | "managed" | "jwt";
  /** A managed key's name, or a JWT's `sub`. */
  name?: string;
  limits?: PrincipalLimits;
}

declare module "hono" {
  interface ContextVariableMap {
    /** The authenticated caller, on routes behind `authenticate()`. */
    principal: Principal;
    /** The principal's id (see {@link Principal.id}), for logs. Never a key. */
    keyId: string;
  }
}
