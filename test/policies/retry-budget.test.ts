/** Retry budget: ratio plus floor over a bucketed rolling window, under total failure; persistence. */
import { describe, expect, it } from "vitest";
import { RetryBudget, type RetryBudgetConfig } from "../../durable-objects/upstream-guard/src/policies";
import { T0, mulberry32, viaJson } from "./helpers";

const CONFIG: RetryBudgetConfig = { ratio: 0.2, minPerWindow: 10, windowMs: 10_000 }; // 10 buckets of 1 s

function countIn(times: readonly number[], from: number, to: number): number {
  return times.filter((t) => t >= from && t < to).length;
}

describe("retry budget", () => {
  it("requests and retries in the same bucket stay counted (a burst at one instant)", () => {
    const budget = new RetryBudget(CONFIG);
    for (let i = 0; i < 100; i++) budget.recordRequest(T0);
    let granted = 0;
    for (let i = 0; i < 100; i++) if (budget.tryRetry(T0 + 1)) granted++;
    expect(granted).toBe(0.2 * 100 + 10);
    expect(budget.stats(T0 + 2)).toEqual({ requests: 100, retries: 30, available: 0 });
  });

  it("15. at 100% failure, retries stay ≤ 20% of requests plus the floor", () => {
    const budget = new RetryBudget(CONFIG);
    const requests: number[] = [];
    const retries: number[] = [];
    let t = T0;
    for (let i = 0; i < 10_000; i++) {
      t = T0 + i * 7; // 10 000 requests over 70 s, every attempt fails
      budget.recordRequest(t);
      requests.push(t);
      let retried = 0;
      while (retried < 3 && budget.tryRetry(t + retried + 1)) {
        retries.push(t + retried + 1);
        retried++;
      }
      const { requests: r, retries: q } = budget.stats(t + retried);
      expect(q).toBeLessThanOrEqual(0.2 * r + 10);
    }
    // Every window of windowMs aligned to a bucket edge, sliding one bucket at a time.
    let windows = 0;
    for (let a = T0 - 9_000; a <= t; a += 1_000) {
      const inWindow = countIn(retries, a, a + 10_000);
      expect(inWindow, `window at +${a - T0} ms`).toBeLessThanOrEqual(0.2 * countIn(requests, a, a + 10_000) + 10);
      windows++;
    }
    expect(windows).toBe(79);
    // Overall: 20% of all requests plus at most one floor per window-length of traffic.
    const floors = Math.ceil((t - T0) / 10_000) + 1;
    expect(retries.length).toBeLessThanOrEqual(0.2 * requests.length + 10 * floors);
    expect(retries.length).toBeGreaterThanOrEqual(0.2 * requests.length); // the budget is actually used
    expect(retries.length / requests.length).toBeLessThan(0.22);
  });

  it("the floor allows retries without traffic; the ratio adds to it", () => {
    const b = new RetryBudget(CONFIG);
    let granted = 0;
    while (granted < 1_000 && b.tryRetry(T0)) granted++;
    expect(granted).toBe(10);
    expect(b.stats(T0)).toEqual({ requests: 0, retries: 10, available: 0 });
    for (let i = 0; i < 100; i++) b.recordRequest(T0 + 500);
    expect(b.stats(T0 + 500)).toEqual({ requests: 100, retries: 10, available: 20 });
    for (let i = 0; i < 15; i++) b.recordRequest(T0 + 600); // 0.2 × 115 = 23.000000000000004
    while (granted < 1_000 && b.tryRetry(T0 + 700)) granted++;
    expect(granted).toBe(33);
    // 0.29 × 100 = 28.999999999999996 must still grant 29.
    const c = new RetryBudget({ ...CONFIG, ratio: 0.29, minPerWindow: 0 });
    for (let i = 0; i < 100; i++) c.recordRequest(T0);
    expect(c.stats(T0).available).toBe(29);
    let more = 0;
    while (more < 1_000 && c.tryRetry(T0)) more++;
    expect(more).toBe(29);
  });

  it("the window rolls one bucket at a time", () => {
    const b = new RetryBudget({ ...CONFIG, minPerWindow: 0 });
    for (let i = 0; i < 50; i++) b.recordRequest(T0); // bucket [T0, T0 + 1 s)
    for (let i = 0; i < 10; i++) expect(b.tryRetry(T0 + 999)).toBe(true);
    expect(b.tryRetry(T0 + 999)).toBe(false);
    expect(b.stats(T0 + 9_999)).toEqual({ requests: 50, retries: 10, available: 0 });
    expect(b.stats(T0 + 10_000)).toEqual({ requests: 0, retries: 0, available: 0 });
    for (let i = 0; i < 5; i++) b.recordRequest(T0 + 5_000);
    expect(b.stats(T0 + 14_999)).toEqual({ requests: 5, retries: 0, available: 1 });
    expect(b.tryRetry(T0 + 14_999)).toBe(true);
    expect(b.tryRetry(T0 + 10 * 60_000)).toBe(false); // long idle: everything expired
    expect(b.stats(T0 + 10 * 60_000)).toEqual({ requests: 0, retries: 0, available: 0 });
  });

  it("rejects bad config with RangeError", () => {
    const bad: Partial<RetryBudgetConfig>[] = [
      { ratio: -0.1 },
      { minPerWindow: -1 },
      { windowMs: 0 },
      { buckets: 0 },
      { buckets: 2.5 },
      { ratio: Number.NaN },
    ];
    for (const patch of bad)
      expect(() => new RetryBudget({ ...CONFIG, ...patch }), JSON.stringify(patch)).toThrow(RangeError);
  });

  it("10. state survives a toJSON/restore round trip", () => {
    const config: RetryBudgetConfig = { ratio: 0.25, minPerWindow: 3, windowMs: 2_000, buckets: 4 };
    const rand = mulberry32(1515);
    let live = new RetryBudget(config);
    let now = T0;
    for (let i = 0; i < 5_000; i++) {
      now += Math.floor(rand() * 150);
      const restored = RetryBudget.restore(config, viaJson(live.toJSON()));
      if (rand() < 0.6) [live, restored].forEach((b) => b.recordRequest(now));
      else expect(restored.tryRetry(now)).toBe(live.tryRetry(now));
      expect(restored.stats(now)).toEqual(live.stats(now));
      expect(restored.toJSON()).toEqual(live.toJSON());
      if (rand() < 0.5) live = restored;
    }
    expect(live.toJSON().requests).toHaveLength(4);
    // A snapshot taken with another bucket count cannot be mapped: it starts empty.
    const other = RetryBudget.restore({ ...config, buckets: 8 }, viaJson(live.toJSON()));
    expect(other.stats(now)).toEqual({ requests: 0, retries: 0, available: 3 });
  });
});
