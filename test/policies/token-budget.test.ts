/** Daily token budget: reserve/settle/release, UTC rollover, persistence. */
import { describe, expect, it } from "vitest";
import { TokenBudget, msUntilUtcMidnight, utcDay } from "../../durable-objects/upstream-guard/src/policies";
import { T0, mulberry32, viaJson } from "./helpers";

const HOUR = 3_600_000;
const MIDNIGHT = Date.UTC(2026, 4, 2); // the UTC midnight after T0 (2026-05-01T10:00Z)

describe("token budget", () => {
  it("22. token budget reserve/settle and UTC rollover", () => {
    const b = new TokenBudget({ maxTokensPerDay: 1_000 });
    expect(b.reserve(T0, "a", 400)).toEqual({ allowed: true, remaining: 600 });
    expect(b.reserve(T0, "b", 500)).toEqual({ allowed: true, remaining: 100 });
    expect(b.reserve(T0, "c", 200)).toEqual({ allowed: false, remaining: 100, retryAfterMs: 14 * HOUR });
    expect(b.reserve(T0, "d", 100)).toEqual({ allowed: true, remaining: 0 }); // exactly at the limit is fine
    b.release("d");
    b.settle(T0 + 1, "a", 450); // actual above the estimate still counts
    expect(b.usage(T0 + 1)).toEqual({
      day: "2026-05-01",
      used: 450,
      reserved: 500,
      remaining: 50,
      resetsInMs: 14 * HOUR - 1,
    });
    b.release("b");
    b.settle(T0 + 2, "never-reserved", 100);
    expect(b.usage(T0 + 2)).toMatchObject({ used: 550, reserved: 0, remaining: 450 });
    // Re-reserving an id replaces its reservation; estimates are clamped to the daily max.
    expect(b.reserve(T0 + 3, "e", 300)).toEqual({ allowed: true, remaining: 150 });
    expect(b.reserve(T0 + 3, "e", 400)).toEqual({ allowed: true, remaining: 50 });
    b.release("e");
    expect(b.reserve(T0 + 4, "huge", 1e9)).toEqual({ allowed: false, remaining: 450, retryAfterMs: 14 * HOUR - 4 });
    b.settle(T0 + 5, "over", 2_000);
    expect(b.usage(T0 + 5)).toMatchObject({ used: 2_550, remaining: 0 });

    // One ms before midnight: still today. At midnight: a fresh day (usage() does not mutate).
    expect(b.reserve(MIDNIGHT - 1, "f", 1)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    const before = b.toJSON();
    expect(b.usage(MIDNIGHT)).toEqual({
      day: "2026-05-02",
      used: 0,
      reserved: 0,
      remaining: 1_000,
      resetsInMs: 24 * HOUR,
    });
    expect(b.toJSON()).toEqual(before);
    expect(b.reserve(MIDNIGHT, "g", 1_000)).toEqual({ allowed: true, remaining: 0 });
    expect(b.toJSON()).toEqual({ day: "2026-05-02", used: 0, reservations: [["g", 1_000]] }); // yesterday's reservations dropped
    // A call from yesterday settling today counts today; a clock that steps back keeps today's counters.
    b.settle(MIDNIGHT + 10, "late", 30);
    b.settle(MIDNIGHT - 10, "g", 900);
    expect(b.usage(MIDNIGHT + 20)).toMatchObject({ day: "2026-05-02", used: 930, reserved: 0, remaining: 70 });
    // Several days later.
    expect(b.reserve(MIDNIGHT + 3 * 24 * HOUR + 5, "h", 10)).toEqual({ allowed: true, remaining: 990 });
  });

  it("22. an unsettled reservation is a lease: it stops counting after leaseMs; a late settle still counts the usage", () => {
    const b = new TokenBudget({ maxTokensPerDay: 1_000, leaseMs: 10_000 });
    expect(b.reserve(T0, "lost", 600)).toEqual({ allowed: true, remaining: 400 });
    expect(b.reserve(T0 + 4_000, "late", 300)).toEqual({ allowed: true, remaining: 100 });
    expect(b.toJSON().reservations).toEqual([
      ["lost", 600, T0 + 10_000],
      ["late", 300, T0 + 14_000],
    ]);
    expect(b.reserve(T0 + 9_999, "x", 200)).toMatchObject({ allowed: false, remaining: 100 });
    // At the lease's end the lost reservation no longer counts; usage() says so without dropping it.
    const before = b.toJSON();
    expect(b.usage(T0 + 10_000)).toEqual({
      day: "2026-05-01",
      used: 0,
      reserved: 300,
      remaining: 700,
      resetsInMs: 14 * HOUR - 10_000,
    });
    expect(b.toJSON()).toEqual(before);
    // reserve() drops it and admits against the freed budget.
    expect(b.reserve(T0 + 10_000, "x", 700)).toEqual({ allowed: true, remaining: 0 });
    expect(b.toJSON().reservations.map(([id]) => id)).toEqual(["late", "x"]);
    // The "late" call was slow but did happen: settling after its lease (expired, not yet dropped) counts in full.
    b.settle(T0 + 15_000, "late", 250);
    expect(b.usage(T0 + 15_000)).toMatchObject({ used: 250, reserved: 700, remaining: 50 });
    // expire() drops the rest; a settle of an id already dropped still adds its usage.
    expect(b.expire(T0 + 20_000)).toBe(1);
    expect(b.expire(T0 + 20_000)).toBe(0);
    expect(b.toJSON()).toEqual({ day: "2026-05-01", used: 250, reservations: [] });
    b.settle(T0 + 21_000, "x", 500);
    expect(b.usage(T0 + 21_000)).toMatchObject({ used: 750, reserved: 0, remaining: 250 });
    // Re-reserving an id renews its lease.
    b.reserve(T0 + 30_000, "r", 100);
    b.reserve(T0 + 35_000, "r", 100);
    expect(b.usage(T0 + 44_999)).toMatchObject({ reserved: 100 });
    expect(b.usage(T0 + 45_000)).toMatchObject({ reserved: 0, remaining: 250 });
    // Without leaseMs, a reservation is held until settled or the day ends (snapshot pairs, as before).
    const held = new TokenBudget({ maxTokensPerDay: 1_000 });
    held.reserve(T0, "a", 400);
    expect(held.expire(MIDNIGHT - 1)).toBe(0);
    expect(held.usage(MIDNIGHT - 1)).toMatchObject({ reserved: 400 });
    expect(held.toJSON().reservations).toEqual([["a", 400]]);
  });

  it("10. restore: legacy [id, tokens] pairs are held without expiry; malformed reservations are a TypeError", () => {
    const config = { maxTokensPerDay: 1_000, leaseMs: 10_000 };
    const legacy = TokenBudget.restore(config, { day: "2026-05-01", used: 100, reservations: [["old", 300]] });
    expect(legacy.usage(T0 + 6 * HOUR)).toMatchObject({ used: 100, reserved: 300, remaining: 600 });
    expect(legacy.expire(MIDNIGHT - 1)).toBe(0);
    expect(legacy.reserve(T0, "new", 100)).toEqual({ allowed: true, remaining: 500 });
    expect(legacy.toJSON().reservations).toEqual([
      ["old", 300],
      ["new", 100, T0 + 10_000],
    ]);
    expect(legacy.usage(MIDNIGHT)).toMatchObject({ used: 0, reserved: 0 }); // the day still rolls over
    legacy.settle(T0 + 1, "old", 280);
    expect(legacy.usage(T0 + 1)).toMatchObject({ used: 380, reserved: 100 });
    const day = "2026-05-01";
    const bad: unknown[] = [
      [["a", 1, "x"]],
      [["a", 1, null]],
      [["a", 1, Number.NaN]],
      [["a", "1", T0]],
      [["a", 1, T0, 0]],
      [["a"]],
      [[1, 1, T0]],
      [{ id: "a", tokens: 1, expiresAt: T0 }],
      "a",
      null,
    ];
    for (const reservations of bad) {
      expect(() => TokenBudget.restore(config, { day, used: 0, reservations } as never)).toThrow(TypeError);
    }
    for (const leaseMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => new TokenBudget({ maxTokensPerDay: 10, leaseMs })).toThrow(RangeError);
  });

  it("utcDay and msUntilUtcMidnight", () => {
    expect(utcDay(T0)).toBe("2026-05-01");
    expect(utcDay(MIDNIGHT - 1)).toBe("2026-05-01");
    expect(utcDay(MIDNIGHT)).toBe("2026-05-02");
    expect(utcDay(0)).toBe("1970-01-01");
    expect(msUntilUtcMidnight(T0)).toBe(14 * HOUR);
    expect(msUntilUtcMidnight(MIDNIGHT)).toBe(24 * HOUR);
    expect(msUntilUtcMidnight(MIDNIGHT - 1)).toBe(1);
    expect(msUntilUtcMidnight(-1)).toBe(1);
  });

  it("rejects bad config and bad amounts with RangeError", () => {
    for (const max of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => new TokenBudget({ maxTokensPerDay: max })).toThrow(RangeError);
    const b = new TokenBudget({ maxTokensPerDay: 10 });
    expect(() => b.reserve(T0, "x", -1)).toThrow(RangeError);
    expect(() => b.settle(T0, "x", Number.NaN)).toThrow(RangeError);
  });

  it("10. state survives a toJSON/restore round trip (with and without leases)", () => {
    for (const config of [{ maxTokensPerDay: 5_000 }, { maxTokensPerDay: 5_000, leaseMs: 150_000 }]) {
      const rand = mulberry32(2210);
      let live = new TokenBudget(config);
      let now = T0;
      let expired = 0;
      for (let i = 0; i < 5_000; i++) {
        now += Math.floor(rand() * 200_000);
        const restored = TokenBudget.restore(config, viaJson(live.toJSON()));
        const id = `call${Math.floor(rand() * 10)}`;
        const op = Math.floor(rand() * 4);
        const tokens = Math.floor(rand() * 900);
        if (op === 0) expect(restored.reserve(now, id, tokens)).toEqual(live.reserve(now, id, tokens));
        else if (op === 1) [restored, live].forEach((b) => b.settle(now, id, tokens));
        else if (op === 2) [restored, live].forEach((b) => b.release(id));
        else {
          const dropped = restored.expire(now);
          expect(live.expire(now)).toBe(dropped);
          expired += dropped;
        }
        expect(restored.usage(now)).toEqual(live.usage(now));
        expect(restored.toJSON()).toEqual(live.toJSON());
        if (rand() < 0.5) live = restored;
      }
      expect(utcDay(now) > "2026-05-04").toBe(true); // the walk crossed several midnights
      if (config.leaseMs !== undefined) {
        expect(live.toJSON().reservations.every((r) => r.length === 3)).toBe(true); // expiries kept through every round trip
        expect(expired).toBeGreaterThan(0); // and some leases ran out on the way
      } else expect(expired).toBe(0);
    }
  });
});
