/**
 * Per-API-key limits inside one agent's guard, as pure objects: the key's own
 * rate limit replacing the agent's per-key default, its daily token budget
 * (reserve, refuse, settle, roll over), atomicity with the agent's policies,
 * isolation between keys, and JSON round trips. Time is always an argument;
 * `cells` stands in for the Durable Object's SQLite rows.
 */
import { describe, expect, it } from "vitest";
import { Guard } from "../../durable-objects/upstream-guard/src/guard";
import { type KeyCellState, KeyLimiter, keyLimitsFor } from "../../durable-objects/upstream-guard/src/keys";
import { msUntilUtcMidnight } from "../../durable-objects/upstream-guard/src/policies";
import type { AdmitRequest, AdmitResult, GuardConfig, KeyLimits } from "../../durable-objects/upstream-guard/src/types";
import { T0, mulberry32, viaJson } from "./helpers";

const HOUR = 3_600_000;
const MIDNIGHT = Date.UTC(2026, 4, 2); // the UTC midnight after T0 (2026-05-01T10:00Z)

function config(overrides: Partial<GuardConfig> = {}): GuardConfig {
  return {
    agent: "a",
    breaker: { failureThreshold: 5, openMs: 60_000, halfOpenProbes: 1 },
    retryBudget: { ratio: 0.2, minPerWindow: 10, windowMs: 10_000 },
    leaseMs: 15_000,
    ...overrides,
  };
}

/** A guard plus per-key cells kept as JSON, the way the Durable Object keeps them in SQLite (and leases the key's reservations alike). */
function harness(c: GuardConfig) {
  const guard = new Guard(c);
  const cells = new Map<string, KeyCellState>();
  const limiter = (keyId: string, limits: KeyLimits | undefined, attempt: number) =>
    new KeyLimiter(keyLimitsFor(c, limits, attempt), viaJson(cells.get(keyId) ?? {}), c.leaseMs);
  const save = (keyId: string, key: KeyLimiter) => cells.set(keyId, { ...cells.get(keyId), ...viaJson(key.toJSON()) });
  return {
    guard,
    cells,
    admit(now: number, keyId: string, callId: string, extra: Partial<AdmitRequest> = {}): AdmitResult {
      const request: AdmitRequest = { config: c, callId, attempt: 1, estimateTokens: 0, keyId, ...extra };
      const key = limiter(keyId, request.keyLimits, request.attempt);
      const result = guard.admit(now, request, key);
      if (result.admitted) save(keyId, key);
      return result;
    },
    report(now: number, keyId: string, callId: string, limits: KeyLimits, tokens?: number) {
      const key = limiter(keyId, { maxTokensPerDay: limits.maxTokensPerDay }, 2); // no rate cell, as in the Durable Object
      guard.report(
        now,
        { config: c, callId, outcome: "success", keyId, ...(tokens !== undefined ? { tokens } : {}) },
        key,
      );
      save(keyId, key);
    },
    usage(now: number, keyId: string, limits: KeyLimits) {
      return new KeyLimiter(keyLimitsFor(c, limits, 1), viaJson(cells.get(keyId) ?? {}), c.leaseMs).usage(now);
    },
  };
}

describe("per-key limits (KeyLimiter in the Guard)", () => {
  it("keyLimitsFor: the key's own rate limit replaces the agent's default; retries have none; the budget passes through", () => {
    const own = { limit: 2, periodMs: 60_000, burst: 2 };
    const dflt = { limit: 300, periodMs: 60_000, burst: 30 };
    const c = config({ keyRateLimit: dflt });
    expect(keyLimitsFor(c, { rateLimit: own, maxTokensPerDay: 500 }, 1)).toEqual({
      rateLimit: own,
      maxTokensPerDay: 500,
    });
    expect(keyLimitsFor(c, { maxTokensPerDay: 500 }, 1)).toEqual({ rateLimit: dflt, maxTokensPerDay: 500 });
    expect(keyLimitsFor(c, undefined, 1)).toEqual({ rateLimit: dflt });
    expect(keyLimitsFor(c, { rateLimit: own, maxTokensPerDay: 500 }, 2)).toEqual({ maxTokensPerDay: 500 });
    expect(keyLimitsFor(config(), undefined, 1)).toEqual({});
  });

  it("a key's own rate limit replaces the per-key default, in the same cell; other keys keep the default", () => {
    const h = harness(config({ keyRateLimit: { limit: 600, periodMs: 60_000, burst: 5 } }));
    const own: KeyLimits = { rateLimit: { limit: 60, periodMs: 60_000, burst: 2 } };
    expect(h.admit(T0, "k1", "a#1", { keyLimits: own })).toMatchObject({
      admitted: true,
      rateLimit: { scope: "key", config: own.rateLimit, decision: { remaining: 1, limit: 60 } },
    });
    expect(h.admit(T0, "k1", "b#1", { keyLimits: own })).toMatchObject({ admitted: true });
    const refused = h.admit(T0, "k1", "c#1", { keyLimits: own });
    expect(refused).toMatchObject({
      admitted: false,
      reason: "key_rate_limited",
      retryAfterMs: 1000,
      rateLimit: { scope: "key", config: own.rateLimit },
    });
    // Retries skip the key's rate limit, as they skip the default one.
    expect(h.admit(T0, "k1", "b#2", { keyLimits: own, attempt: 2 })).toMatchObject({ admitted: true });
    // k2 has no limits of its own: the agent's default (burst 5).
    for (let i = 0; i < 5; i++) expect(h.admit(T0, "k2", `k2-${i}#1`).admitted).toBe(true);
    expect(h.admit(T0, "k2", "k2-5#1")).toMatchObject({ admitted: false, reason: "key_rate_limited" });
    // One interval (1 s at 60/min) later, k1 gets exactly one more.
    expect(h.admit(T0 + 1000, "k1", "d#1", { keyLimits: own }).admitted).toBe(true);
    expect(h.admit(T0 + 1000, "k1", "e#1", { keyLimits: own }).admitted).toBe(false);
  });

  it("a spent key budget refuses with key_token_budget until UTC midnight and consumes nothing anywhere", () => {
    const h = harness(
      config({
        rateLimit: { limit: 600, periodMs: 60_000, burst: 50 },
        keyRateLimit: { limit: 600, periodMs: 60_000, burst: 50 },
        maxConcurrent: 10,
        maxTokensPerDay: 100_000,
      }),
    );
    const limits: KeyLimits = { maxTokensPerDay: 1000 };
    expect(h.admit(T0, "k1", "a#1", { keyLimits: limits, estimateTokens: 400 }).admitted).toBe(true);
    expect(h.admit(T0, "k1", "b#1", { keyLimits: limits, estimateTokens: 400 }).admitted).toBe(true);
    const guardBefore = h.guard.toJSON();
    const cellsBefore = structuredClone(h.cells.get("k1"));
    const refused = h.admit(T0 + 5, "k1", "c#1", { keyLimits: limits, estimateTokens: 400 });
    expect(refused).toEqual({
      admitted: false,
      reason: "key_token_budget",
      retryAfterMs: 14 * HOUR - 5,
      breaker: "closed",
    });
    expect(h.guard.toJSON()).toEqual(guardBefore); // agent rate, permits, agent tokens, retry budget untouched
    expect(h.cells.get("k1")).toEqual(cellsBefore); // the key's rate cell and budget too
    expect(h.usage(T0 + 5, "k1", limits).tokens).toEqual({ day: "2026-05-01", used: 0, reserved: 800, remaining: 200 });
    // A retry is refused the same way (key budgets apply to every attempt).
    expect(h.admit(T0 + 5, "k1", "a#2", { keyLimits: limits, estimateTokens: 400, attempt: 2 })).toMatchObject({
      admitted: false,
      reason: "key_token_budget",
    });
    // An estimate that fits still passes.
    expect(h.admit(T0 + 5, "k1", "d#1", { keyLimits: limits, estimateTokens: 200 }).admitted).toBe(true);
  });

  it("a refusal by another policy reserves nothing against the key's budget", () => {
    const h = harness(config({ maxConcurrent: 1 }));
    const limits: KeyLimits = { maxTokensPerDay: 1000 };
    expect(h.admit(T0, "k1", "a#1", { keyLimits: limits, estimateTokens: 300 }).admitted).toBe(true);
    expect(h.admit(T0, "k1", "b#1", { keyLimits: limits, estimateTokens: 300 })).toMatchObject({
      admitted: false,
      reason: "concurrency",
    });
    expect(h.usage(T0, "k1", limits).tokens).toMatchObject({ reserved: 300, remaining: 700 });
  });

  it("settles with the actual tokens (above or below the estimate), releases without usage, rolls over at UTC midnight", () => {
    const h = harness(config({ maxTokensPerDay: 10_000 }));
    const limits: KeyLimits = { maxTokensPerDay: 1000 };
    h.admit(T0, "k1", "a#1", { keyLimits: limits, estimateTokens: 400 });
    h.admit(T0, "k1", "b#1", { keyLimits: limits, estimateTokens: 400 });
    h.report(T0 + 1, "k1", "a#1", limits, 950);
    expect(h.usage(T0 + 1, "k1", limits).tokens).toEqual({ day: "2026-05-01", used: 950, reserved: 400, remaining: 0 });
    h.report(T0 + 2, "k1", "b#1", limits);
    expect(h.usage(T0 + 2, "k1", limits).tokens).toEqual({ day: "2026-05-01", used: 950, reserved: 0, remaining: 50 });
    expect(h.guard.snapshot(T0 + 2).tokens).toEqual({ day: "2026-05-01", used: 950, reserved: 0, remaining: 9050 }); // the agent's budget settled alike
    expect(h.admit(T0 + 3, "k1", "c#1", { keyLimits: limits, estimateTokens: 100 })).toMatchObject({
      reason: "key_token_budget",
      retryAfterMs: 14 * HOUR - 3,
    });
    expect(h.admit(MIDNIGHT - 1, "k1", "d#1", { keyLimits: limits, estimateTokens: 10 })).toMatchObject({
      admitted: true,
    });
    expect(h.admit(MIDNIGHT - 1, "k1", "e#1", { keyLimits: limits, estimateTokens: 100 })).toMatchObject({
      reason: "key_token_budget",
      retryAfterMs: 1,
    });
    expect(h.admit(MIDNIGHT, "k1", "f#1", { keyLimits: limits, estimateTokens: 1000 }).admitted).toBe(true);
    expect(h.usage(MIDNIGHT, "k1", limits).tokens).toEqual({
      day: "2026-05-02",
      used: 0,
      reserved: 1000,
      remaining: 0,
    });
  });

  it("a key's unsettled reservations are leases: after leaseMs its budget is free again (a late report still counts)", () => {
    const h = harness(config({ maxTokensPerDay: 10_000, leaseMs: 10_000 }));
    const limits: KeyLimits = { maxTokensPerDay: 1000 };
    expect(h.admit(T0, "k1", "lost#1", { keyLimits: limits, estimateTokens: 600 }).admitted).toBe(true);
    expect(h.admit(T0 + 1, "k1", "slow#1", { keyLimits: limits, estimateTokens: 400 }).admitted).toBe(true);
    expect(h.cells.get("k1")?.tokens?.reservations).toEqual([
      ["lost#1", 600, T0 + 10_000],
      ["slow#1", 400, T0 + 10_001],
    ]);
    expect(h.admit(T0 + 9_999, "k1", "a#1", { keyLimits: limits, estimateTokens: 100 })).toMatchObject({
      admitted: false,
      reason: "key_token_budget",
    });
    // The reports never come: once the leases end, neither the key nor the agent counts the reservations.
    expect(h.usage(T0 + 10_001, "k1", limits).tokens).toEqual({
      day: "2026-05-01",
      used: 0,
      reserved: 0,
      remaining: 1000,
    });
    expect(h.guard.snapshot(T0 + 10_001).tokens).toEqual({
      day: "2026-05-01",
      used: 0,
      reserved: 0,
      remaining: 10_000,
    });
    expect(h.admit(T0 + 10_001, "k1", "b#1", { keyLimits: limits, estimateTokens: 900 }).admitted).toBe(true);
    expect(h.cells.get("k1")?.tokens?.reservations).toEqual([["b#1", 900, T0 + 20_001]]); // the expired ones dropped on the way
    // A report after the lease (the call was slow, not lost) still counts its usage on both budgets.
    h.report(T0 + 12_000, "k1", "slow#1", limits, 350);
    expect(h.usage(T0 + 12_000, "k1", limits).tokens).toEqual({
      day: "2026-05-01",
      used: 350,
      reserved: 900,
      remaining: 0,
    });
    expect(h.guard.snapshot(T0 + 12_000).tokens).toEqual({
      day: "2026-05-01",
      used: 350,
      reserved: 900,
      remaining: 8750,
    });
    // A budget lowered to 0 keeps the stored snapshot as it was; its reading ignores expired reservations too.
    expect(h.usage(T0 + 12_000, "k1", { maxTokensPerDay: 0 }).tokens).toEqual({
      day: "2026-05-01",
      used: 350,
      reserved: 900,
      remaining: 0,
    });
    expect(h.usage(T0 + 20_001, "k1", { maxTokensPerDay: 0 }).tokens).toEqual({
      day: "2026-05-01",
      used: 350,
      reserved: 0,
      remaining: 0,
    });
    // Legacy [id, tokens] pairs in a stored key row are held (no expiry) until settled or the day ends.
    h.cells.set("k2", { tokens: { day: "2026-05-01", used: 0, reservations: [["old#1", 700]] } });
    expect(h.usage(T0 + HOUR, "k2", limits).tokens).toMatchObject({ reserved: 700, remaining: 300 });
    expect(h.usage(T0 + HOUR, "k2", { maxTokensPerDay: 0 }).tokens).toMatchObject({ reserved: 700 });
    expect(h.usage(MIDNIGHT, "k2", limits).tokens).toMatchObject({ reserved: 0, remaining: 1000 });
  });

  it("keys are isolated: one key's spent budget and rate cell leave another's untouched", () => {
    const h = harness(config({ keyRateLimit: { limit: 60, periodMs: 60_000, burst: 2 } }));
    const limits: KeyLimits = { maxTokensPerDay: 500 };
    expect(h.admit(T0, "k1", "a#1", { keyLimits: limits, estimateTokens: 500 }).admitted).toBe(true);
    expect(h.admit(T0, "k1", "b#1", { keyLimits: limits, estimateTokens: 1 })).toMatchObject({
      reason: "key_token_budget",
    });
    expect(h.admit(T0, "k2", "c#1", { keyLimits: limits, estimateTokens: 500 }).admitted).toBe(true);
    h.report(T0, "k2", "c#1", limits, 120);
    expect(h.usage(T0, "k1", limits)).toMatchObject({
      tokens: { day: "2026-05-01", used: 0, reserved: 500, remaining: 0 },
      rateLimit: { allowed: true, remaining: 1, retryAfterMs: 0, limit: 60 },
    });
    expect(h.usage(T0, "k2", limits).rateLimit).toMatchObject({ remaining: 1 });
    expect(h.usage(T0, "k3", limits)).toMatchObject({
      tokens: { used: 0, reserved: 0, remaining: 500 },
      rateLimit: { remaining: 2 },
    });
    expect(h.usage(T0, "k2", limits).tokens).toEqual({ day: "2026-05-01", used: 120, reserved: 0, remaining: 380 });
  });

  it("a budget of 0 refuses every attempt; a negative one is a RangeError", () => {
    const h = harness(config());
    expect(h.admit(T0, "k1", "a#1", { keyLimits: { maxTokensPerDay: 0 }, estimateTokens: 0 })).toMatchObject({
      admitted: false,
      reason: "key_token_budget",
      retryAfterMs: msUntilUtcMidnight(T0),
    });
    expect(h.usage(T0, "k1", { maxTokensPerDay: 0 }).tokens).toEqual({
      day: "2026-05-01",
      used: 0,
      reserved: 0,
      remaining: 0,
    });
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => new KeyLimiter({ maxTokensPerDay: bad })).toThrow(RangeError);
  });

  it("without limits of its own or a default, a key adds nothing to the admission", () => {
    const h = harness(config());
    for (let i = 0; i < 20; i++)
      expect(h.admit(T0, "k1", `${i}#1`, { estimateTokens: 1e6 })).toMatchObject({ admitted: true });
    expect(h.cells.get("k1")).toEqual({});
    expect(h.usage(T0, "k1", {})).toEqual({});
  });

  it("10. key cells survive a toJSON/restore round trip (with and without leases)", () => {
    for (const leaseMs of [undefined, 400_000]) {
      const c = config();
      const limits: KeyLimits = { rateLimit: { limit: 30, periodMs: 60_000, burst: 3 }, maxTokensPerDay: 5_000 };
      const rand = mulberry32(1207);
      let live = new KeyLimiter(limits, {}, leaseMs);
      let now = T0;
      for (let i = 0; i < 3_000; i++) {
        now += Math.floor(rand() * 300_000);
        const restored = new KeyLimiter(limits, viaJson(live.toJSON()), leaseMs);
        const id = `call${Math.floor(rand() * 8)}`;
        const op = Math.floor(rand() * 3);
        const tokens = Math.floor(rand() * 900);
        if (op === 0) {
          const [a, b] = [restored, live].map((k) =>
            new Guard(c).admit(now, { config: c, callId: id, attempt: 1, estimateTokens: tokens, keyId: "k" }, k),
          );
          expect(a).toEqual(b);
        } else if (op === 1) [restored, live].forEach((k) => k.settle(now, id, tokens));
        else [restored, live].forEach((k) => k.settle(now, id, 0));
        expect(restored.usage(now)).toEqual(live.usage(now));
        expect(restored.toJSON()).toEqual(live.toJSON());
        if (rand() < 0.5) live = restored;
      }
      expect(live.toJSON().tokens?.reservations.every((r) => r.length === (leaseMs === undefined ? 2 : 3))).toBe(true);
    }
  });
});
