/**
 * Reads every agent's {@link UpstreamGuard} for `/metrics` and `/v1/stats`:
 * one RPC per agent, all in parallel, each bounded by
 * {@link COLLECT_TIMEOUT_MS}. An agent whose guard fails or is too slow is
 * reported as failed (logged), never as an error of the whole endpoint.
 */
import type { UpstreamGuard } from "../../../../durable-objects/upstream-guard/src";
import type { GuardConfig } from "../../../../durable-objects/upstream-guard/src/types";
import type { Logger } from "../../../shared/logger";
import { withTimeout } from "../../../shared/timeout";
import type { AgentRegistry } from "../registry";
import type { GuardNamespace } from "../resilience/guard-client";
import type { ResilienceCatalog } from "../resilience/plans";

/** Longest wait for one agent's guard. */
export const COLLECT_TIMEOUT_MS = 2000;

/** A stub of one agent's guard. */
export type GuardStub = DurableObjectStub<UpstreamGuard>;

/** One agent's answer, or why there is none. */
export type Collected<T> = { agent: string; ok: true; value: T } | { agent: string; ok: false; error: string };

/** What {@link collectFromGuards} needs. */
export interface CollectOptions {
  registry: AgentRegistry;
  catalog: ResilienceCatalog;
  namespace: GuardNamespace | undefined;
  /** The gateway's `GATEWAY_TIMEOUT_MS` (the guard settings depend on it, as for /execute). */
  gatewayTimeoutMs: number;
  logger: Logger;
  what: string;
}

/** Calls `read` on every agent's guard with that agent's settings, in parallel, in registry order. */
export function collectFromGuards<T>(
  options: CollectOptions,
  read: (stub: GuardStub, config: GuardConfig) => Promise<T>,
): Promise<Collected<T>[]> {
  const { registry, catalog, namespace, gatewayTimeoutMs, logger, what } = options;
  return Promise.all(
    registry.agents.map(async ({ name }): Promise<Collected<T>> => {
      try {
        if (!namespace) throw new Error("no UPSTREAM_GUARD binding");
        const config = catalog.settings(name, gatewayTimeoutMs).guard;
        const value = await withTimeout(read(namespace.get(namespace.idFromName(name)), config), COLLECT_TIMEOUT_MS);
        return { agent: name, ok: true, value };
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        logger.warn(`${what}: upstream guard unavailable; agent skipped`, { agent: name, error });
        return { agent: name, ok: false, error };
      }
    }),
  );
}
