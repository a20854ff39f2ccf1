/** The soak's verdicts: each check passes on a clean record and fails on the fault it exists to catch. */
import { describe, expect, it } from "vitest";
import {
  checkAttempts,
  checkBreaker,
  checkPermits,
  checkRequestLog,
  checkReservations,
  checkResponses,
  checkRestart,
} from "../../scripts/soak/checks";
import type { LoggedRequest, PersistedState, Transition } from "../../scripts/soak/observe";
import { FULL_PHASES, type Phase, scalePhases, totalRequests } from "../../scripts/soak/phases";
import { type SoakResponse, readBody } from "../../scripts/soak/runner";

const answer = (n: number, extra: Partial<SoakResponse> = {}): SoakResponse => ({
  requestId: `soak-${n}`,
  phase: 0,
  task: "chaos",
  status: 200,
  headerId: `soak-${n}`,
  bodyId: `soak-${n}`,
  shapeOk: true,
  latencyMs: 50,
  deadlineMs: 4000,
  ...extra,
});
const logged = (r: SoakResponse, upstream = 1): LoggedRequest => ({
  request_id: r.requestId,
  status: r.status,
  code: r.code ?? null,
  upstream,
  attempts: upstream,
});
const failing = (list: ReturnType<typeof checkResponses>) => list.filter((c) => !c.ok).map((c) => c.name);

describe("soak checks: responses", () => {
  const clean = [answer(1), answer(2, { status: 503, code: "CIRCUIT_OPEN" }), answer(3, { latencyMs: 4900 })];

  it("pass when every request was answered in time with its own id", () => {
    expect(failing(checkResponses(3, clean))).toEqual([]);
  });

  it("catch a dropped request, a missing one, a wrong id, a bad body, a late answer and a 500", () => {
    expect(
      failing(
        checkResponses(3, [
          ...clean.slice(0, 2),
          answer(3, { status: 0, headerId: null, bodyId: null, shapeOk: false, error: "TimeoutError" }),
        ]),
      ),
    ).toContain("every request answered");
    expect(failing(checkResponses(4, clean))).toEqual(["every request answered"]);
    expect(failing(checkResponses(3, [...clean.slice(0, 2), answer(3, { headerId: "generated-uuid" })]))).toEqual([
      "each response carries its request id",
    ]);
    expect(failing(checkResponses(3, [...clean.slice(0, 2), answer(3, { bodyId: null })]))).toEqual([
      "each response carries its request id",
    ]);
    expect(failing(checkResponses(3, [...clean.slice(0, 2), answer(3, { shapeOk: false })]))).toEqual([
      "every body in the expected shape",
    ]);
    expect(failing(checkResponses(3, [...clean.slice(0, 2), answer(3, { latencyMs: 5001 })]))).toEqual([
      "none past the deadline + 1 s",
    ]);
    expect(
      failing(checkResponses(3, [...clean.slice(0, 2), answer(3, { status: 500, code: "INTERNAL_ERROR" })])),
    ).toEqual(["no 500 from the gateway"]);
  });

  it("a request cut in flight by a hard restart may go unanswered; any other unanswered one is dropped", () => {
    const cut = answer(3, {
      status: 0,
      headerId: null,
      bodyId: null,
      shapeOk: false,
      error: "TypeError: fetch failed",
      cut: true,
    });
    expect(failing(checkResponses(3, [...clean.slice(0, 2), cut]))).toEqual([]);
    expect(failing(checkResponses(3, [...clean.slice(0, 2), { ...cut, cut: false }]))).toEqual([
      "every request answered",
    ]);
    // Cut but answered after all (it finished before the kill): held to every other rule.
    expect(failing(checkResponses(3, [...clean.slice(0, 2), answer(3, { cut: true, headerId: "x" })]))).toEqual([
      "each response carries its request id",
    ]);
  });

  it("read a body's id and shape: results, the error shape, and not stack traces or prose", () => {
    expect(readBody(JSON.stringify({ result: { ok: true }, request_id: "a" }), 200)).toEqual({
      bodyId: "a",
      shapeOk: true,
    });
    const error = {
      error: "open",
      code: "CIRCUIT_OPEN",
      request_id: "b",
      duration_ms: 1,
      service: "gateway",
      details: { retry_after_ms: 10 },
    };
    expect(readBody(JSON.stringify(error), 503)).toEqual({ bodyId: "b", code: "CIRCUIT_OPEN", shapeOk: true });
    expect(readBody(JSON.stringify({ ...error, error: "boom\n    at handler (index.ts:12:3)" }), 503).shapeOk).toBe(
      false,
    );
    expect(readBody(JSON.stringify({ ...error, stack: "x" }), 503).shapeOk).toBe(false);
    expect(readBody("Internal Server Error", 500)).toEqual({ bodyId: null, shapeOk: false });
  });
});

describe("soak checks: request log and attempts", () => {
  const sent = [answer(1), answer(2, { status: 502, code: "UPSTREAM_FAILED" })];

  it("one row per request with the caller's status", () => {
    expect(
      checkRequestLog(
        sent,
        sent.map((r) => logged(r)),
      ).ok,
    ).toBe(true);
    expect(checkRequestLog(sent, [logged(sent[0]!)]).ok).toBe(false);
    expect(checkRequestLog(sent, [...sent.map((r) => logged(r)), logged(sent[0]!)]).ok).toBe(false);
    expect(checkRequestLog(sent, [logged(sent[0]!), { ...logged(sent[1]!), status: 200 }]).ok).toBe(false);
    expect(checkRequestLog(sent, [...sent.map((r) => logged(r)), logged(answer(9))]).ok).toBe(false);
  });

  it("a request cut by a hard restart has at most one row, whatever its status", () => {
    const cut = answer(3, { status: 0, headerId: null, bodyId: null, shapeOk: false, cut: true });
    const rows = sent.map((r) => logged(r));
    expect(checkRequestLog([...sent, cut], rows).ok).toBe(true);
    expect(checkRequestLog([...sent, cut], [...rows, { ...logged(cut), status: 200 }]).ok).toBe(true);
    expect(checkRequestLog([...sent, cut], [...rows, logged(cut), logged(cut)]).ok).toBe(false);
    expect(checkRequestLog([...sent, { ...cut, cut: false }], rows).ok).toBe(false);
  });

  it("a hard restart may lose the rows of requests answered just before it (the outbox's bound), no others", () => {
    const at = 1_000_000;
    const sent = [answer(0), answer(1), answer(2)].map((r, i) => ({ ...r, endedAt: at - [2000, 300, 50][i]! }));
    const crash = { at, windowMs: 500 };
    // The two answered within 500 ms before the crash have no row: allowed.
    expect(checkRequestLog(sent, [logged(sent[0]!)], crash).ok).toBe(true);
    // The one answered 2 s before it must have its row.
    expect(checkRequestLog(sent, [logged(sent[1]!), logged(sent[2]!)], crash).ok).toBe(false);
    // Without a crash, every answered request needs its row.
    expect(checkRequestLog(sent, [logged(sent[0]!)]).ok).toBe(false);
  });

  it("upstream attempts per request at most 1.2 on average", () => {
    const rows = (n: number[]) => n.map((u, i) => logged(answer(i), u));
    expect(checkAttempts(rows([1, 1, 1, 1, 2])).ok).toBe(true); // 1.2
    expect(checkAttempts(rows([1, 1, 1, 2, 2])).ok).toBe(false); // 1.4
    expect(checkAttempts(rows([0, 0, 1, 4, 1])).ok).toBe(true); // refused requests reach no agent
    expect(checkAttempts([]).ok).toBe(false);
  });

  it("permits back to zero", () => {
    expect(checkPermits(0).ok).toBe(true);
    expect(checkPermits(1).ok).toBe(false);
  });
});

describe("soak checks: the breaker", () => {
  const phases: Phase[] = [
    { name: "healthy", requests: 10, failRate: 0, delayMs: 0 },
    { name: "fail", requests: 10, failRate: 0.5, delayMs: 0 },
    { name: "recover", requests: 10, failRate: 0, delayMs: 0 },
    { name: "slow", requests: 10, failRate: 0, delayMs: 12_000 },
    { name: "recover 2", requests: 10, failRate: 0, delayMs: 0 },
  ];
  const windows = [0, 1, 2, 3, 4].map((i) => ({ start: 10_000 * (i + 1), end: 10_000 * (i + 2) - 1 }));
  const t = (at: number, from: Transition["from"], to: Transition["to"], cause = "x"): Transition => ({
    at: new Date(at).toISOString(),
    from,
    to,
    cause,
  });
  const good = [
    t(21_000, "closed", "open"),
    t(22_500, "open", "half_open"),
    t(22_600, "half_open", "closed"),
    t(25_000, "closed", "open"),
    t(31_000, "open", "half_open"),
    t(31_100, "half_open", "closed"),
    t(45_000, "closed", "open"),
    t(51_000, "half_open", "closed"),
  ];
  const verdicts = (list: Transition[]) =>
    Object.fromEntries(checkBreaker(phases, windows, list).map((c) => [c.name, c.ok]));

  it("opened in each failing phase and closed before the next one; healthy phases stay closed", () => {
    expect(verdicts(good)).toEqual({
      "breaker stays closed: healthy": true,
      "breaker opened and recovered: fail": true,
      "breaker opened and recovered: slow": true,
    });
  });

  it("fails a failing phase that never opened it, or left it open into the next failing phase", () => {
    expect(
      verdicts(good.filter((x) => x.at !== new Date(45_000).toISOString()))["breaker opened and recovered: slow"],
    ).toBe(false);
    const stuck = [
      ...good.slice(0, 4),
      t(31_000, "open", "half_open"),
      t(35_000, "half_open", "open"),
      ...good.slice(6),
    ];
    expect(verdicts(stuck)["breaker opened and recovered: fail"]).toBe(false);
  });

  it("fails a healthy phase that opened it", () => {
    expect(
      verdicts([t(12_000, "closed", "open"), t(13_600, "half_open", "closed"), ...good])[
        "breaker stays closed: healthy"
      ],
    ).toBe(false);
  });
});

describe("soak checks: a restart", () => {
  const state: PersistedState = {
    guard: {
      agent: "agent-demo",
      at: "2026-12-02T00:00:00.000Z",
      breaker: { state: "open", retry_after_ms: 900, consecutive_failures: 5, open_until: "2026-12-02T00:00:01.000Z" },
      in_flight: 0,
      rate_limit: { limit: 100, remaining: 40, retry_after_ms: 0, reset_ms: 0 },
      tokens: { day: "2026-12-02", used: 118, reserved: 0, remaining: 900 },
      retry_budget: { requests: 10, retries: 2, available: 1 },
      transitions: [{ from: "closed", to: "open", at: "2026-12-02T00:00:00.000Z", cause: "5 consecutive failures" }],
    },
    keyUsage: { tokens: { used: 118, reserved: 0 }, rate_limit: { limit: 100, remaining: 50 } },
    requestsCounted: 360,
    tokensCounted: 118,
  };
  const after = (edit: (s: PersistedState) => void) => {
    const s = structuredClone(state);
    edit(s);
    return Object.fromEntries(checkRestart(state, s).map((c) => [c.name, c.ok]));
  };

  it("passes when everything came back (an open breaker may read half-open once its time is up; quotas may refill)", () => {
    expect(Object.values(after(() => {})).every(Boolean)).toBe(true);
    expect(
      Object.values(
        after((s) => {
          s.guard.breaker.state = "half_open";
          s.guard.rate_limit!.remaining = 60;
        }),
      ).every(Boolean),
    ).toBe(true);
  });

  it("token reservations back to zero, the agent's and the key's", () => {
    expect(checkReservations(state).ok).toBe(true);
    expect(
      checkReservations({ ...state, guard: { ...state.guard, tokens: { ...state.guard.tokens!, reserved: 1000 } } }).ok,
    ).toBe(false);
    expect(
      checkReservations({ ...state, keyUsage: { ...state.keyUsage, tokens: { used: 118, reserved: 1000 } } }).ok,
    ).toBe(false);
  });

  it("after a hard restart nothing may go backwards, though attempts in flight may have moved it on", () => {
    const hard = (edit: (s: PersistedState) => void) => {
      const s = structuredClone(state);
      edit(s);
      return Object.fromEntries(checkRestart(state, s, "hard").map((c) => [c.name.replace(" (hard)", ""), c.ok]));
    };
    expect(
      Object.values(
        hard((s) => {
          s.guard.tokens!.used = 200;
          s.keyUsage.tokens!.used = 200;
          s.requestsCounted = 370;
          s.guard.rate_limit!.remaining = 30;
        }),
      ).every(Boolean),
    ).toBe(true);
    expect(
      hard((s) => {
        s.guard.transitions.push({
          from: "open",
          to: "half_open",
          at: "2026-12-02T00:00:01.000Z",
          cause: "open_ms elapsed",
        });
        s.guard.breaker.state = "half_open";
      })["restart keeps the breaker"],
    ).toBe(true);
    expect(
      hard((s) => {
        s.guard.transitions = [];
      })["restart keeps the breaker"],
    ).toBe(false);
    expect(
      hard((s) => {
        s.guard.tokens!.used = 100;
      })["restart keeps the token budgets"],
    ).toBe(false);
    expect(
      hard((s) => {
        s.requestsCounted = 10;
      })["restart keeps the request counters"],
    ).toBe(false);
    expect(
      hard((s) => {
        s.keyUsage.rate_limit = null;
      })["restart keeps the rate-limit quotas"],
    ).toBe(false);
  });

  it("fails when the breaker, a budget, a quota or a counter was lost", () => {
    expect(
      after((s) => {
        s.guard.breaker.state = "closed";
      })["restart keeps the breaker"],
    ).toBe(false);
    expect(
      after((s) => {
        s.guard.transitions = [];
      })["restart keeps the breaker"],
    ).toBe(false);
    expect(
      after((s) => {
        s.guard.tokens!.used = 0;
      })["restart keeps the token budgets"],
    ).toBe(false);
    expect(
      after((s) => {
        s.keyUsage.tokens = null;
      })["restart keeps the token budgets"],
    ).toBe(false);
    expect(
      after((s) => {
        s.keyUsage.rate_limit!.remaining = 10;
      })["restart keeps the rate-limit quotas"],
    ).toBe(false);
    expect(
      after((s) => {
        s.requestsCounted = 0;
      })["restart keeps the request counters"],
    ).toBe(false);
  });
});

describe("soak phases", () => {
  it("the full soak is 10 000 requests with every fault the issue names", () => {
    expect(totalRequests(FULL_PHASES)).toBe(10_000);
    expect(new Set(FULL_PHASES.map((p) => p.failRate))).toEqual(new Set([0, 0.1, 0.5, 1]));
    expect(new Set(FULL_PHASES.map((p) => p.delayMs))).toEqual(new Set([0, 2000, 12_000]));
    expect(
      FULL_PHASES.filter((p) => p.restartAfter !== undefined)
        .map((p) => p.restartMode ?? "drained")
        .sort(),
    ).toEqual(["drained", "hard"]);
  });

  it("scales every phase (at least 64 requests) and the restart point with it", () => {
    const short = scalePhases(FULL_PHASES, 0.2);
    expect(totalRequests(short)).toBe(2000);
    expect(short.filter((p) => p.restartAfter !== undefined).map((p) => p.restartAfter)).toEqual([150, 32]);
    expect(scalePhases(FULL_PHASES, 0.001).every((p) => p.requests === 64)).toBe(true);
    expect(() => scalePhases(FULL_PHASES, 0)).toThrow(RangeError);
    expect(() => scalePhases(FULL_PHASES, 2)).toThrow(RangeError);
  });
});
