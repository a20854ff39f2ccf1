/**
 * From a parsed Zahara manifest (the Builder's form state, validated) to a
 * simulation input: the guard and retry settings come from the gateway's
 * own `resolveResilience`, so defaults and OSSA limits resolve exactly as
 * when the agent is deployed.
 */
import { resolveResilience } from "../../../workers/gateway/src/resilience/config";
import type { ZaharaAgentManifest } from "../../../workers/shared/manifest";
import type { FaultPattern, SimulationInput, TrafficPattern } from "./types";

/** The gateway's default `GATEWAY_TIMEOUT_MS` (`DEFAULT_GATEWAY_TIMEOUT_MS` in workers/gateway/src/config.ts). */
export const DEFAULT_GATEWAY_TIMEOUT_MS = 10_000;

/** What the manifest does not say: the scenario, and optionally the gateway's and the caller's timeouts. */
export interface ManifestOverrides {
  traffic: TrafficPattern;
  faults: FaultPattern;
  seed: number;
  /** The gateway's `GATEWAY_TIMEOUT_MS` (default {@link DEFAULT_GATEWAY_TIMEOUT_MS}). */
  gatewayTimeoutMs?: number;
  /** A caller's `X-Timeout-Ms`: lowers the deadline, never raises it. */
  callerTimeoutMs?: number;
}

/**
 * Builds a {@link SimulationInput} for `manifest`'s agent: `guard`, `retries`
 * and `tokenEstimate` from `resolveResilience(manifest, gatewayTimeoutMs)`,
 * and the deadline as the execute route computes it (`resolveDeadlineMs`):
 * the gateway timeout, lowered by the caller's, capped by the agent's
 * `spec.constraints.performance.timeoutSeconds`.
 */
export function fromManifest(manifest: ZaharaAgentManifest, overrides: ManifestOverrides): SimulationInput {
  const gatewayTimeoutMs = overrides.gatewayTimeoutMs ?? DEFAULT_GATEWAY_TIMEOUT_MS;
  const resolved = resolveResilience(manifest, gatewayTimeoutMs);
  let deadlineMs = gatewayTimeoutMs;
  if (overrides.callerTimeoutMs !== undefined) deadlineMs = Math.min(deadlineMs, overrides.callerTimeoutMs);
  const agentTimeoutSeconds = manifest.spec.constraints?.performance?.timeoutSeconds;
  if (agentTimeoutSeconds !== undefined) deadlineMs = Math.min(deadlineMs, Math.round(agentTimeoutSeconds * 1000));
  return {
    guard: resolved.guard,
    retries: resolved.retries,
    deadlineMs,
    traffic: overrides.traffic,
    faults: overrides.faults,
    seed: overrides.seed,
    tokenEstimate: resolved.tokenEstimate,
  };
}
