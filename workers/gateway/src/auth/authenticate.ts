/**
 * The authentication and authorization middleware of the gateway.
 *
 * {@link authenticate} resolves the credential (`X-API-Key`, or
 * `Authorization: Bearer` with an API key or a JWT) to a {@link Principal}
 * and redacts the credential from every later log line. A presented but
 * invalid credential is counted against the client address; past
 * `AUTH_FAILURE_LIMIT` per window the answer is 429 instead of 401. Valid
 * credentials never touch that counter, so they are never locked out.
 *
 * {@link requireScope} and {@link authorizeCall} then answer 403 `FORBIDDEN`
 * to a valid credential outside its scope.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AuthThrottle } from "../../../../durable-objects/auth-throttle/src";
import { ZaharaError } from "../../../shared/errors";
import { retryAfterSeconds } from "../../../../durable-objects/upstream-guard/src/policies";
import type { Authenticator } from "./authenticator";
import { readCredential } from "./authenticator";
import { type AccessVars, resolveAccessConfig } from "./config";
import type { Principal } from "./principal";
import { ADMIN_SCOPE, METRICS_SCOPE, allowsCall, hasScope } from "./scopes";
import { clientAddress, recordAuthFailure } from "./throttle";

/** Bindings the auth middleware uses. */
export interface AuthBindings extends AccessVars {
  ACCESS_DB?: D1Database;
  AUTH_THROTTLE?: DurableObjectNamespace<AuthThrottle>;
}

/** Creates the middleware that requires a valid credential (401 otherwise, 429 after repeated failures). */
export function authenticate(authenticator: Authenticator) {
  return createMiddleware<{ Bindings: AuthBindings }>(async function authenticate(c, next) {
    const credential = readCredential(c.req.raw.headers);
    if (!credential) {
      throw new ZaharaError("UNAUTHORIZED", { message: "Missing credential: send an API key in X-API-Key, or Authorization: Bearer <API key or JWT>" });
    }
    const secret = credential.type === "key" ? credential.secret : credential.token;
    const logger = c.get("logger").redacting([secret]);
    c.set("logger", logger);
    const config = resolveAccessConfig(c.env);
    let principal: Principal;
    try {
      principal = await authenticator.authenticate(credential, { env: c.env, config, logger, waitUntil: (p) => c.executionCtx.waitUntil(p) });
    } catch (error) {
      if (error instanceof ZaharaError && error.code === "UNAUTHORIZED") await throttle(c, config);
      throw error;
    }
    c.set("principal", principal);
    c.set("keyId", principal.id);
    c.get("logFields").key_id = principal.id;
    await next();
  });
}

async function throttle(c: Context<{ Bindings: AuthBindings }>, config: { failureLimit: number; failureWindowMs: number }): Promise<void> {
  const address = clientAddress(c.req.raw.headers);
  const decision = await recordAuthFailure(c.env.AUTH_THROTTLE, address, { limit: config.failureLimit, windowMs: config.failureWindowMs }, c.get("logger"), c.get("doCalls"));
  if (decision?.limited) {
    c.get("logger").warn("failed authentications limited", { client_ip: address });
    throw new ZaharaError("TOO_MANY_AUTH_FAILURES", {
      message: "Too many failed authentication attempts from this address; valid credentials are still accepted",
      headers: { "Retry-After": String(retryAfterSeconds(decision.retryAfterMs)) },
    });
  }
}

/** Creates a middleware that requires `scope` (`admin`, or `metrics` which `admin` includes); 403 otherwise. */
export function requireScope(scope: typeof ADMIN_SCOPE | typeof METRICS_SCOPE) {
  if (scope !== ADMIN_SCOPE && scope !== METRICS_SCOPE) throw new TypeError(`requireScope: unknown scope "${String(scope)}"`);
  return createMiddleware(async function requireScope(c, next) {
    const principal = c.get("principal");
    if (!principal) throw new Error("requireScope must run after authenticate()");
    if (!hasScope(principal.scopes, scope)) throw new ZaharaError("FORBIDDEN", { message: `This endpoint needs a credential with the "${scope}" scope` });
    await next();
  });
}

/** Throws 403 `FORBIDDEN` unless `principal` may call `capability` on `agent`. */
export function authorizeCall(principal: Principal, agent: string, capability: string): void {
  if (!allowsCall(principal, agent, capability)) {
    throw new ZaharaError("FORBIDDEN", { message: `This credential may not call "${capability}" on agent "${agent}"`, details: { agent, capability } });
  }
}
