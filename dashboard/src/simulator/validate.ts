/**
 * Input checks for the simulator: everything a form can get wrong is a
 * `TypeError` naming the field, thrown before any work starts. The guard
 * settings are checked by building the real `Guard` (its policies validate
 * their own config), with the `RangeError` turned into a `TypeError`.
 */
import { Guard } from "../../../durable-objects/upstream-guard/src/guard";
import { KeyLimiter } from "../../../durable-objects/upstream-guard/src/keys";
import type { FaultPattern, SimulationInput, TrafficPattern } from "./types";

/** Most requests one simulation may send (the browser must stay responsive). */
export const MAX_REQUESTS = 50_000;
/** Longest run, in seconds. */
export const MAX_DURATION_SECONDS = 3600;
/** Longest deadline, latency or outage boundary, in ms (the manifest caps `cap_ms` at 300 s). */
export const MAX_MS = 300_000;
/** Most retries per request (the manifest schema's `max_retries` maximum). */
export const MAX_RETRIES = 10;
/** Most API keys. */
export const MAX_KEYS = 10_000;

function fail(field: string, expected: string, value: unknown): never {
  throw new TypeError(
    `simulate: ${field} must be ${expected}, got ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
  );
}

function num(field: string, value: unknown, min: number, max: number, integer = false): number {
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (!ok) fail(field, `${integer ? "an integer" : "a number"} in [${min}, ${max}]`, value);
  return value as number;
}

function object(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(field, "an object", value);
  return value as Record<string, unknown>;
}

function checkTraffic(value: unknown): TrafficPattern {
  const t = object("traffic", value);
  const requestsPerSecond = num("traffic.requestsPerSecond", t.requestsPerSecond, Number.MIN_VALUE, MAX_REQUESTS);
  const durationSeconds = num("traffic.durationSeconds", t.durationSeconds, 1, MAX_DURATION_SECONDS, true);
  const keys = t.keys === undefined ? 1 : num("traffic.keys", t.keys, 1, MAX_KEYS, true);
  const requests = requestCount({ requestsPerSecond, durationSeconds });
  if (requests > MAX_REQUESTS) {
    throw new TypeError(
      `simulate: traffic sends ${requests} requests (requestsPerSecond × durationSeconds); at most ${MAX_REQUESTS} are simulated`,
    );
  }
  return { requestsPerSecond, durationSeconds, keys };
}

function checkFaults(value: unknown): FaultPattern {
  const f = object("faults", value);
  const errorRate = num("faults.errorRate", f.errorRate, 0, 1);
  const errorStatus = f.errorStatus === undefined ? 500 : num("faults.errorStatus", f.errorStatus, 500, 599, true);
  const timeoutRate = f.timeoutRate === undefined ? 0 : num("faults.timeoutRate", f.timeoutRate, 0, 1);
  let latencyMs: FaultPattern["latencyMs"];
  if (typeof f.latencyMs === "number") latencyMs = num("faults.latencyMs", f.latencyMs, 0, MAX_MS);
  else {
    const l = object("faults.latencyMs (a number or { p50, p95 })", f.latencyMs);
    const p50 = num("faults.latencyMs.p50", l.p50, Number.MIN_VALUE, MAX_MS);
    latencyMs = { p50, p95: num("faults.latencyMs.p95", l.p95, p50, MAX_MS) };
  }
  const faults: FaultPattern = { errorRate, errorStatus, latencyMs, timeoutRate };
  if (f.outage !== undefined) {
    const o = object("faults.outage", f.outage);
    const startSecond = num("faults.outage.startSecond", o.startSecond, 0, MAX_DURATION_SECONDS);
    const endSecond = num("faults.outage.endSecond", o.endSecond, startSecond, MAX_DURATION_SECONDS);
    if (o.mode !== undefined && o.mode !== "refuse" && o.mode !== "hang")
      fail("faults.outage.mode", '"refuse" or "hang"', o.mode);
    faults.outage = { startSecond, endSecond, mode: o.mode ?? "refuse" };
  }
  return faults;
}

/** How many requests a traffic pattern sends: `floor(requestsPerSecond × durationSeconds)`, evenly spaced. */
export function requestCount(traffic: Pick<TrafficPattern, "requestsPerSecond" | "durationSeconds">): number {
  // The epsilon keeps 0.1 × 30 = 3.0000000000000004 (and 2.9999999999999996) at 3.
  return Math.floor(traffic.requestsPerSecond * traffic.durationSeconds + 1e-9);
}

/**
 * Checks `input` and returns it with every default filled in (`keys` 1,
 * `errorStatus` 500, `timeoutRate` 0, outage `mode` "refuse", `tokenEstimate`
 * 1000). Throws a `TypeError` naming the first bad field, including guard
 * settings the policies reject and a traffic pattern above {@link MAX_REQUESTS}.
 */
export function validateSimulationInput(input: unknown): SimulationInput {
  const i = object("input", input);
  const guard = object("guard", i.guard);
  if (typeof guard.agent !== "string") fail("guard.agent", "a string", guard.agent);
  object("guard.breaker", guard.breaker);
  object("guard.retryBudget", guard.retryBudget);
  try {
    const config = guard as unknown as SimulationInput["guard"];
    new Guard(config);
    // The per-key limit is only built at admission; build it now so a bad one fails here, not mid-run.
    if (config.keyRateLimit !== undefined) new KeyLimiter({ rateLimit: config.keyRateLimit });
  } catch (error) {
    throw new TypeError(
      `simulate: guard settings are invalid: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const r = object("retries", i.retries);
  const baseMs = num("retries.baseMs", r.baseMs, 1, MAX_MS);
  const retries = {
    maxRetries: num("retries.maxRetries", r.maxRetries, 0, MAX_RETRIES, true),
    baseMs,
    capMs: num("retries.capMs", r.capMs, baseMs, MAX_MS),
    retryOn500:
      typeof r.retryOn500 === "boolean" ? r.retryOn500 : fail("retries.retryOn500", "a boolean", r.retryOn500),
  };
  return {
    guard: guard as unknown as SimulationInput["guard"],
    retries,
    deadlineMs: num("deadlineMs", i.deadlineMs, 1, MAX_MS),
    traffic: checkTraffic(i.traffic),
    faults: checkFaults(i.faults),
    seed: num("seed", i.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true),
    tokenEstimate: i.tokenEstimate === undefined ? 1000 : num("tokenEstimate", i.tokenEstimate, 0, 10_000_000, true),
  };
}
