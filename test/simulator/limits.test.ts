/**
 * The simulator's admission limits (the upstream guard's own policies): the
 * per-agent and per-key rate limits, concurrency permits and the daily token
 * budget refuse first attempts beyond the limit, without calling the agent.
 * Also: the same seed gives the same result.
 */
import { describe, expect, it } from "vitest";
import { simulate } from "../../dashboard/src/simulator";
import { guardConfig, input } from "./helpers";

describe("rate limits", () => {
  const limited = input({
    guard: guardConfig({ rateLimit: { limit: 60, periodMs: 60_000, burst: 10 } }),
    traffic: { requestsPerSecond: 5, durationSeconds: 20 },
  });

  it("admits the burst, then one request per second (60/min); the rest are rate_limited", async () => {
    const { buckets, totals } = await simulate(limited);
    expect(totals.requests).toBe(100);
    // 10 at once plus one per second after the first: GCRA, exact.
    expect(totals.ok).toBeGreaterThanOrEqual(10 + 19);
    expect(totals.ok).toBeLessThanOrEqual(10 + 20);
    expect(totals.rejected.rate_limited).toBe(totals.requests - totals.ok);
    expect(totals.attempts).toBe(totals.ok);
    expect(buckets[0]).toMatchObject({ sent: 5, ok: 5 });
    for (const b of buckets.slice(5)) {
      expect(b.ok).toBe(1);
      expect(b.rejected.rate_limited).toBe(4);
    }
    // Refusals are not failures: the breaker stays closed.
    expect(totals.breakerTransitions).toEqual([]);
  });

  it("a higher limit admits everything", async () => {
    const { totals } = await simulate({
      ...limited,
      guard: guardConfig({ rateLimit: { limit: 600, periodMs: 60_000, burst: 10 } }),
    });
    expect(totals.ok).toBe(100);
    expect(totals.rejected.rate_limited).toBe(0);
  });

  it("the per-key limit applies to each API key on its own", async () => {
    const perKey = guardConfig({ keyRateLimit: { limit: 60, periodMs: 60_000, burst: 5 } });
    const traffic = { requestsPerSecond: 8, durationSeconds: 20 };
    const one = await simulate(input({ guard: perKey, traffic: { ...traffic, keys: 1 } }));
    const four = await simulate(input({ guard: perKey, traffic: { ...traffic, keys: 4 } }));
    expect(one.totals.rejected.key_rate_limited).toBe(one.totals.requests - one.totals.ok);
    // Each key gets its burst of 5 and then 1/s over about 20 s.
    expect(one.totals.ok).toBeGreaterThanOrEqual(5 + 19);
    expect(one.totals.ok).toBeLessThanOrEqual(5 + 20);
    expect(four.totals.ok).toBeGreaterThanOrEqual(4 * (5 + 19));
    expect(four.totals.ok).toBeLessThanOrEqual(4 * (5 + 20));
    expect(four.totals.rejected.rate_limited).toBe(0);
  });

  it("retries skip the rate limits (they spend the retry budget instead)", async () => {
    const guard = guardConfig({
      breaker: { failureThreshold: 1000, openMs: 5000, halfOpenProbes: 1 },
      rateLimit: { limit: 60, periodMs: 60_000, burst: 10 },
      retryBudget: { ratio: 10, minPerWindow: 1000, windowMs: 10_000 },
    });
    const { totals } = await simulate({ ...limited, guard, faults: { errorRate: 1, latencyMs: 50 } });
    const admitted = totals.requests - totals.rejected.rate_limited;
    expect(totals.attempts).toBeGreaterThan(admitted);
    expect(totals.attempts).toBe(admitted * 4);
  });
});

describe("concurrency and token budget", () => {
  it("maxConcurrent permits bound the requests in flight; the rest are refused with concurrency", async () => {
    const { buckets, totals } = await simulate(
      input({ guard: guardConfig({ maxConcurrent: 2 }), faults: { errorRate: 0, latencyMs: 1000 } }),
    );
    // Two permits held for 1 s each: two successes per second.
    expect(totals.ok).toBe(20);
    expect(totals.rejected.concurrency).toBe(80);
    for (const b of buckets) expect(b).toMatchObject({ ok: 2, attempts: 2 });
  });

  it("the daily token budget refuses calls once the reserved estimates use it up", async () => {
    const { totals, buckets } = await simulate(
      input({ guard: guardConfig({ maxTokensPerDay: 5000 }), tokenEstimate: 1000 }),
    );
    expect(totals.ok).toBe(5);
    expect(totals.rejected.token_budget).toBe(95);
    expect(buckets[0]!.ok).toBe(5);
  });
});

describe("determinism", () => {
  const noisy = input({
    traffic: { requestsPerSecond: 20, durationSeconds: 30 },
    faults: { errorRate: 0.3, timeoutRate: 0.02, latencyMs: { p50: 120, p95: 900 } },
    deadlineMs: 3000,
  });

  it("the same seed gives the same result", async () => {
    const a = await simulate(noisy);
    const b = await simulate(structuredClone(noisy));
    expect(b).toEqual(a);
    expect(a.totals.breakerTransitions.length).toBeGreaterThan(0);
  });

  it("another seed gives another run", async () => {
    const a = await simulate(noisy);
    const b = await simulate({ ...noisy, seed: noisy.seed + 1 });
    expect(b).not.toEqual(a);
    expect(b.totals.requests).toBe(a.totals.requests);
  });

  it("runs are independent: nothing is shared between simulations", async () => {
    const first = await simulate(noisy);
    await simulate({ ...noisy, faults: { errorRate: 1, latencyMs: 10 } });
    expect(await simulate(noisy)).toEqual(first);
  });
});
