/**
 * The simulator with a healthy agent, a failing one and an outage: what the
 * breaker does (opening, fast refusals, half-open probes, closing) and what
 * callers get, in buckets and totals.
 */
import { describe, expect, it } from "vitest";
import { simulate } from "../../dashboard/src/simulator";
import { guardConfig, input } from "./helpers";

describe("a healthy agent", () => {
  it("answers every request on the first attempt, with the agent's latency", async () => {
    const { buckets, totals } = await simulate(input({ faults: { errorRate: 0, latencyMs: 80 } }));
    expect(totals.requests).toBe(100);
    expect(totals.ok).toBe(100);
    expect(totals.attempts).toBe(100);
    expect(totals.attemptsPerRequest).toBe(1);
    expect(totals.successRate).toBe(1);
    expect(totals.failed + totals.timedOut + Object.values(totals.rejected).reduce((a, b) => a + b, 0)).toBe(0);
    expect(totals.breakerTransitions).toEqual([]);
    expect(totals.latencyMs).toEqual({ p50: 80, p95: 80 });
    expect(buckets).toHaveLength(10);
    for (const b of buckets)
      expect(b).toMatchObject({
        sent: 10,
        ok: 10,
        attempts: 10,
        breakerState: "closed",
        latencyMs: { p50: 80, p95: 80 },
      });
    // The last request was sent at 9.9 s and answered 80 ms later.
    expect(totals.endedAtMs).toBe(9980);
  });

  it("draws latencies from the log-normal distribution given by p50 and p95", async () => {
    const { totals } = await simulate(
      input({
        traffic: { requestsPerSecond: 100, durationSeconds: 20 },
        faults: { errorRate: 0, latencyMs: { p50: 100, p95: 300 } },
      }),
    );
    expect(totals.ok).toBe(2000);
    expect(totals.latencyMs!.p50).toBeGreaterThanOrEqual(90);
    expect(totals.latencyMs!.p50).toBeLessThanOrEqual(110);
    expect(totals.latencyMs!.p95).toBeGreaterThanOrEqual(260);
    expect(totals.latencyMs!.p95).toBeLessThanOrEqual(340);
  });
});

describe("an agent that always fails", () => {
  const failing = input({
    faults: { errorRate: 1, latencyMs: 50 },
    traffic: { requestsPerSecond: 10, durationSeconds: 20 },
  });

  it("opens the breaker after failure_threshold failures, then refuses callers without calling the agent", async () => {
    const { buckets, totals } = await simulate(failing);
    const [opened] = totals.breakerTransitions;
    expect(opened).toMatchObject({ from: "closed", to: "open", cause: "5 consecutive failures" });
    expect(opened!.at).toBeLessThan(1000);
    // Only the attempts before the breaker opened (and the probes later) reached the agent.
    expect(buckets[0]!.attempts).toBe(5);
    for (const t of [1, 2, 3, 4]) {
      expect(buckets[t]).toMatchObject({ sent: 10, ok: 0, attempts: 0, breakerState: "open" });
      expect(buckets[t]!.rejected.circuit_open).toBe(10);
    }
    expect(totals.ok).toBe(0);
    expect(totals.rejected.circuit_open).toBeGreaterThan(0.9 * totals.requests);
    // Every request that reached the agent (those in flight when it opened, and each probe) had its retry refused
    // by the breaker, so its caller got the agent's 502 at once.
    expect(totals.failed).toBeGreaterThan(0);
    expect(totals.retriesStoppedBy).toEqual({ circuit_open: totals.failed });
    expect(totals.attemptsPerRequest).toBeLessThan(0.1);
  });

  it("lets one probe through after open_ms, and reopens when it fails", async () => {
    const { buckets, totals } = await simulate(failing);
    const [opened, probing, reopened, probing2] = totals.breakerTransitions;
    expect(probing).toMatchObject({ from: "open", to: "half_open", cause: "open_ms elapsed" });
    // The first request after open_ms (one arrives every 100 ms) becomes the probe.
    expect(probing!.at - opened!.at).toBeGreaterThanOrEqual(5000);
    expect(probing!.at - opened!.at).toBeLessThan(5100);
    expect(reopened).toMatchObject({ from: "half_open", to: "open", cause: "probe failed", at: probing!.at + 50 });
    expect(probing2!.at - reopened!.at).toBeGreaterThanOrEqual(5000);
    const probeSecond = Math.floor(probing!.at / 1000);
    expect(buckets[probeSecond]!.attempts).toBe(1);
    expect(buckets[probeSecond]!.failed).toBe(1);
  });

  it("with a consecutive threshold of 1 opens on the very first failure", async () => {
    const { totals } = await simulate({
      ...failing,
      guard: guardConfig({ breaker: { failureThreshold: 1, openMs: 5000, halfOpenProbes: 1 } }),
    });
    expect(totals.breakerTransitions[0]).toMatchObject({ to: "open", at: 50, cause: "1 consecutive failures" });
  });

  it("opens on the failure rate when half the calls fail, before any long run of consecutive failures", async () => {
    const breaker = {
      failureThreshold: 1000,
      openMs: 5000,
      halfOpenProbes: 1,
      failureRate: { threshold: 0.5, size: 20, minimumCalls: 10 },
    };
    const { totals } = await simulate(
      input({ guard: guardConfig({ breaker }), faults: { errorRate: 0.6, latencyMs: 50 }, retries: { maxRetries: 0 } }),
    );
    expect(totals.breakerTransitions[0]).toMatchObject({ from: "closed", to: "open" });
    expect(totals.breakerTransitions[0]!.cause).toMatch(/^failure rate \d+% over \d+ calls$/);
  });
});

describe("an outage window", () => {
  const outage = input({
    guard: guardConfig({ breaker: { failureThreshold: 5, openMs: 3000, halfOpenProbes: 1 } }),
    traffic: { requestsPerSecond: 10, durationSeconds: 40 },
    faults: { errorRate: 0, latencyMs: 50, outage: { startSecond: 10, endSecond: 20 } },
  });

  it("opens the breaker during the outage and closes it after the first probe once the agent is back", async () => {
    const { buckets, totals } = await simulate(outage);
    const transitions = totals.breakerTransitions;
    expect(transitions[0]).toMatchObject({ from: "closed", to: "open" });
    expect(transitions[0]!.at).toBeGreaterThanOrEqual(10_000);
    expect(transitions[0]!.at).toBeLessThan(11_000);
    const closed = transitions.find((t) => t.to === "closed")!;
    expect(closed).toMatchObject({ from: "half_open", cause: "probe succeeded" });
    expect(closed.at).toBeGreaterThanOrEqual(20_000);
    expect(closed.at).toBeLessThanOrEqual(20_000 + 3000 + 100 + 50);
    expect(transitions.at(-1)).toBe(closed);
    for (const b of buckets) {
      if (b.t < 10 || b.t * 1000 > closed.at) expect(b).toMatchObject({ ok: b.sent, breakerState: "closed" });
      else if (b.t < 19) expect(b.breakerState).not.toBe("closed");
    }
    for (const t of [12, 13, 14, 15, 16, 17, 18]) expect(buckets[t]!.ok).toBe(0);
  });

  it("an outage that hangs ends in 504s until the breaker opens", async () => {
    const hang = {
      ...outage,
      deadlineMs: 2000,
      faults: { ...outage.faults, outage: { startSecond: 10, endSecond: 20, mode: "hang" as const } },
    };
    const { totals } = await simulate(hang);
    // Timeouts count as failures; requests already in flight when it opened still time out.
    expect(totals.timedOut).toBeGreaterThanOrEqual(5);
    expect(totals.timedOut).toBeLessThan(5 + 2000 / 100 + 10);
    expect(totals.breakerTransitions[0]!.cause).toBe("5 consecutive failures");
    expect(totals.rejected.circuit_open).toBeGreaterThan(50);
  });
});
