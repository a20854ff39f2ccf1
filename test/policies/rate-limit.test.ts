/** GCRA rate limiting: burst, refill, window edges, denied requests, IETF headers, persistence. */
import { describe, expect, it } from "vitest";
import {
  Gcra,
  rateLimitHeaders,
  retryAfterSeconds,
  type RateLimitConfig,
} from "../../durable-objects/upstream-guard/src/policies";
import { T0, mulberry32, viaJson } from "./helpers";

const TEN_PER_SECOND: RateLimitConfig = { limit: 10, periodMs: 1_000, burst: 10 }; // T = 100 ms

function admitted(gcra: Gcra, now: number, calls: number): number {
  let passed = 0;
  for (let i = 0; i < calls; i++) if (gcra.take(now).allowed) passed++;
  return passed;
}

describe("GCRA rate limit", () => {
  it("17. L+k simultaneous → exactly L admitted; one more after the refill interval", () => {
    for (const k of [1, 5, 100]) {
      const g = new Gcra(TEN_PER_SECOND);
      expect(admitted(g, T0, 10 + k)).toBe(10);
      expect(g.take(T0 + 99)).toMatchObject({ allowed: false, retryAfterMs: 1 });
      expect(admitted(g, T0 + 100, 5)).toBe(1);
      expect(admitted(g, T0 + 200, 5)).toBe(1);
    }
    // Fractional emission interval (1000 / 3 ms): no float drift over many refills.
    const g = new Gcra({ limit: 3, periodMs: 1_000, burst: 3 });
    expect(admitted(g, T0, 10)).toBe(3);
    let passed = 0;
    for (let ms = 1; ms <= 60_000; ms++) if (g.take(T0 + ms).allowed) passed++;
    expect(passed).toBe(180);
    // A burst smaller than the limit: B at once, then one every T.
    const small = new Gcra({ limit: 100, periodMs: 10_000, burst: 4 });
    expect(admitted(small, T0, 50)).toBe(4);
    expect(admitted(small, T0 + 100, 50)).toBe(1);
  });

  it("18. headers follow the IETF RateLimit draft", () => {
    const g = new Gcra(TEN_PER_SECOND);
    const first = g.take(T0);
    expect(first).toEqual({ allowed: true, remaining: 9, retryAfterMs: 0, resetMs: 100, limit: 10 });
    expect(rateLimitHeaders("upstream", TEN_PER_SECOND, first)).toEqual({
      "RateLimit-Policy": '"upstream";q=10;w=1',
      RateLimit: '"upstream";r=9;t=1',
    });
    admitted(g, T0, 9);
    const denied = g.take(T0 + 50);
    expect(denied).toEqual({ allowed: false, remaining: 0, retryAfterMs: 50, resetMs: 950, limit: 10 });
    expect(rateLimitHeaders("upstream", TEN_PER_SECOND, denied)).toEqual({
      "RateLimit-Policy": '"upstream";q=10;w=1',
      RateLimit: '"upstream";r=0;t=1',
      "Retry-After": "1",
    });
    const perMinute: RateLimitConfig = { limit: 60, periodMs: 60_000, burst: 60 };
    const h = rateLimitHeaders('agent "demo"\\x', perMinute, new Gcra(perMinute).take(T0));
    expect(h).toEqual({
      "RateLimit-Policy": '"agent \\"demo\\"\\\\x";q=60;w=60',
      RateLimit: '"agent \\"demo\\"\\\\x";r=59;t=1',
    });
    expect(() => rateLimitHeaders("bad\nname", perMinute, new Gcra(perMinute).peek(T0))).toThrow(RangeError);
    expect([0, -5, Number.NaN, 1, 999, 1_000, 1_001, 61_000].map(retryAfterSeconds)).toEqual([1, 1, 1, 1, 1, 1, 2, 61]);
  });

  it("19. no double burst at a window edge", () => {
    const g = new Gcra(TEN_PER_SECOND);
    const beforeEdge = admitted(g, T0 + 999, 20);
    const afterEdge = admitted(g, T0 + 1_001, 20);
    expect(beforeEdge).toBe(10);
    expect(afterEdge).toBe(0); // a fixed window would allow another 10 here
    expect(admitted(g, T0 + 1_099, 20)).toBe(1);

    // Random traffic: any interval [t, t + d] admits at most B + floor(d / T).
    const config: RateLimitConfig = { limit: 10, periodMs: 1_000, burst: 5 };
    const r = new Gcra(config);
    const rand = mulberry32(19);
    const times: number[] = [];
    let now = T0;
    for (let i = 0; i < 20_000; i++) {
      now += Math.floor(rand() * 20);
      if (r.take(now).allowed) times.push(now);
    }
    let worst = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && (times[j] ?? 0) - (times[i] ?? 0) <= 999) j++;
      worst = Math.max(worst, j - i);
    }
    expect(worst).toBeLessThanOrEqual(5 + 9);
    expect(times.length).toBeGreaterThan(((now - T0) / 1_000) * 10 - 1);
  });

  it("20. denied requests consume no quota", () => {
    const g = new Gcra(TEN_PER_SECOND);
    admitted(g, T0, 10);
    const exhausted = g.toJSON();
    for (let ms = 0; ms < 100; ms++) for (let i = 0; i < 10; i++) expect(g.take(T0 + ms).allowed).toBe(false);
    expect(g.toJSON()).toEqual(exhausted);
    expect(g.peek(T0 + 100)).toMatchObject({ allowed: true, remaining: 0 });
    expect(g.toJSON()).toEqual(exhausted); // peek never consumes either
    expect(g.take(T0 + 100).allowed).toBe(true);
    expect(g.take(T0 + 100).allowed).toBe(false);
    // After a full idle period the bucket is full again.
    expect(g.peek(T0 + 2_100)).toEqual({ allowed: true, remaining: 9, retryAfterMs: 0, resetMs: 100, limit: 10 });
  });

  it("retryAfterMs and resetMs are exact to the millisecond", () => {
    const rand = mulberry32(2020);
    for (let round = 0; round < 200; round++) {
      const limit = 1 + Math.floor(rand() * 20);
      const config: RateLimitConfig = {
        limit,
        periodMs: [7, 333, 1_000, 60_000][round % 4] ?? 1_000,
        burst: 1 + Math.floor(rand() * (limit + 3)),
      };
      const g = new Gcra(config);
      let now = T0 + Math.floor(rand() * 1_000);
      for (let i = 0; i < 50; i++) {
        now += Math.floor(rand() * 3 * (config.periodMs / limit));
        const d = g.take(now);
        if (!d.allowed) {
          expect(g.peek(now + d.retryAfterMs).allowed).toBe(true);
          if (d.retryAfterMs > 1) expect(g.peek(now + d.retryAfterMs - 1).allowed).toBe(false);
        }
        expect(g.peek(now + d.resetMs).remaining).toBe(config.burst - 1);
        if (d.resetMs > 0 && config.burst > 1)
          expect(g.peek(now + d.resetMs - 1).remaining).toBeLessThan(config.burst - 1);
      }
    }
  });

  it("rejects bad config with RangeError", () => {
    for (const patch of [
      { limit: 0 },
      { limit: 1.5 },
      { periodMs: 0 },
      { periodMs: Number.POSITIVE_INFINITY },
      { burst: 0 },
      { burst: -1 },
    ]) {
      expect(() => new Gcra({ ...TEN_PER_SECOND, ...patch }), JSON.stringify(patch)).toThrow(RangeError);
    }
  });

  it("10. state survives a toJSON/restore round trip", () => {
    const config: RateLimitConfig = { limit: 7, periodMs: 1_000, burst: 3 };
    const rand = mulberry32(10);
    let live = new Gcra(config);
    let now = T0;
    for (let i = 0; i < 5_000; i++) {
      now += Math.floor(rand() * 200);
      const restored = Gcra.restore(config, viaJson(live.toJSON()));
      expect(restored.peek(now)).toEqual(live.peek(now));
      expect(restored.take(now)).toEqual(live.take(now));
      expect(restored.toJSON()).toEqual(live.toJSON());
      if (rand() < 0.5) live = restored;
    }
    expect(() => Gcra.restore(config, viaJson({ tat: null as unknown as number }))).toThrow(TypeError);
  });
});
