/**
 * AuthThrottle (one per client address) and the isolate's KeyCache, with
 * injected clocks: no sleeps.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AuthThrottle } from "../../durable-objects/auth-throttle/src";
import { KeyCache } from "../../workers/gateway/src/auth/key-cache";
import type { KeyRecord } from "../../workers/gateway/src/auth/key-store";

const config = { limit: 3, windowMs: 60_000 };

function throttleOf(address: string): DurableObjectStub<AuthThrottle> {
  return env.AUTH_THROTTLE.get(env.AUTH_THROTTLE.idFromName(address));
}

describe("AuthThrottle", () => {
  it("allows `limit` failures at once, limits the next, and admits again one interval later", async () => {
    const stub = throttleOf(`t-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (instance: AuthThrottle) => {
      let now = 1_000_000;
      instance.clock = () => now;
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await instance.recordFailure(config));
      expect(decisions.map((d) => d.limited)).toEqual([false, false, false, true]);
      expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
      expect(decisions[3]?.retryAfterMs).toBe(20_000);
      // A limited failure is not counted: one interval (60 s / 3) after the first, one more is allowed.
      now += 20_000;
      expect((await instance.recordFailure(config)).limited).toBe(false);
      expect((await instance.recordFailure(config)).limited).toBe(true);
    });
  });

  it("keeps its count across a re-created instance (SQLite) and forgets the address once refilled", async () => {
    const stub = throttleOf(`t-${crypto.randomUUID()}`);
    const start = Date.now();
    await runInDurableObject(stub, async (instance: AuthThrottle) => {
      instance.clock = () => start;
      for (let i = 0; i < 3; i++) await instance.recordFailure(config);
    });
    await runInDurableObject(stub, async (instance: AuthThrottle, state) => {
      instance.clock = () => start;
      expect((await instance.recordFailure(config)).limited).toBe(true);
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
    // The alarm clears the cell only when it has refilled.
    await runInDurableObject(stub, (instance: AuthThrottle) => {
      instance.clock = () => start + 61_000;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, (_instance: AuthThrottle, state) => {
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM cell").one().n).toBe(0);
    });
  });

  it("counts each address separately", async () => {
    const a = throttleOf(`a-${crypto.randomUUID()}`);
    const b = throttleOf(`b-${crypto.randomUUID()}`);
    for (let i = 0; i < 3; i++) await a.recordFailure(config);
    expect((await a.recordFailure(config)).limited).toBe(true);
    expect((await b.recordFailure(config)).limited).toBe(false);
  });
});

const record = (id: string): KeyRecord => ({
  id,
  name: id,
  scopes: ["*"],
  rateLimit: null,
  dailyTokenBudget: null,
  expiresAt: null,
  revokedAt: null,
  notAfter: null,
});

describe("KeyCache", () => {
  it("answers within the TTL only; misses are cached; stale records (never misses) serve while D1 fails", () => {
    const cache = new KeyCache({ maxStaleMs: 10_000 });
    cache.set("h1", record("k1"), 0);
    cache.set("h2", null, 0);
    expect(cache.fresh("h1", 4_999, 5_000)).toEqual({ record: record("k1") });
    expect(cache.fresh("h2", 4_999, 5_000)).toEqual({ record: null });
    expect(cache.fresh("h1", 5_000, 5_000)).toBeUndefined();
    expect(cache.stale("h1", 14_999, 5_000)).toEqual(record("k1"));
    expect(cache.stale("h1", 15_000, 5_000)).toBeUndefined();
    expect(cache.stale("h2", 1, 5_000)).toBeUndefined();
  });

  it("is bounded: the oldest entry goes first", () => {
    const cache = new KeyCache({ maxEntries: 2 });
    cache.set("a", record("a"), 0);
    cache.set("b", record("b"), 0);
    cache.set("c", record("c"), 0);
    expect(cache.size).toBe(2);
    expect(cache.fresh("a", 1, 5_000)).toBeUndefined();
    expect(cache.fresh("c", 1, 5_000)).toBeDefined();
    expect(() => new KeyCache({ maxEntries: 0 })).toThrow(TypeError);
  });
});
