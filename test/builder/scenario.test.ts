import { describe, expect, it } from "vitest";
import { DEFAULT_SCENARIO, MAX_SIM_REQUESTS, parseScenario } from "../../dashboard/src/screens/builder/scenario";

describe("simulator inputs", () => {
  it("the defaults are a valid scenario", () => {
    const parsed = parseScenario(DEFAULT_SCENARIO);
    expect(parsed).toEqual({
      ok: true,
      requests: 960,
      scenario: {
        traffic: { requestsPerSecond: 8, durationSeconds: 120, keys: 4 },
        faults: {
          errorRate: 0.05,
          latencyMs: { p50: 200, p95: 800 },
          outage: { startSecond: 30, endSecond: 45, mode: "refuse" },
        },
        seed: 1,
        tokenBudget: false,
      },
    });
  });

  it("equal percentiles are a fixed latency; no outage when it is off", () => {
    const parsed = parseScenario({ ...DEFAULT_SCENARIO, p50: "0", p95: "0", outage: false, outageStart: "x" });
    expect(parsed.ok && parsed.scenario.faults).toEqual({ errorRate: 0.05, latencyMs: 0 });
  });

  it(`bounds the run at ${MAX_SIM_REQUESTS} requests`, () => {
    const parsed = parseScenario({ ...DEFAULT_SCENARIO, rps: "50", seconds: "101" });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.errors.rps).toMatch(/5,050 requests in all; at most 5,000/);
    expect(parseScenario({ ...DEFAULT_SCENARIO, rps: "50", seconds: "100" }).ok).toBe(true);
    expect(!parseScenario({ ...DEFAULT_SCENARIO, rps: "0.001", seconds: "10" }).ok).toBe(true);
  });

  it("reports each bad input at its input", () => {
    const parsed = parseScenario({
      ...DEFAULT_SCENARIO,
      rps: "fast",
      seconds: "1.5",
      keys: "0",
      errorRatePct: "120",
      p50: "900",
      p95: "800",
      outageStart: "50",
      outageEnd: "40",
      seed: "1.2",
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Object.keys(parsed.errors).sort()).toEqual([
      "errorRatePct",
      "keys",
      "outageEnd",
      "p95",
      "rps",
      "seconds",
      "seed",
    ]);
  });

  it("an outage must start inside the run; its end is clipped to the run", () => {
    const late = parseScenario({ ...DEFAULT_SCENARIO, seconds: "60", outageStart: "60", outageEnd: "90" });
    expect(!late.ok && late.errors.outageStart).toBeTruthy();
    const clipped = parseScenario({
      ...DEFAULT_SCENARIO,
      seconds: "60",
      outageStart: "50",
      outageEnd: "90",
      outageMode: "hang",
    });
    expect(clipped.ok && clipped.scenario.faults.outage).toEqual({ startSecond: 50, endSecond: 60, mode: "hang" });
  });
});
