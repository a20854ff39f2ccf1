/**
 * The simulator's retries and deadlines (the gateway's executor on a virtual
 * clock): the retry budget bounds load amplification, only retryable
 * outcomes are retried, sleeps never pass the deadline, and answers that
 * come too late are 504s. The breaker never opens here unless a test says so.
 */
import { describe, expect, it } from "vitest";
import { simulate } from "../../dashboard/src/simulator";
import { NEVER_OPENS, guardConfig, input } from "./helpers";

const failing = (retryBudget = { ratio: 0.2, minPerWindow: 10, windowMs: 10_000 }) =>
  input({
    guard: guardConfig({ breaker: NEVER_OPENS, retryBudget }),
    traffic: { requestsPerSecond: 20, durationSeconds: 30 },
    faults: { errorRate: 1, latencyMs: 50 },
  });

describe("retries", () => {
  it("without a binding budget, a failing request makes 1 + maxRetries attempts", async () => {
    const { totals } = await simulate(failing({ ratio: 10, minPerWindow: 1000, windowMs: 10_000 }));
    expect(totals.requests).toBe(600);
    expect(totals.attemptsPerRequest).toBe(4);
    expect(totals.failed).toBe(600);
    expect(totals.retriesStoppedBy).toEqual({});
  });

  it("the retry budget bounds retries to ratio × requests plus the floor per window", async () => {
    const { totals, buckets } = await simulate(failing());
    const retries = totals.attempts - totals.requests;
    // 0.2 × 600 requests, plus at most 10 per 10 s window over a 30 s run (the window slides by 1 s buckets).
    expect(retries).toBeGreaterThanOrEqual(0.2 * 600);
    expect(retries).toBeLessThanOrEqual(0.2 * 600 + 10 * 4);
    expect(totals.attemptsPerRequest).toBeLessThan(1.3);
    expect(totals.retriesStoppedBy.retry_budget).toBeGreaterThan(400);
    expect(totals.failed).toBe(600);
    // Over the last 20 s: 400 requests, 0.2 × 400 retries plus the floor of two windows (and one partly).
    const late = buckets.slice(10).reduce((n, b) => n + b.attempts, 0);
    expect(late).toBeLessThanOrEqual(400 + 0.2 * 400 + 10 * 3);
  });

  it("does not retry a 500 when retry_on_500 is off, nor a 501 ever", async () => {
    const off = await simulate({
      ...failing({ ratio: 10, minPerWindow: 1000, windowMs: 10_000 }),
      retries: { maxRetries: 3, baseMs: 100, capMs: 1000, retryOn500: false },
    });
    expect(off.totals.attemptsPerRequest).toBe(1);
    const base = failing({ ratio: 10, minPerWindow: 1000, windowMs: 10_000 });
    const notImplemented = await simulate({ ...base, faults: { ...base.faults, errorStatus: 501 } });
    expect(notImplemented.totals.attemptsPerRequest).toBe(1);
    const unavailable = await simulate({
      ...base,
      faults: { ...base.faults, errorStatus: 503 },
      retries: { ...base.retries, retryOn500: false },
    });
    expect(unavailable.totals.attemptsPerRequest).toBe(4);
  });

  it("retries hide occasional failures while the budget covers them, and stop hiding them when it binds", async () => {
    const guard = guardConfig({ breaker: NEVER_OPENS });
    const traffic = { requestsPerSecond: 20, durationSeconds: 30 };
    // 10 % failures need ~0.11 retries per request: within 0.2 per request.
    const light = await simulate(input({ guard, traffic, faults: { errorRate: 0.1, latencyMs: 50 } }));
    expect(light.totals.successRate).toBeGreaterThan(0.99);
    expect(light.totals.attemptsPerRequest).toBeGreaterThan(1.05);
    expect(light.totals.attemptsPerRequest).toBeLessThan(1.2);
    expect(light.totals.retriesStoppedBy.retry_budget ?? 0).toBe(0);
    // 40 % failures would need ~0.65: the budget refuses the excess, and those callers get 502s.
    const heavy = await simulate(input({ guard, traffic, faults: { errorRate: 0.4, latencyMs: 50 } }));
    expect(heavy.totals.retriesStoppedBy.retry_budget).toBeGreaterThan(50);
    expect(heavy.totals.attemptsPerRequest).toBeLessThan(1.3);
    expect(heavy.totals.successRate).toBeLessThan(0.85);
  });
});

describe("deadlines", () => {
  it("an agent slower than the deadline gives 504s, never retried", async () => {
    const { totals, buckets } = await simulate(
      input({
        guard: guardConfig({ breaker: NEVER_OPENS }),
        deadlineMs: 1000,
        faults: { errorRate: 0, latencyMs: 2000 },
      }),
    );
    expect(totals.timedOut).toBe(100);
    expect(totals.attempts).toBe(100);
    expect(totals.ok).toBe(0);
    expect(buckets[0]!.timedOut).toBe(10);
    // Each request gave up at its own deadline.
    expect(totals.endedAtMs).toBe(9900 + 1000);
  });

  it("timeouts are breaker failures: after five, callers get circuit_open instead of waiting", async () => {
    const { totals } = await simulate(input({ deadlineMs: 1000, faults: { errorRate: 0, latencyMs: 2000 } }));
    // Five 504s open it; the requests sent meanwhile (within the 1 s deadline) are already in flight.
    expect(totals.breakerTransitions[0]).toMatchObject({ to: "open", cause: "5 consecutive failures" });
    expect(totals.timedOut).toBeLessThan(20);
    expect(totals.rejected.circuit_open).toBeGreaterThan(80);
  });

  it("a tail beyond the deadline turns only the slow requests into 504s", async () => {
    const { totals } = await simulate(
      input({
        guard: guardConfig({ breaker: NEVER_OPENS }),
        deadlineMs: 500,
        traffic: { requestsPerSecond: 50, durationSeconds: 20 },
        faults: { errorRate: 0, latencyMs: { p50: 200, p95: 600 } },
      }),
    );
    // P(latency > 500) for a log-normal with median 200 and p95 600 is about 8 %.
    expect(totals.timedOut / totals.requests).toBeGreaterThan(0.04);
    expect(totals.timedOut / totals.requests).toBeLessThan(0.12);
    expect(totals.ok + totals.timedOut).toBe(totals.requests);
    expect(totals.latencyMs!.p95).toBeLessThan(500);
  });

  it("a backoff sleep that would end past the deadline is not taken", async () => {
    const { totals } = await simulate(
      input({
        guard: guardConfig({ breaker: NEVER_OPENS, retryBudget: { ratio: 10, minPerWindow: 1000, windowMs: 10_000 } }),
        deadlineMs: 1000,
        retries: { baseMs: 5000, capMs: 5000 },
        faults: { errorRate: 1, latencyMs: 50 },
      }),
    );
    expect(totals.retriesStoppedBy.deadline).toBeGreaterThan(50);
    // A retry after a sleep that was short enough may still run out of time (an attempt takes 50 ms).
    expect(totals.failed + totals.timedOut).toBe(100);
    expect(totals.failed).toBeGreaterThan(90);
    expect(totals.endedAtMs).toBeLessThanOrEqual(9900 + 1000);
  });

  it("timeoutRate hangs that share of attempts until the deadline", async () => {
    const { totals } = await simulate(
      input({
        guard: guardConfig({ breaker: NEVER_OPENS }),
        deadlineMs: 2000,
        traffic: { requestsPerSecond: 20, durationSeconds: 20 },
        faults: { errorRate: 0, timeoutRate: 0.1, latencyMs: 50 },
      }),
    );
    expect(totals.timedOut / totals.requests).toBeGreaterThan(0.07);
    expect(totals.timedOut / totals.requests).toBeLessThan(0.13);
    expect(totals.ok + totals.timedOut).toBe(totals.requests);
  });
});
