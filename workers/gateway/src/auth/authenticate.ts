/**
 * The authentication and authorization middleware of the gateway.
 *
 * {@link authenticate} resolves the credential (`X-API-Key`, or
 * `Authorization: Bearer` with an API key or a JWT) to a {@link Principal}
 * and redacts the credential from every later log line. A presented but
 * invalid credential is counted against the client address; past
 * `AUTH_FAILURE_LIMIT` per window the address is refused with 429 before its
 * credential is even checked, unless this isolate has verified that credential
 * before (see throttle.ts): a right guess must look like a wrong one.
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
import { sha256, toHex } from "./api-keys";
import { type AccessVars, resolveAccessConfig } from "./config";
import type { Principal } from "./principal";
import { ADMIN_SCOPE, METRICS_SCOPE, allowsCall, hasScope } from "./scopes";
import { type AddressVars, type ThrottleMemory, askAuthThrottle, clientAddress } from "./throttle";

/** Bindings the auth middleware uses. */
export interface AuthBindings extends AccessVars, AddressVars {
  ACCESS_DB?: D1Database;
  AUTH_THROTTLE?: DurableObjectNamespace<AuthThrottle>;
}

function tooManyFailures(retryAfterMs: number): ZaharaError {
  return new ZaharaError("TOO_MANY_AUTH_FAILURES", {
    message: "Too many failed authentication attempts from this address; try again later",
    headers: { "Retry-After": String(retryAfterSeconds(retryAfterMs)) },
  });
}

/** Creates the middleware that requires a valid credential (401 otherwise, 429 after repeated failures). */
export function authenticate(authenticator: Authenticator) {
  const memory = authenticator.throttle;
  return createMiddleware<{ Bindings: AuthBindings }>(async function authenticate(c, next) {
    const credential = readCredential(c.req.raw.headers);
    if (!credential) {
      throw new ZaharaError("UNAUTHORIZED", {
        message: "Missing credential: send an API key in X-API-Key, or Authorization: Bearer <API key or JWT>",
      });
    }
    const secret = credential.type === "key" ? credential.secret : credential.token;
    const logger = c.get("logger").redacting([secret]);
    c.set("logger", logger);
    const config = resolveAccessConfig(c.env);
    const address = clientAddress(c.req.raw.headers, c.env);
    const digest = toHex(await sha256(`${credential.type}:${secret}`));
    const known = memory.hasVerified(digest);
    const blockedMs = known ? 0 : memory.blockedFor(address, Date.now());
    if (blockedMs > 0) throw tooManyFailures(blockedMs);
    let principal: Principal;
    try {
      principal = await authenticator.authenticate(credential, {
        env: c.env,
        config,
        logger,
        waitUntil: (p) => c.executionCtx.waitUntil(p),
      });
    } catch (error) {
      if (error instanceof ZaharaError && error.code === "UNAUTHORIZED") await throttle(c, config, address, memory);
      throw error;
    }
    if (!known) {
      // First time this isolate sees this credential succeed: another isolate may have counted this address over the limit.
      const limits = { limit: config.failureLimit, windowMs: config.failureWindowMs };
      const status = await askAuthThrottle("status", c.env.AUTH_THROTTLE, address, limits, logger, c.get("doCalls"));
      if (status?.limited) {
        memory.block(address, Date.now() + status.retryAfterMs);
        throw tooManyFailures(status.retryAfterMs);
      }
      memory.markVerified(digest);
    }
    c.set("principal", principal);
    c.set("keyId", principal.id);
    c.get("logFields").key_id = principal.id;
    await next();
  });
}

async function throttle(
  c: Context<{ Bindings: AuthBindings }>,
  config: { failureLimit: number; failureWindowMs: number },
  address: string,
  memory: ThrottleMemory,
): Promise<void> {
  const limits = { limit: config.failureLimit, windowMs: config.failureWindowMs };
  const decision = await askAuthThrottle(
    "record",
    c.env.AUTH_THROTTLE,
    address,
    limits,
    c.get("logger"),
    c.get("doCalls"),
  );
  if (decision?.limited) {
    c.get("logger").warn("failed authentications limited", { client_ip: address });
    // This isolate refuses the address before checking anything until the window allows it again.
    memory.block(address, Date.now() + decision.retryAfterMs);
    throw tooManyFailures(decision.retryAfterMs);
  }
}

/** Creates a middleware that requires `scope` (`admin`, or `metrics` which `admin` includes); 403 otherwise. */
export function requireScope(scope: typeof ADMIN_SCOPE | typeof METRICS_SCOPE) {
  if (scope !== ADMIN_SCOPE && scope !== METRICS_SCOPE)
    throw new TypeError(`requireScope: unknown scope "${String(scope)}"`);
  return createMiddleware(async function requireScope(c, next) {
    const principal = c.get("principal");
    if (!principal) throw new Error("requireScope must run after authenticate()");
    if (!hasScope(principal.scopes, scope))
      throw new ZaharaError("FORBIDDEN", { message: `This endpoint needs a credential with the "${scope}" scope` });
    await next();
  });
}

/** Throws 403 `FORBIDDEN` unless `principal` may call `capability` on `agent`. */
export function authorizeCall(principal: Principal, agent: string, capability: string): void {
  if (!allowsCall(principal, agent, capability)) {
    throw new ZaharaError("FORBIDDEN", {
      message: `This credential may not call "${capability}" on agent "${agent}"`,
      details: { agent, capability },
    });
  }
}
