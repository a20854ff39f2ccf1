/**
 * The Builder's resilience simulator (plain TypeScript: no DOM, no Workers
 * APIs). `simulate` runs the gateway's executor and the upstream guard's
 * policies on a virtual clock; `fromManifest` turns a manifest into its input.
 */
export { simulate } from "./simulate";
export { DEFAULT_GATEWAY_TIMEOUT_MS, fromManifest, type ManifestOverrides } from "./manifest";
export {
  MAX_DURATION_SECONDS,
  MAX_KEYS,
  MAX_MS,
  MAX_REQUESTS,
  MAX_RETRIES,
  requestCount,
  validateSimulationInput,
} from "./validate";
export type {
  BreakerState,
  BreakerTransition,
  FaultPattern,
  GuardConfig,
  LatencyPercentiles,
  LatencySpec,
  OutageWindow,
  RejectReason,
  RejectionCounts,
  RetrySettings,
  SecondBucket,
  SimulationInput,
  SimulationResult,
  SimulationTotals,
  TrafficPattern,
} from "./types";
