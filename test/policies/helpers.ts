/** Shared test helpers for the policy tests: a seeded PRNG and JSON round trips. */

/** mulberry32: tiny deterministic PRNG returning floats in [0, 1) (the simulation's). */
export { mulberry32 } from "../../scripts/sim/events";

/** What a Durable Object does with a snapshot: stringify into SQLite, parse back out. */
export function viaJson<T>(snapshot: T): T {
  return JSON.parse(JSON.stringify(snapshot)) as T;
}

/** An arbitrary but realistic epoch-ms start time (2026-05-01T10:00:00Z). */
export const T0 = Date.UTC(2026, 4, 1, 10, 0, 0);
