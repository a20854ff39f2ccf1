/** Request metrics of one agent (pure): counters, histogram buckets, minute windows, percentile estimates, persistence. */
import { describe, expect, it } from "vitest";
import {
  AgentMetrics,
  LATENCY_BUCKETS_S,
  MINUTES_KEPT,
  bucketIndex,
  estimateQuantileMs,
} from "../../durable-objects/upstream-guard/src/metrics";
import { T0, viaJson } from "./helpers";

const ok = (durationMs: number, status = 200) => ({ capability: "echo", outcome: { status, durationMs }, retries: 0 });

describe("agent metrics", () => {
  it("counts requests by capability and status, latency per capability, retries, rejections, transitions and tokens", () => {
    const m = new AgentMetrics();
    m.record(T0, ok(3));
    m.record(T0, ok(40));
    m.record(T0, { capability: "chaos", outcome: { status: 502, durationMs: 2100 }, retries: 3 });
    m.record(T0, {
      capability: "chaos",
      outcome: { status: 503, durationMs: 0 },
      retries: 0,
      rejection: "circuit_open",
    });
    m.record(T0, { capability: "echo", retries: 1, rejection: "retry_budget" }); // a fallback's attempts: no outcome
    m.countTransitions([
      { from: "closed", to: "open", at: T0, cause: "x" },
      { from: "open", to: "half_open", at: T0, cause: "x" },
      { from: "half_open", to: "open", at: T0, cause: "x" },
    ]);
    m.addTokens(59);
    m.addTokens(-1);
    m.addTokens(Number.NaN);
    const c = m.toJSON();
    expect(c.requests).toEqual({ echo: { "200": 2 }, chaos: { "502": 1, "503": 1 } });
    expect(c.retries).toBe(4);
    expect(c.rejections).toEqual({ circuit_open: 1, retry_budget: 1 });
    expect(c.transitions).toEqual({ open: 2, half_open: 1 });
    expect(c.tokens).toBe(59);
    expect(c.latency.echo?.count).toBe(2);
    expect(c.latency.echo?.sum).toBeCloseTo(0.043, 9);
    expect(c.latency.echo?.buckets).toHaveLength(LATENCY_BUCKETS_S.length + 1);
    expect(c.latency.echo?.buckets[0]).toBe(1); // 3 ms ≤ 5 ms
    expect(c.latency.echo?.buckets[3]).toBe(1); // 40 ms in (25, 50]
    expect(c.latency.chaos?.buckets[9]).toBe(1); // 2.1 s in (2, 2.5]
  });

  it("puts a value equal to a bound in that bound's bucket (le), and beyond 30 s in +Inf", () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(5)).toBe(0);
    expect(bucketIndex(5.1)).toBe(1);
    expect(bucketIndex(1000)).toBe(7);
    expect(bucketIndex(30_000)).toBe(12);
    expect(bucketIndex(30_001)).toBe(13);
  });

  it("estimates quantiles by interpolating within the bucket holding the rank, never above the slowest request", () => {
    const buckets = new Array<number>(14).fill(0);
    buckets[4] = 100; // 100 requests in (50, 100] ms
    expect(estimateQuantileMs(buckets, 0.5, 100)).toBe(75);
    expect(estimateQuantileMs(buckets, 0.95, 100)).toBe(97.5);
    expect(estimateQuantileMs(buckets, 0.5, 60)).toBe(55); // capped by the max: interpolated within (50, 60]
    const tail = new Array<number>(14).fill(0);
    tail[0] = 99;
    tail[13] = 1; // one request beyond 30 s
    expect(estimateQuantileMs(tail, 0.5, 45_000)).toBeCloseTo(2.5, 5);
    expect(estimateQuantileMs(tail, 0.999, 45_000)).toBe(43_500); // between 30 s and the slowest (45 s)
    expect(estimateQuantileMs(tail, 1, 45_000)).toBe(45_000);
    expect(estimateQuantileMs(new Array<number>(14).fill(0), 0.5, 0)).toBeNull();
  });

  it("windows: 1, 5 and 60 minutes of minute buckets; rate over the time they cover; errors are status >= 500", () => {
    const m = new AgentMetrics();
    const minute = Math.floor(T0 / 60_000) * 60_000;
    m.record(minute - 30 * 60_000, ok(10)); // 30 min ago
    m.record(minute - 3 * 60_000, ok(10, 500)); // 3 min ago
    m.record(minute + 1000, ok(10));
    m.record(minute + 2000, ok(10, 404));
    const now = minute + 30_000;
    const w = m.windows(now);
    expect(w["1m"]).toMatchObject({ requests: 2, error_rate: 0 });
    expect(w["1m"].rate_per_s).toBeCloseTo(2 / 30, 3);
    expect(w["5m"]).toMatchObject({ requests: 3, error_rate: 0.3333 });
    expect(w["5m"].rate_per_s).toBeCloseTo(3 / 270, 3);
    expect(w["60m"]).toMatchObject({ requests: 4, error_rate: 0.25 });
    expect(w["60m"].p50_ms).toBe(7.5); // all in (5, 10], max 10
    expect(m.window(now + 60 * 60_000, 60)).toEqual({
      requests: 0,
      rate_per_s: 0,
      error_rate: null,
      p50_ms: null,
      p95_ms: null,
      p99_ms: null,
    });
  });

  it("keeps the last hour of minute buckets and reports which changed, for write-through", () => {
    const m = new AgentMetrics();
    m.record(T0, ok(1));
    m.record(T0 + 1, ok(1));
    let dirty = m.takeDirtyMinutes();
    expect(dirty.changed).toHaveLength(1);
    expect(dirty.changed[0]?.count).toBe(2);
    expect(m.takeDirtyMinutes().changed).toEqual([]);
    m.record(T0 + MINUTES_KEPT * 60_000, ok(1));
    dirty = m.takeDirtyMinutes();
    expect(dirty.oldestKept).toBe(Math.floor(T0 / 60_000) + 1);
    expect(m.window(T0 + MINUTES_KEPT * 60_000, 60).requests).toBe(1);
    expect(m.window(T0 + 30_000, 1).requests).toBe(0); // the old minute was pruned
  });

  it("restores from its JSON (counters and minutes) and keeps counting", () => {
    const m = new AgentMetrics();
    m.record(T0, ok(20));
    m.addTokens(10);
    const restored = AgentMetrics.restore(viaJson(m.toJSON()), viaJson(m.takeDirtyMinutes().changed));
    restored.record(T0, ok(20));
    expect(restored.toJSON().requests.echo?.["200"]).toBe(2);
    expect(restored.toJSON().tokens).toBe(10);
    expect(restored.window(T0, 1).requests).toBe(2);
    expect(m.toJSON().requests.echo?.["200"]).toBe(1); // independent copies
  });
});
