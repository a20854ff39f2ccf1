/**
 * The simulator's input: validation (a `TypeError` naming the field, before
 * any work), defaults, the work cap, and `fromManifest` (the gateway's
 * `resolveResilience` and the execute route's deadline rule).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_GATEWAY_TIMEOUT_MS,
  MAX_REQUESTS,
  fromManifest,
  requestCount,
  simulate,
  validateSimulationInput,
} from "../../dashboard/src/simulator";
import { DEFAULT_GATEWAY_TIMEOUT_MS as GATEWAY_DEFAULT } from "../../workers/gateway/src/config";
import { resolveResilience } from "../../workers/gateway/src/resilience/config";
import { type ZaharaAgentManifest, loadZaharaAgentManifest } from "../../workers/shared/manifest";
import { guardConfig, input } from "./helpers";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function manifest(file: string): ZaharaAgentManifest {
  const r = loadZaharaAgentManifest(readFileSync(path.join(root, file), "utf8"), file);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.manifest;
}

describe("validation", () => {
  const base = input();
  const cases: [string, unknown, RegExp][] = [
    ["no input", null, /input must be an object/],
    ["no guard", { ...base, guard: undefined }, /guard must be an object/],
    [
      "a guard the breaker rejects",
      { ...base, guard: guardConfig({ breaker: { failureThreshold: 0, openMs: 1000, halfOpenProbes: 1 } }) },
      /guard settings are invalid: failureThreshold must be an integer >= 1/,
    ],
    [
      "a bad per-key rate limit",
      { ...base, guard: guardConfig({ keyRateLimit: { limit: 0, periodMs: 60_000, burst: 1 } }) },
      /guard settings are invalid: limit/,
    ],
    [
      "a bad retry budget",
      { ...base, guard: guardConfig({ retryBudget: { ratio: -1, minPerWindow: 0, windowMs: 1000 } }) },
      /guard settings are invalid: ratio/,
    ],
    [
      "an error rate above 1",
      { ...base, faults: { errorRate: 1.5, latencyMs: 10 } },
      /faults\.errorRate must be a number in \[0, 1\], got 1\.5/,
    ],
    ["a NaN error rate", { ...base, faults: { errorRate: Number.NaN, latencyMs: 10 } }, /faults\.errorRate/],
    [
      "a 4xx error status",
      { ...base, faults: { errorRate: 1, errorStatus: 404, latencyMs: 10 } },
      /faults\.errorStatus must be an integer in \[500, 599\]/,
    ],
    [
      "a negative timeout rate",
      { ...base, faults: { errorRate: 0, timeoutRate: -0.1, latencyMs: 10 } },
      /faults\.timeoutRate/,
    ],
    ["a negative latency", { ...base, faults: { errorRate: 0, latencyMs: -1 } }, /faults\.latencyMs must be a number/],
    [
      "a latency string",
      { ...base, faults: { errorRate: 0, latencyMs: "fast" } },
      /faults\.latencyMs \(a number or \{ p50, p95 \}\) must be an object/,
    ],
    [
      "p95 below p50",
      { ...base, faults: { errorRate: 0, latencyMs: { p50: 100, p95: 50 } } },
      /faults\.latencyMs\.p95 must be a number in \[100, 300000\], got 50/,
    ],
    [
      "an outage ending before it starts",
      { ...base, faults: { errorRate: 0, latencyMs: 10, outage: { startSecond: 5, endSecond: 2 } } },
      /faults\.outage\.endSecond/,
    ],
    [
      "an unknown outage mode",
      { ...base, faults: { errorRate: 0, latencyMs: 10, outage: { startSecond: 1, endSecond: 2, mode: "flaky" } } },
      /faults\.outage\.mode must be "refuse" or "hang", got "flaky"/,
    ],
    ["no traffic", { ...base, traffic: { requestsPerSecond: 0, durationSeconds: 10 } }, /traffic\.requestsPerSecond/],
    [
      "a fractional duration",
      { ...base, traffic: { requestsPerSecond: 1, durationSeconds: 1.5 } },
      /traffic\.durationSeconds must be an integer in \[1, 3600\]/,
    ],
    [
      "a duration over an hour",
      { ...base, traffic: { requestsPerSecond: 1, durationSeconds: 3601 } },
      /traffic\.durationSeconds/,
    ],
    ["zero keys", { ...base, traffic: { requestsPerSecond: 1, durationSeconds: 1, keys: 0 } }, /traffic\.keys/],
    [
      "too many requests",
      { ...base, traffic: { requestsPerSecond: 1000, durationSeconds: 60 } },
      /traffic sends 60000 requests .* at most 50000 are simulated/,
    ],
    ["a zero deadline", { ...base, deadlineMs: 0 }, /deadlineMs must be a number in \[1, 300000\], got 0/],
    [
      "too many retries",
      { ...base, retries: { ...base.retries, maxRetries: 11 } },
      /retries\.maxRetries must be an integer in \[0, 10\]/,
    ],
    [
      "a cap below the base",
      { ...base, retries: { ...base.retries, baseMs: 500, capMs: 100 } },
      /retries\.capMs must be a number in \[500, 300000\]/,
    ],
    [
      "retryOn500 as a string",
      { ...base, retries: { ...base.retries, retryOn500: "yes" } },
      /retries\.retryOn500 must be a boolean, got "yes"/,
    ],
    ["a fractional seed", { ...base, seed: 1.5 }, /seed must be an integer/],
    ["a negative token estimate", { ...base, tokenEstimate: -1 }, /tokenEstimate/],
  ];

  it.each(cases)("rejects %s with a TypeError naming the field", async (_name, bad, message) => {
    expect(() => validateSimulationInput(bad)).toThrow(TypeError);
    expect(() => validateSimulationInput(bad)).toThrow(message);
    await expect(simulate(bad as never)).rejects.toThrow(TypeError);
  });

  it("fills in the defaults", () => {
    const checked = validateSimulationInput(
      input({ faults: { errorRate: 0.1, latencyMs: 10, outage: { startSecond: 1, endSecond: 2 } } }),
    );
    expect(checked.traffic.keys).toBe(1);
    expect(checked.faults).toEqual({
      errorRate: 0.1,
      errorStatus: 500,
      timeoutRate: 0,
      latencyMs: 10,
      outage: { startSecond: 1, endSecond: 2, mode: "refuse" },
    });
    expect(checked.tokenEstimate).toBe(1000);
  });

  it("accepts exactly the cap, and counts requests without float noise", async () => {
    expect(requestCount({ requestsPerSecond: 0.1, durationSeconds: 30 })).toBe(3);
    expect(requestCount({ requestsPerSecond: 0.7, durationSeconds: 10 })).toBe(7);
    expect(() =>
      validateSimulationInput(input({ traffic: { requestsPerSecond: MAX_REQUESTS / 100, durationSeconds: 100 } })),
    ).not.toThrow();
    const { totals } = await simulate(input({ traffic: { requestsPerSecond: 0.5, durationSeconds: 5 } }));
    expect(totals.requests).toBe(2);
  });
});

describe("fromManifest", () => {
  const demo = manifest("manifests/agent-demo.ossa.yaml");
  const scenario = {
    traffic: { requestsPerSecond: 5, durationSeconds: 10 },
    faults: { errorRate: 0, latencyMs: 100 },
    seed: 7,
  };

  it("takes guard, retries and token estimate from resolveResilience, with the gateway's default timeout", () => {
    const built = fromManifest(demo, scenario);
    const resolved = resolveResilience(demo, GATEWAY_DEFAULT);
    expect(DEFAULT_GATEWAY_TIMEOUT_MS).toBe(GATEWAY_DEFAULT);
    expect(built.guard).toEqual(resolved.guard);
    expect(built.retries).toEqual(resolved.retries);
    expect(built.tokenEstimate).toBe(resolved.tokenEstimate);
    expect(built).toMatchObject({ deadlineMs: GATEWAY_DEFAULT, ...scenario });
    // agent-demo: 600/min with a burst of 50, 50 concurrent, a per-key limit of 300/min.
    expect(built.guard).toMatchObject({
      agent: "agent-demo",
      maxConcurrent: 50,
      rateLimit: { limit: 600, burst: 50 },
      keyRateLimit: { limit: 300, burst: 30 },
    });
  });

  it("computes the deadline as the execute route does: gateway timeout, lowered by the caller's, capped by the agent's", () => {
    expect(fromManifest(demo, { ...scenario, gatewayTimeoutMs: 60_000 }).deadlineMs).toBe(30_000);
    expect(fromManifest(demo, { ...scenario, gatewayTimeoutMs: 60_000, callerTimeoutMs: 2500 }).deadlineMs).toBe(2500);
    expect(fromManifest(demo, { ...scenario, gatewayTimeoutMs: 5000 }).guard.leaseMs).toBe(5000 + 5000);
  });

  it("feeds straight into simulate", async () => {
    const { totals } = await simulate(fromManifest(demo, scenario));
    expect(totals).toMatchObject({ requests: 50, ok: 50, attemptsPerRequest: 1 });
  });
});
