/** Concurrency limiter: permits as expiring leases, random outcomes, persistence. */
import { describe, expect, it } from "vitest";
import { ConcurrencyLimiter, type ConcurrencyConfig } from "../../durable-objects/upstream-guard/src/policies";
import { T0, mulberry32, viaJson } from "./helpers";

const CONFIG: ConcurrencyConfig = { maxConcurrent: 4, leaseMs: 5_000 };

describe("concurrency limiter", () => {
  it("21. C+1 rejected; after 10 000 random outcomes in-flight is back to 0", () => {
    const c = new ConcurrencyLimiter(CONFIG);
    for (let i = 0; i < 4; i++) expect(c.tryAcquire(T0 + i, `a${i}`)).toEqual({ allowed: true, inFlight: i + 1 });
    expect(c.tryAcquire(T0 + 10, "a4")).toEqual({ allowed: false, inFlight: 4, retryAfterMs: 4_990 });
    expect(c.nextExpiry()).toBe(T0 + 5_000);
    for (let i = 0; i < 4; i++) c.release(`a${i}`);
    expect(c.inFlight(T0 + 10)).toBe(0);

    // Model: id → expiry of the leases we believe are held (timeouts stay until they expire).
    const rand = mulberry32(21);
    const model = new Map<string, number>();
    const counts = { success: 0, error: 0, timeout: 0, abort: 0, double: 0, rejected: 0 };
    let now = T0 + 10;
    let next = 0;
    for (let outcome = 0; outcome < 10_000;) {
      now += Math.floor(rand() * 400);
      for (const [id, exp] of model) if (exp <= now) model.delete(id);
      const id = `r${next++}`;
      const expected = model.size < CONFIG.maxConcurrent;
      const res = c.tryAcquire(now, id);
      expect(res.allowed).toBe(expected);
      if (res.allowed) model.set(id, now + CONFIG.leaseMs);
      else counts.rejected++;
      expect(res.inFlight).toBe(model.size);
      // Finish one random call we believe is in flight.
      const held = [...model.keys()];
      const victim = held[Math.floor(rand() * held.length)];
      if (victim === undefined) continue;
      outcome++;
      const kind = Math.floor(rand() * 5);
      if (kind === 2) {
        counts.timeout++; // the caller died: its lease just runs out
        continue;
      }
      expect(c.release(victim, now)).toBe(true);
      model.delete(victim);
      if (kind === 0) counts.success++;
      else if (kind === 1) counts.error++;
      else if (kind === 3) counts.abort++;
      else {
        counts.double++;
        expect(c.release(victim, now)).toBe(false);
      }
      const live = c.inFlight(now);
      expect(live).toBe(model.size);
      expect(live).toBeGreaterThanOrEqual(0);
      expect(live).toBeLessThanOrEqual(CONFIG.maxConcurrent);
    }
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(100);
    for (const id of model.keys()) if (rand() < 0.5) c.release(id);
    const end = now + CONFIG.leaseMs;
    expect(c.inFlight(end)).toBe(0);
    c.expire(end);
    expect(c.toJSON()).toEqual({ leases: [] });
    expect(c.nextExpiry()).toBeUndefined();
  });

  it("acquiring a held lease renews it; release and expiry are exact", () => {
    const c = new ConcurrencyLimiter({ maxConcurrent: 2, leaseMs: 1_000 });
    c.tryAcquire(T0, "a");
    c.tryAcquire(T0 + 100, "b");
    expect(c.tryAcquire(T0 + 500, "a")).toEqual({ allowed: true, inFlight: 2 }); // renewed to T0 + 1500
    expect(c.tryAcquire(T0 + 600, "c")).toEqual({ allowed: false, inFlight: 2, retryAfterMs: 500 });
    expect(c.nextExpiry()).toBe(T0 + 1_100);
    expect(c.inFlight(T0 + 1_100)).toBe(1);
    expect(c.expire(T0 + 1_100)).toBe(1);
    expect(c.leaseIds()).toEqual(["a"]);
    expect(c.release("b")).toBe(false); // expired, then dropped
    expect(c.release("a", T0 + 1_500)).toBe(false); // expired but not yet dropped
    expect(c.release("a")).toBe(false);
    expect(c.inFlight(T0)).toBe(0);
    expect(c.expire(T0 + 10_000)).toBe(0);
  });

  it("rejects bad config with RangeError", () => {
    for (const patch of [{ maxConcurrent: 0 }, { maxConcurrent: 1.5 }, { leaseMs: 0 }, { leaseMs: -10 }]) {
      expect(() => new ConcurrencyLimiter({ ...CONFIG, ...patch }), JSON.stringify(patch)).toThrow(RangeError);
    }
  });

  it("10. state survives a toJSON/restore round trip", () => {
    const rand = mulberry32(1010);
    let live = new ConcurrencyLimiter(CONFIG);
    let now = T0;
    for (let i = 0; i < 5_000; i++) {
      now += Math.floor(rand() * 500);
      const restored = ConcurrencyLimiter.restore(CONFIG, viaJson(live.toJSON()));
      const id = `id${Math.floor(rand() * 8)}`;
      const op = Math.floor(rand() * 3);
      if (op === 0) expect(restored.tryAcquire(now, id)).toEqual(live.tryAcquire(now, id));
      else if (op === 1) expect(restored.release(id, now)).toBe(live.release(id, now));
      else expect(restored.expire(now)).toBe(live.expire(now));
      expect(restored.inFlight(now)).toBe(live.inFlight(now));
      expect(restored.nextExpiry()).toBe(live.nextExpiry());
      expect(restored.toJSON()).toEqual(live.toJSON());
      if (rand() < 0.5) live = restored;
    }
    expect(() =>
      ConcurrencyLimiter.restore(CONFIG, viaJson({ leases: [["x", "soon"]] as unknown as [string, number][] })),
    ).toThrow(TypeError);
  });
});
