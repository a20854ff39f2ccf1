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
    expect(b.usage(T0 + 1)).toEqual({ day: "2026-05-01", used: 450, reserved: 500, remaining: 50, resetsInMs: 14 * HOUR - 1 });
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
    expect(b.usage(MIDNIGHT)).toEqual({ day: "2026-05-02", used: 0, reserved: 0, remaining: 1_000, resetsInMs: 24 * HOUR });
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
    for (const max of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new TokenBudget({ maxTokensPerDay: max })).toThrow(RangeError);
    const b = new TokenBudget({ maxTokensPerDay: 10 });
    expect(() => b.reserve(T0, "x", -1)).toThrow(RangeError);
    expect(() => b.settle(T0, "x", Number.NaN)).toThrow(RangeError);
  });

  it("10. state survives a toJSON/restore round trip", () => {
    const config = { maxTokensPerDay: 5_000 };
    const rand = mulberry32(2210);
    let live = new TokenBudget(config);
    let now = T0;
    for (let i = 0; i < 5_000; i++) {
      now += Math.floor(rand() * 200_000);
      const restored = TokenBudget.restore(config, viaJson(live.toJSON()));
      const id = `call${Math.floor(rand() * 10)}`;
      const op = Math.floor(rand() * 3);
      const tokens = Math.floor(rand() * 900);
      if (op === 0) expect(restored.reserve(now, id, tokens)).toEqual(live.reserve(now, id, tokens));
      else if (op === 1) [restored, live].forEach((b) => b.settle(now, id, tokens));
      else [restored, live].forEach((b) => b.release(id));
      expect(restored.usage(now)).toEqual(live.usage(now));
      expect(restored.toJSON()).toEqual(live.toJSON());
      if (rand() < 0.5) live = restored;
    }
    expect(utcDay(now) > "2026-05-04").toBe(true); // the walk crossed several midnights
  });
});
