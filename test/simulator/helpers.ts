/**
 * Shared pieces of the simulator tests: a baseline input (a healthy agent,
 * 10 requests/s for 10 s, the integration guide's settings with shorter
 * backoff and open time) that each test bends with overrides.
 */
import type { GuardConfig, SimulationInput } from "../../dashboard/src/simulator";

/** The guard settings of the baseline: 5 consecutive failures open the breaker for 5 s. */
export function guardConfig(overrides: Partial<GuardConfig> = {}): GuardConfig {
  return {
    agent: "agent-sim",
    breaker: { failureThreshold: 5, openMs: 5000, halfOpenProbes: 1 },
    retryBudget: { ratio: 0.2, minPerWindow: 10, windowMs: 10_000 },
    leaseMs: 15_000,
    ...overrides,
  };
}

/** A breaker that never opens (for tests about retries, deadlines and limits alone). */
export const NEVER_OPENS = { failureThreshold: 1_000_000, openMs: 5000, halfOpenProbes: 1 };

/** The baseline input with `overrides` applied (one level deep for traffic, faults and retries). */
export function input(
  overrides: Omit<Partial<SimulationInput>, "traffic" | "faults" | "retries"> & {
    traffic?: Partial<SimulationInput["traffic"]>;
    faults?: Partial<SimulationInput["faults"]>;
    retries?: Partial<SimulationInput["retries"]>;
  } = {},
): SimulationInput {
  const { traffic, faults, retries, ...rest } = overrides;
  return {
    guard: guardConfig(),
    deadlineMs: 10_000,
    seed: 42,
    ...rest,
    retries: { maxRetries: 3, baseMs: 100, capMs: 1000, retryOn500: true, ...retries },
    traffic: { requestsPerSecond: 10, durationSeconds: 10, ...traffic },
    faults: { errorRate: 0, latencyMs: 80, ...faults },
  };
}
