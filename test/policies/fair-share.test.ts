/**
 * The policies that keep one caller from acting for everyone: the breaker's
 * principal quorum (one caller's failures alone cannot open it while others
 * call), permits with an owner's cap (a key's fair share of the agent's
 * permits), and a key's rate never above the agent's. Pure, in workerd.
 */
import { describe, expect, it } from "vitest";
import { capRate } from "../../durable-objects/upstream-guard/src/keys";
import {
  CircuitBreaker,
  ConcurrencyLimiter,
  type BreakerConfig,
} from "../../durable-objects/upstream-guard/src/policies";
import { PrincipalQuorum, QUORUM_WINDOW_MS } from "../../durable-objects/upstream-guard/src/policies/quorum";
import { T0, viaJson } from "./helpers";

const CONFIG: BreakerConfig = { failureThreshold: 5, openMs: 30_000, halfOpenProbes: 1, probeLeaseMs: 10_000 };

describe("breaker quorum", () => {
  it("one principal's failures do not open the breaker while another principal calls; a second failing principal does", () => {
    const b = new CircuitBreaker(CONFIG);
    b.onSuccess(T0, undefined, "victim");
    for (let i = 0; i < 20; i++) b.onFailure(T0 + i, undefined, "attacker");
    expect(b.peek(T0 + 20).state).toBe("closed");
    expect(b.stats(T0 + 20).consecutiveFailures).toBe(20);
    b.onFailure(T0 + 21, undefined, "victim");
    expect(b.peek(T0 + 21).state).toBe("open");
    expect(b.takeTransitions().at(-1)).toMatchObject({ to: "open", cause: "21 consecutive failures" });
  });

  it("the only caller opens it alone, and so does anyone once the others have been quiet for the window", () => {
    const solo = new CircuitBreaker(CONFIG);
    for (let i = 0; i < 5; i++) solo.onFailure(T0 + i, undefined, "only");
    expect(solo.peek(T0 + 5).state).toBe("open");

    const b = new CircuitBreaker(CONFIG);
    b.onSuccess(T0, undefined, "other");
    const later = T0 + QUORUM_WINDOW_MS;
    for (let i = 0; i < 5; i++) b.onFailure(later + i, undefined, "alone-now");
    expect(b.peek(later + 5).state).toBe("open");
  });

  it("the failure-rate strategy needs the quorum too", () => {
    const b = new CircuitBreaker({
      ...CONFIG,
      failureThreshold: 100,
      failureRate: { threshold: 0.5, size: 10, minimumCalls: 4 },
    });
    for (let i = 0; i < 4; i++) b.onSuccess(T0 + i, undefined, "victim");
    for (let i = 0; i < 6; i++) b.onFailure(T0 + 10 + i, undefined, "attacker");
    expect(b.peek(T0 + 20).state).toBe("closed");
    b.onFailure(T0 + 21, undefined, "victim");
    expect(b.peek(T0 + 21).state).toBe("open");
  });

  it("a half-open probe failed by one principal reopens only with the quorum; otherwise its slot is freed", () => {
    const b = new CircuitBreaker(CONFIG);
    for (let i = 0; i < 5; i++) b.onFailure(T0, undefined, "x");
    const after = T0 + CONFIG.openMs;
    b.onSuccess(after, undefined, "victim"); // ignored while open, but a caller seen
    expect(b.tryAcquire(after, "probe-1")).toMatchObject({ allowed: true, probe: true });
    // "x" failed within the window, and "victim" is a recent caller: x's probe failure alone has the quorum only if
    // another principal failed recently; here only x did, and the victim called: stays half-open.
    b.onFailure(after + 1, "probe-1", "x");
    expect(b.peek(after + 1).state).toBe("half_open");
    expect(b.tryAcquire(after + 2, "probe-2")).toMatchObject({ allowed: true, probe: true });
    b.onSuccess(after + 3, "probe-2", "victim");
    expect(b.peek(after + 3).state).toBe("closed");
  });

  it("unattributed failures (no principal) open as before", () => {
    const b = new CircuitBreaker(CONFIG);
    b.onSuccess(T0, undefined, "someone");
    for (let i = 0; i < 5; i++) b.onFailure(T0 + i);
    expect(b.peek(T0 + 5).state).toBe("open");
  });

  it("survives a snapshot round trip, and restores a v1 snapshot with an empty quorum", () => {
    const b = new CircuitBreaker(CONFIG);
    b.onSuccess(T0, undefined, "victim");
    for (let i = 0; i < 6; i++) b.onFailure(T0 + i, undefined, "attacker");
    const restored = CircuitBreaker.restore(CONFIG, viaJson(b.toJSON()));
    expect(restored.toJSON()).toEqual(b.toJSON());
    restored.onFailure(T0 + 7, undefined, "attacker");
    expect(restored.peek(T0 + 7).state).toBe("closed");
    const { quorum: _quorum, ...v1 } = { ...b.toJSON(), v: 1 as const };
    expect(CircuitBreaker.restore(CONFIG, v1).toJSON().quorum).toEqual({ seen: [], failing: [] });
  });

  it("remembers a bounded number of principals", () => {
    const q = new PrincipalQuorum();
    for (let i = 0; i < 1000; i++) q.called(T0 + i, `p${i}`);
    expect(q.toJSON().seen.length).toBeLessThanOrEqual(32);
    expect(q.toJSON().seen.at(-1)).toEqual(["p999", T0 + 999]);
  });
});

describe("permits with an owner's cap", () => {
  it("an owner holds at most its cap; others still get the rest; releasing frees the owner's share", () => {
    const c = new ConcurrencyLimiter({ maxConcurrent: 10, leaseMs: 5_000 });
    const key = { id: "flood", max: 4 };
    for (let i = 0; i < 4; i++) expect(c.tryAcquire(T0, `f${i}`, key).allowed).toBe(true);
    expect(c.tryAcquire(T0, "f4", key).allowed).toBe(false);
    expect(c.heldBy(T0, "flood")).toBe(4);
    for (let i = 0; i < 6; i++) expect(c.tryAcquire(T0, `o${i}`, { id: "other", max: 6 }).allowed).toBe(true);
    expect(c.tryAcquire(T0, "late", { id: "third", max: 6 }).allowed).toBe(false); // the agent's limit
    c.release("f0");
    expect(c.ownerHasRoom(T0, "f5", key)).toBe(true);
    const restored = ConcurrencyLimiter.restore({ maxConcurrent: 10, leaseMs: 5_000 }, viaJson(c.toJSON()));
    expect(restored.heldBy(T0, "flood")).toBe(3);
    expect(restored.heldBy(T0 + 5_000, "flood")).toBe(0); // expired leases are nobody's
  });
});

describe("a key's rate limit is never above the agent's", () => {
  const agent = { limit: 600, periodMs: 60_000, burst: 50 };
  it("a faster or burstier key limit is capped; a slower one is kept", () => {
    expect(capRate({ limit: 6000, periodMs: 60_000, burst: 500 }, agent)).toEqual(agent);
    expect(capRate({ limit: 10, periodMs: 1_000, burst: 20 }, agent)).toEqual({
      limit: 10,
      periodMs: 1_000,
      burst: 20,
    });
    expect(capRate({ limit: 100, periodMs: 60_000, burst: 80 }, agent)).toEqual({
      limit: 100,
      periodMs: 60_000,
      burst: 50,
    });
    expect(capRate({ limit: 100, periodMs: 60_000, burst: 10 }, undefined)).toEqual({
      limit: 100,
      periodMs: 60_000,
      burst: 10,
    });
  });
});
