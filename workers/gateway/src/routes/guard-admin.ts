/**
 * Admin endpoints for each agent's {@link UpstreamGuard} (admin scope; mount
 * behind `authenticate()` and `requireScope("admin")` with
 * `app.route("/v1/agents", guardAdminRoutes(deps))`):
 *
 * - `GET  /v1/agents/:agent/guard`: what the guard holds now.
 * - `POST /v1/agents/:agent/breaker/open`: isolate the agent (breaker forced open until closed).
 * - `POST /v1/agents/:agent/breaker/close`: close the breaker and reset its counters.
 * - `DELETE /v1/agents/:agent/guard`: forget everything the guard holds (breaker, quotas, per-key cells,
 *   permits, leases), as if new; audited as `guard.reset`.
 * Each change also drops this isolate's admission leases for the agent at once; other isolates follow within
 * one lease TTL (their leases expire; docs/admission-leases.md).
 *
 * The guard is called with the settings `/execute` uses for the agent, and
 * never waited on longer than {@link GUARD_ADMIN_TIMEOUT_MS} (503
 * `GUARD_UNAVAILABLE`). The two changes are audited (`breaker.open`,
 * `breaker.close`) in `ACCESS_DB`.
 */
import { type Context, Hono } from "hono";
import * as z from "zod/mini";
import type { UpstreamGuard } from "../../../../durable-objects/upstream-guard/src";
import type { GuardConfig, GuardSnapshot } from "../../../../durable-objects/upstream-guard/src/types";
import { ZaharaError } from "../../../shared/errors";
import { parseJsonBody } from "../../../shared/http/validation";
import { TimeoutError, withTimeout } from "../../../shared/timeout";
import { type AuditEntry, auditStatement } from "../audit/audit-log";
import { resolveGatewayConfig } from "../config";
import type { AgentRegistry } from "../registry";
import type { GuardNamespace } from "../resilience/guard-client";
import type { IsolateLeases } from "../resilience/leases";
import type { ResilienceCatalog } from "../resilience/plans";
import { type BreakerChange, guardView } from "../admin/guard-view";
import { type KeyRouteBindings, auditOf, withKeyStore } from "./keys";

export type { BreakerChange, GuardView } from "../admin/guard-view";

/** Longest wait for the guard (one read, or a read and a change). */
export const GUARD_ADMIN_TIMEOUT_MS = 2000;
/** Longest wait for the audit entry's D1 write. */
export const AUDIT_WRITE_TIMEOUT_MS = 2000;
/** Longest `reason` a breaker change may give (characters). */
export const MAX_REASON_LENGTH = 200;
/** Largest body a breaker change may send. */
const MAX_BODY_BYTES = 4096;

/** What the routes read. */
export interface GuardAdminDeps {
  registry: AgentRegistry;
  catalog: ResilienceCatalog;
  /** This isolate's admission leases: an admin change drops them here at once (other isolates within a lease TTL). */
  leases?: IsolateLeases;
  /** Clock of the audit entries. */
  now?: () => number;
}

/** Bindings the routes use. */
export interface GuardAdminBindings extends KeyRouteBindings {
  UPSTREAM_GUARD?: GuardNamespace;
  GATEWAY_TIMEOUT_MS?: string;
}

type GuardAdminContext = Context<{ Bindings: GuardAdminBindings }>;

/** Optional body of the breaker changes (also read by openapi/ for the API document). */
export const BreakerChangeSchema = z.strictObject({
  reason: z.optional(
    z
      .string({ error: "reason must be a string" })
      .check(
        z.trim(),
        z.minLength(1, "reason must not be empty"),
        z.maxLength(MAX_REASON_LENGTH, `reason must be at most ${MAX_REASON_LENGTH} characters`),
      ),
  ),
});

/** The optional `{ "reason": string }` of a breaker change; no body is `{}`. 400 (or 413/415) in the error shape otherwise. */
function changeBody(c: GuardAdminContext): Promise<{ reason?: string }> {
  return parseJsonBody(c.req.raw, BreakerChangeSchema, { maxBytes: MAX_BODY_BYTES, optional: true });
}

type GuardStub = DurableObjectStub<UpstreamGuard>;

/**
 * Creates the guard admin routes; mount with
 * `app.route("/v1/agents", guardAdminRoutes(deps))` behind the admin scope.
 *
 * `GET /:agent/guard` answers `{ guard: GuardView, request_id }`. The two
 * `POST /:agent/breaker/{open,close}` take an optional JSON body
 * `{ "reason": string (1-200 characters) }` and answer
 * `{ guard: GuardView, change: BreakerChange, audited: boolean, request_id }`
 * with the snapshot after the change. Both are idempotent: opening an
 * isolated breaker or closing a closed one records no transition (closing
 * still resets the failure counters), but is audited like any other call.
 * The transition's cause names the admin principal and the reason.
 *
 * Order: the guard changes first, then the audit entry is written. A
 * Durable Object and D1 cannot share a transaction, so either order can
 * leave a gap; this one keeps the breaker usable as an incident lever
 * (isolate a failing agent, bring it back) while D1 is degraded, and never
 * records a change the guard then refused or never made. If the audit write
 * fails or takes longer than {@link AUDIT_WRITE_TIMEOUT_MS}, the whole
 * entry (actor, action, target, details) is logged at error level, so the
 * record survives in the logs, and the answer says `audited: false`. A
 * guard that does not answer in time may still have applied the change:
 * the 503 says so, and nothing is audited (read the guard to see).
 *
 * Errors: 404 `AGENT_NOT_FOUND`, 400 `INVALID_JSON` / `INVALID_REQUEST`,
 * 415, 413, 503 `GUARD_UNAVAILABLE` (with `Retry-After: 1`).
 */
export function guardAdminRoutes(deps: GuardAdminDeps) {
  const now = deps.now ?? Date.now;
  const routes = new Hono<{ Bindings: GuardAdminBindings }>();

  /** Runs `call` on `agent`'s guard with its settings, bounded by {@link GUARD_ADMIN_TIMEOUT_MS}; 503 `GUARD_UNAVAILABLE` on any failure. */
  async function withGuard<T>(
    c: GuardAdminContext,
    agent: string,
    what: string,
    call: (stub: GuardStub, config: GuardConfig) => Promise<T>,
  ): Promise<T> {
    const namespace = c.env.UPSTREAM_GUARD;
    if (!namespace)
      throw new ZaharaError("GUARD_UNAVAILABLE", {
        message: "No upstream guard is configured (no UPSTREAM_GUARD binding)",
      });
    const config = deps.catalog.settings(agent, resolveGatewayConfig(c.env).timeoutMs).guard;
    try {
      return await withTimeout(call(namespace.get(namespace.idFromName(agent)), config), GUARD_ADMIN_TIMEOUT_MS);
    } catch (err) {
      const timedOut = err instanceof TimeoutError;
      c.get("logger").warn(`upstream guard ${what} failed`, {
        agent,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
      const change = what === "read" ? "" : "; the change may have been applied: read the guard to check";
      throw new ZaharaError("GUARD_UNAVAILABLE", {
        message: `The guard of agent "${agent}" ${timedOut ? `did not answer within ${GUARD_ADMIN_TIMEOUT_MS} ms` : "could not answer"}${change}`,
        details: { agent },
        headers: { "Retry-After": "1" },
        cause: err,
      });
    }
  }

  /** Writes `entry`; false (the entry logged at error level) when D1 fails or is too slow. */
  async function audit(c: GuardAdminContext, entry: AuditEntry): Promise<boolean> {
    try {
      await withKeyStore(c, "audit write", (db) =>
        withTimeout(auditStatement(db, entry, now()).run(), AUDIT_WRITE_TIMEOUT_MS),
      );
      return true;
    } catch {
      c.get("logger").error("admin action applied but not audited", {
        actor: entry.actor,
        action: entry.action,
        target: entry.target,
        details: entry.details,
      });
      return false;
    }
  }

  routes.get("/:agent/guard", async function guardSnapshot(c) {
    const agent = deps.registry.agent(c.req.param("agent")).name;
    const snapshot = await withGuard(
      c,
      agent,
      "read",
      (stub, config) => stub.snapshot(config) as Promise<GuardSnapshot>,
    );
    c.header("Cache-Control", "no-store");
    return c.json({ guard: guardView(snapshot), request_id: c.get("requestId") });
  });

  for (const action of ["open", "close"] as const) {
    routes.post(`/:agent/breaker/${action}`, async function breakerChange(c) {
      const agent = deps.registry.agent(c.req.param("agent")).name;
      const { reason } = await changeBody(c);
      const cause = `forced ${action === "open" ? "open" : "closed"} by ${c.get("principal").id}${reason ? `: ${reason}` : ""}`;
      const { before, after } = await withGuard(c, agent, `breaker ${action}`, async (stub, config) => {
        const before = (await stub.snapshot(config, 0)) as GuardSnapshot;
        const after = (await (action === "open"
          ? stub.forceOpen(config, cause)
          : stub.forceClose(config, cause))) as GuardSnapshot;
        return { before, after };
      });
      deps.leases?.forget(agent);
      const change: BreakerChange = { reason: reason ?? null, from: before.breaker.state, to: after.breaker.state };
      c.get("logger").info(`breaker forced ${action} by an admin`, { agent, ...change });
      const audited = await audit(c, auditOf(c, `breaker.${action}`, agent, { ...change }));
      c.header("Cache-Control", "no-store");
      return c.json({ guard: guardView(after), change, audited, request_id: c.get("requestId") });
    });
  }

  routes.delete("/:agent/guard", async function guardReset(c) {
    const agent = deps.registry.agent(c.req.param("agent")).name;
    await withGuard(c, agent, "reset", (stub) => stub.resetAll() as Promise<void>);
    deps.leases?.forget(agent);
    c.get("logger").info("upstream guard reset by an admin", { agent });
    const audited = await audit(c, auditOf(c, "guard.reset", agent));
    return c.json({ reset: agent, audited, request_id: c.get("requestId") });
  });

  return routes;
}
