/** Full-jitter backoff, Retry-After parsing and outcome classification (pure functions, in workerd). */
import { describe, expect, it } from "vitest";
import { ZaharaError } from "../../workers/shared/errors";
import type { AttemptResult } from "../../workers/gateway/src/dispatch";
import {
  backoffCeilingMs,
  fullJitterMs,
  parseRetryAfterMs,
  seededRandom,
} from "../../workers/gateway/src/resilience/backoff";
import { breakerOutcome, isRetryable } from "../../workers/gateway/src/resilience/classify";

const GUIDE = { baseMs: 1000, capMs: 16_000 };

function failure(
  kind: "http" | "network" | "timeout" | "cancelled",
  status = 0,
  code = "UPSTREAM_FAILED",
): AttemptResult {
  const error = new ZaharaError("UPSTREAM_FAILED", { upstreamCode: code });
  return { ok: false, kind, status, error, retryAfter: null, latencyMs: 1 };
}

describe("backoff", () => {
  it("ceilings are the integration guide's 1, 2, 4, 8, 16 s, then stay at the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffCeilingMs(n, GUIDE))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 16_000, 16_000, 16_000,
    ]);
    expect(() => backoffCeilingMs(0, GUIDE)).toThrow(RangeError);
  });

  it("full jitter stays in [0, ceiling) for 10 000 seeded draws and spreads over the range", () => {
    const random = seededRandom(99);
    for (const retry of [1, 2, 3, 4, 5]) {
      const ceiling = backoffCeilingMs(retry, GUIDE);
      const draws = Array.from({ length: 2000 }, () => fullJitterMs(retry, GUIDE, random));
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThan(ceiling);
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      expect(mean / ceiling).toBeGreaterThan(0.45);
      expect(mean / ceiling).toBeLessThan(0.55);
    }
    expect(fullJitterMs(1, GUIDE, () => 0.999_999)).toBe(999);
    expect(fullJitterMs(1, GUIDE, () => 1)).toBe(0); // out-of-range randomness is clamped
  });

  it("seeded randomness is reproducible", () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    const now = Date.UTC(2026, 10, 23, 12, 0, 0);
    expect(parseRetryAfterMs("7", now)).toBe(7000);
    expect(parseRetryAfterMs(" 0 ", now)).toBe(0);
    expect(parseRetryAfterMs("Mon, 23 Nov 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfterMs("Mon, 23 Nov 2026 11:00:00 GMT", now)).toBe(0);
    for (const bad of [null, undefined, "", "-1", "1.5", "soon", "99999999999"])
      expect(parseRetryAfterMs(bad, now)).toBeUndefined();
  });
});

describe("classification", () => {
  it("failures are 5xx, network errors and timeouts; 4xx and cancellations are neither", () => {
    expect(breakerOutcome({ ok: true, status: 200, result: 1, latencyMs: 1 })).toBe("success");
    for (const status of [500, 501, 502, 503, 504, 599])
      expect(breakerOutcome(failure("http", status))).toBe("failure");
    expect(breakerOutcome(failure("network"))).toBe("failure");
    expect(breakerOutcome(failure("timeout"))).toBe("failure");
    for (const status of [400, 401, 404, 409, 422, 429])
      expect(breakerOutcome(failure("http", status))).toBe("neutral");
    expect(breakerOutcome(failure("cancelled"))).toBe("neutral");
  });

  it("retryable: network, 502/503/504, 429, 409 in progress, and 500 unless turned off", () => {
    const retryable = (r: AttemptResult, on500 = true) => isRetryable(r, on500);
    expect([500, 501, 502, 503, 504, 505].map((s) => retryable(failure("http", s)))).toEqual([
      true,
      false,
      true,
      true,
      true,
      false,
    ]);
    expect(retryable(failure("http", 500), false)).toBe(false);
    expect(retryable(failure("http", 429, "RATE_LIMITED"))).toBe(true);
    expect(retryable(failure("http", 409, "IDEMPOTENCY_IN_PROGRESS"))).toBe(true);
    expect([400, 401, 403, 404, 409, 422].map((s) => retryable(failure("http", s, "INVALID_REQUEST")))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(retryable(failure("network"))).toBe(true);
    expect(retryable(failure("timeout"))).toBe(false);
    expect(retryable(failure("cancelled"))).toBe(false);
  });
});
