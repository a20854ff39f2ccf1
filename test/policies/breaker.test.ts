/** Circuit breaker state machine: opening, half-open probes, leases, neutral outcomes, admin, persistence. */
import { describe, expect, it } from "vitest";
import { CircuitBreaker, type BreakerConfig } from "../../durable-objects/upstream-guard/src/policies";
import { T0, mulberry32, viaJson } from "./helpers";

const CONFIG: BreakerConfig = { failureThreshold: 5, openMs: 30_000, halfOpenProbes: 2, probeLeaseMs: 10_000 };

/** A breaker opened at T0 by `failureThreshold` failures, transitions already taken. */
function openedAt(now: number, config: BreakerConfig = CONFIG): CircuitBreaker {
  const b = new CircuitBreaker(config);
  for (let i = 0; i < config.failureThreshold; i++) b.onFailure(now);
  expect(b.peek(now).state).toBe("open");
  b.takeTransitions();
  return b;
}

describe("circuit breaker", () => {
  it("runs inside workerd", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
  });

  it("1. 4 consecutive failures leave it closed; the 5th opens it", () => {
    const b = new CircuitBreaker(CONFIG);
    for (let i = 0; i < 4; i++) b.onFailure(T0 + i);
    expect(b.peek(T0 + 4)).toEqual({ state: "closed", retryAfterMs: 0 });
    expect(b.tryAcquire(T0 + 4, "a")).toEqual({ allowed: true, state: "closed", probe: false });
    expect(b.stats(T0 + 4).consecutiveFailures).toBe(4);
    b.onFailure(T0 + 5);
    expect(b.peek(T0 + 5)).toEqual({ state: "open", retryAfterMs: 30_000, openUntil: T0 + 5 + 30_000 });
    expect(b.tryAcquire(T0 + 6, "b")).toEqual({ allowed: false, state: "open", retryAfterMs: 29_999 });
    expect(b.takeTransitions()).toEqual([{ from: "closed", to: "open", at: T0 + 5, cause: "5 consecutive failures" }]);
  });

  it("2. a success in between resets the count", () => {
    const b = new CircuitBreaker(CONFIG);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 4; i++) b.onFailure(T0);
      b.onSuccess(T0);
      expect(b.stats(T0).consecutiveFailures).toBe(0);
    }
    expect(b.peek(T0).state).toBe("closed");
    for (let i = 0; i < 5; i++) b.onFailure(T0);
    expect(b.peek(T0).state).toBe("open");
  });

  it("4. still open just before open_ms; the first call after → half-open", () => {
    const b = openedAt(T0);
    const before = b.toJSON();
    expect(b.tryAcquire(T0 + 29_999, "early")).toEqual({ allowed: false, state: "open", retryAfterMs: 1 });
    // peek reports the lazy half-open but does not materialise it.
    expect(b.peek(T0 + 30_000)).toEqual({ state: "half_open", retryAfterMs: 0, openUntil: T0 + 30_000 });
    expect(b.toJSON()).toEqual(before);
    expect(b.takeTransitions()).toEqual([]);
    expect(b.tryAcquire(T0 + 30_000, "p1")).toEqual({ allowed: true, state: "half_open", probe: true });
    expect(b.takeTransitions()).toEqual([{ from: "open", to: "half_open", at: T0 + 30_000, cause: "open_ms elapsed" }]);
  });

  it("5. half-open admits exactly N concurrent probes", () => {
    const b = openedAt(T0, { ...CONFIG, halfOpenProbes: 3 });
    const at = T0 + 30_000;
    const admitted = ["p1", "p2", "p3", "p4", "p5"].map((id) => b.tryAcquire(at, id));
    expect(admitted.filter((a) => a.allowed)).toHaveLength(3);
    expect(admitted[3]).toEqual({ allowed: false, state: "half_open", retryAfterMs: 10_000 });
    expect(b.stats(at).activeProbes).toBe(3);
    expect(b.peek(at + 1)).toEqual({ state: "half_open", retryAfterMs: 9_999 });
    // Re-acquiring a held probe id renews it instead of taking a fourth slot.
    expect(b.tryAcquire(at + 1, "p2")).toMatchObject({ allowed: true, probe: true });
    expect(b.stats(at + 1).activeProbes).toBe(3);
    expect(b.takeTransitions()).toHaveLength(1);
  });

  it("6. probe success closes and resets; probe failure reopens with a fresh open_ms", () => {
    const ok = openedAt(T0);
    ok.tryAcquire(T0 + 30_000, "p1");
    ok.tryAcquire(T0 + 30_000, "p2");
    ok.onSuccess(T0 + 30_100, "p1");
    expect(ok.stats(T0 + 30_100)).toEqual({
      state: "closed",
      consecutiveFailures: 0,
      windowCalls: 0,
      windowFailures: 0,
      activeProbes: 0,
    });
    expect(ok.takeTransitions().map((t) => [t.from, t.to, t.cause])).toEqual([
      ["open", "half_open", "open_ms elapsed"],
      ["half_open", "closed", "probe succeeded"],
    ]);
    ok.onFailure(T0 + 30_200, "p2"); // the other probe's late answer counts as an ordinary Closed failure
    expect(ok.stats(T0 + 30_200).consecutiveFailures).toBe(1);

    const bad = openedAt(T0);
    bad.tryAcquire(T0 + 40_000, "p1");
    bad.onFailure(T0 + 45_000, "p1");
    expect(bad.peek(T0 + 45_000)).toEqual({ state: "open", retryAfterMs: 30_000, openUntil: T0 + 75_000 });
    expect(bad.tryAcquire(T0 + 74_999, "p2")).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(bad.tryAcquire(T0 + 75_000, "p2")).toMatchObject({ allowed: true, probe: true });
    expect(bad.takeTransitions().map((t) => `${t.from}→${t.to}@${t.at - T0}:${t.cause}`)).toEqual([
      "open→half_open@40000:open_ms elapsed",
      "half_open→open@45000:probe failed",
      "open→half_open@75000:open_ms elapsed",
    ]);
  });

  it("7. a lost probe lease expires; half-open never wedges", () => {
    const b = openedAt(T0, { ...CONFIG, halfOpenProbes: 1 });
    const at = T0 + 30_000;
    expect(b.tryAcquire(at, "lost")).toMatchObject({ allowed: true, probe: true });
    expect(b.tryAcquire(at + 9_999, "next")).toEqual({ allowed: false, state: "half_open", retryAfterMs: 1 });
    expect(b.tryAcquire(at + 10_000, "next")).toMatchObject({ allowed: true, probe: true });
    b.onSuccess(at + 10_500, "lost"); // the lost prober answers after its lease: ignored
    expect(b.peek(at + 10_500).state).toBe("half_open");
    b.onSuccess(at + 11_000, "next");
    expect(b.peek(at + 11_000).state).toBe("closed");

    // An expired lease that nobody cleaned up yet does not count either.
    const c = openedAt(T0, { ...CONFIG, halfOpenProbes: 1 });
    c.tryAcquire(at, "slow");
    c.onFailure(at + 10_000, "slow");
    expect(c.stats(at + 10_000)).toMatchObject({ state: "half_open", activeProbes: 0 });
    c.tryAcquire(at + 10_001, "slow2");
    c.onSuccess(at + 20_001, "slow2");
    expect(c.peek(at + 20_001).state).toBe("half_open");
    expect(c.takeTransitions()).toHaveLength(1);
  });

  it("8. neutral outcomes count as neither", () => {
    const b = new CircuitBreaker({ ...CONFIG, failureRate: { threshold: 0.5, size: 10, minimumCalls: 4 } });
    for (let i = 0; i < 3; i++) b.onFailure(T0);
    for (let i = 0; i < 20; i++) b.onNeutral(T0, `n${i}`);
    expect(b.stats(T0)).toMatchObject({ state: "closed", consecutiveFailures: 3, windowCalls: 3, windowFailures: 3 });
    b.onFailure(T0); // 4 calls, 100% failures: neutrals neither diluted nor reset anything
    expect(b.peek(T0).state).toBe("open");

    const h = openedAt(T0, { ...CONFIG, halfOpenProbes: 1 });
    const at = T0 + 30_000;
    h.tryAcquire(at, "p1");
    expect(h.tryAcquire(at, "p2").allowed).toBe(false);
    h.onNeutral(at + 1, "p1"); // frees the lease without closing or reopening
    expect(h.peek(at + 1)).toEqual({ state: "half_open", retryAfterMs: 0 });
    h.onSuccess(at + 2, "p1"); // no longer a leased probe
    expect(h.peek(at + 2).state).toBe("half_open");
    expect(h.tryAcquire(at + 2, "p2")).toMatchObject({ allowed: true, probe: true });
  });

  it("9. 50 simultaneous failure reports make exactly one closed→open transition", () => {
    const b = new CircuitBreaker({ ...CONFIG, failureRate: { threshold: 0.5, size: 20, minimumCalls: 5 } });
    for (let i = 0; i < 50; i++) b.onFailure(T0, `call${i}`);
    expect(b.takeTransitions()).toEqual([{ from: "closed", to: "open", at: T0, cause: "5 consecutive failures" }]);
    // Late answers of calls admitted before opening neither extend nor close it.
    for (let i = 0; i < 50; i++) b.onFailure(T0 + 20_000, `call${i}`);
    for (let i = 0; i < 50; i++) b.onSuccess(T0 + 20_000, `call${i}`);
    expect(b.peek(T0 + 20_000)).toEqual({ state: "open", retryAfterMs: 10_000, openUntil: T0 + 30_000 });
    // ...and in half-open only leased probes count.
    b.tryAcquire(T0 + 30_000, "probe");
    for (let i = 0; i < 50; i++) b.onFailure(T0 + 30_001, `call${i}`);
    expect(b.peek(T0 + 30_001).state).toBe("half_open");
    expect(b.takeTransitions()).toEqual([{ from: "open", to: "half_open", at: T0 + 30_000, cause: "open_ms elapsed" }]);
    expect(b.takeTransitions()).toEqual([]);
  });

  it("opens on failure rate over a count-based window once minimumCalls are seen", () => {
    const b = new CircuitBreaker({
      ...CONFIG,
      failureThreshold: 100,
      failureRate: { threshold: 0.6, size: 20, minimumCalls: 10 },
    });
    const pattern = [true, true, false]; // 67% failures, never 3 in a row
    for (let i = 0; i < 9; i++) b[pattern[i % 3] ? "onFailure" : "onSuccess"](T0);
    expect(b.peek(T0).state).toBe("closed"); // 6/9 but below minimumCalls
    b.onFailure(T0);
    expect(b.takeTransitions()).toEqual([
      { from: "closed", to: "open", at: T0, cause: "failure rate 70% over 10 calls" },
    ]);

    const below = new CircuitBreaker({
      ...CONFIG,
      failureThreshold: 100,
      failureRate: { threshold: 0.6, size: 20, minimumCalls: 10 },
    });
    for (let i = 0; i < 100; i++) below[i % 2 ? "onFailure" : "onSuccess"](T0);
    expect(below.stats(T0)).toMatchObject({ state: "closed", windowCalls: 20, windowFailures: 10 });
  });

  it("isolate forces it open indefinitely; reset forces it closed with counters reset", () => {
    const b = new CircuitBreaker(CONFIG);
    for (let i = 0; i < 3; i++) b.onFailure(T0);
    b.isolate(T0 + 1, "admin: upstream maintenance");
    b.isolate(T0 + 2, "twice");
    expect(b.tryAcquire(T0 + 365 * 86_400_000, "x")).toEqual({
      allowed: false,
      state: "isolated",
      retryAfterMs: 30_000,
    });
    b.onSuccess(T0 + 3, "x");
    expect(b.peek(T0 + 3)).toEqual({ state: "isolated", retryAfterMs: 30_000 });
    b.reset(T0 + 4, "admin: back");
    expect(b.stats(T0 + 4)).toEqual({
      state: "closed",
      consecutiveFailures: 0,
      windowCalls: 0,
      windowFailures: 0,
      activeProbes: 0,
    });
    expect(b.takeTransitions()).toEqual([
      { from: "closed", to: "isolated", at: T0 + 1, cause: "admin: upstream maintenance" },
      { from: "isolated", to: "closed", at: T0 + 4, cause: "admin: back" },
    ]);
    const open = openedAt(T0);
    open.reset(T0 + 1, "manual");
    expect(open.tryAcquire(T0 + 1, "y")).toMatchObject({ allowed: true, state: "closed" });
  });

  it("rejects bad config with RangeError", () => {
    const bad: Partial<BreakerConfig>[] = [
      { failureThreshold: 0 },
      { failureThreshold: 2.5 },
      { openMs: 0 },
      { openMs: Number.NaN },
      { halfOpenProbes: 0 },
      { probeLeaseMs: -1 },
      { failureRate: { threshold: 0, size: 10, minimumCalls: 5 } },
      { failureRate: { threshold: 1.5, size: 10, minimumCalls: 5 } },
      { failureRate: { threshold: 0.5, size: 0, minimumCalls: 1 } },
      { failureRate: { threshold: 0.5, size: 10, minimumCalls: 11 } },
    ];
    for (const patch of bad)
      expect(() => new CircuitBreaker({ ...CONFIG, ...patch }), JSON.stringify(patch)).toThrow(RangeError);
    expect(
      () => new CircuitBreaker({ ...CONFIG, failureRate: { threshold: 1, size: 1, minimumCalls: 1 } }),
    ).not.toThrow();
  });

  it("10. state survives a toJSON/restore round trip", () => {
    const config: BreakerConfig = {
      ...CONFIG,
      failureThreshold: 3,
      failureRate: { threshold: 0.5, size: 8, minimumCalls: 4 },
      openMs: 1_000,
      probeLeaseMs: 300,
    };
    const rand = mulberry32(7);
    let live = new CircuitBreaker(config);
    let now = T0;
    const seen = new Set<string>();
    for (let step = 0; step < 5_000; step++) {
      now += Math.floor(rand() * 120);
      const restored = CircuitBreaker.restore(config, viaJson(live.toJSON()));
      const id = `c${Math.floor(rand() * 6)}`;
      const op = Math.floor(rand() * 8);
      for (const b of [live, restored]) {
        if (op < 3) b.tryAcquire(now, id);
        else if (op < 5) b.onFailure(now, id);
        else if (op < 7) b.onSuccess(now, id);
        else b.onNeutral(now, id);
      }
      if (step % 997 === 0) for (const b of [live, restored]) b.isolate(now, "drill");
      if (step % 997 === 1) for (const b of [live, restored]) b.reset(now, "drill over");
      expect(restored.toJSON()).toEqual(live.toJSON());
      expect(restored.stats(now)).toEqual(live.stats(now));
      expect(restored.peek(now + 50)).toEqual(live.peek(now + 50));
      seen.add(live.stats(now).state);
      if (rand() < 0.1) expect(restored.takeTransitions()).toEqual(live.takeTransitions());
      if (rand() < 0.5) live = restored; // keep going on the copy half of the time
    }
    expect([...seen].sort()).toEqual(["closed", "half_open", "isolated", "open"]);
  });
});
