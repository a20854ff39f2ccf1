/**
 * The UpstreamGuard Durable Object itself (real SQLite storage, real RPC):
 * atomic admission, exactly-once transitions, persistence across a restart,
 * lease expiry by alarm, concurrency and token budgets. The clock is
 * injected with runInDurableObject; no sleeps.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { UpstreamGuard } from "../../durable-objects/upstream-guard/src";
import type { AdmitRequest, GuardConfig } from "../../durable-objects/upstream-guard/src/types";
import { freshGuard } from "./guards";

/**
 * The guards' injected "now": a whole hour a day ahead of real time. Alarms
 * are set on this clock, so it must not be in the real past, or workerd would
 * fire them on its own before the test does.
 */
const T0 = Math.ceil((Date.now() + 86_400_000) / 3_600_000) * 3_600_000;

function admitRequest(config: GuardConfig, n: number, extra: Partial<AdmitRequest> = {}): AdmitRequest {
  return { config, callId: `req-${n}#1`, attempt: 1, estimateTokens: 0, ...extra };
}

/** Sets the guard's clock to `at` (epoch ms). */
async function setClock(stub: DurableObjectStub<UpstreamGuard>, at: number) {
  await runInDurableObject(stub, (instance: UpstreamGuard) => {
    instance.clock = () => at;
  });
}

describe("UpstreamGuard Durable Object", () => {
  it("settle applies a request's last report and its record in one call, as report then recordRequest would", async () => {
    const { config, stub } = freshGuard({ maxConcurrent: 4 });
    await setClock(stub, T0);
    await stub.admit(admitRequest(config, 1));
    expect((await stub.snapshot(config)).inFlight).toBe(1);
    await stub.settle(
      { config, callId: "req-1#1", outcome: "success", tokens: 42 },
      { capability: "echo", outcome: { status: 200, durationMs: 12 }, retries: 0 },
    );
    const metrics = await stub.metrics(config);
    expect(metrics.inFlight).toBe(0);
    expect(metrics.counters.tokens).toBe(42);
    expect(metrics.counters.requests).toEqual({ echo: { "200": 1 } });
  });

  it("a leased attempt's tokens, sent with the agent's lease and its key's, count once in the agent's metrics", async () => {
    const { config, stub } = freshGuard({ maxTokensPerDay: 10_000 });
    await setClock(stub, T0);
    const want = {
      used: 0,
      tokens: 1,
      permits: 0,
      morePermits: 0,
      settledTokens: 0,
      budget: 0,
      moreBudget: 0,
      estimate: 10,
    };
    const limits = { maxTokensPerDay: 1000 };
    await stub.exchange({
      config,
      holder: "h1",
      leases: [
        { keyId: "*", ...want },
        { keyId: "k1", keyLimits: limits, ...want },
      ],
    });
    const settled = { ...want, used: 1, settledTokens: 59 };
    await stub.exchange({
      config,
      holder: "h1",
      leases: [
        { keyId: "*", ...settled },
        { keyId: "k1", keyLimits: limits, ...settled },
      ],
    });
    expect((await stub.metrics(config)).counters.tokens).toBe(59);
  });

  it("9. 50 simultaneous failure reports make exactly one closed→open transition", async () => {
    const { config, stub } = freshGuard();
    const t0 = T0;
    await setClock(stub, t0);
    await Promise.all(Array.from({ length: 50 }, (_, i) => stub.admit(admitRequest(config, i))));
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => stub.report({ config, callId: `req-${i}#1`, outcome: "failure" })),
    );
    const snap = await stub.snapshot(config);
    expect(snap.breaker.state).toBe("open");
    expect(snap.transitions.filter((t) => t.from === "closed" && t.to === "open")).toHaveLength(1);
    expect(snap.transitions).toHaveLength(1);
    expect(snap.transitions[0]?.cause).toMatch(/5 consecutive failures/);
    expect(snap.inFlight).toBe(0);
  });

  it("3. (guard) open: admission refused with the whole time left", async () => {
    const { config, stub } = freshGuard();
    const t0 = T0;
    await setClock(stub, t0);
    for (let i = 0; i < 5; i++) {
      await stub.admit(admitRequest(config, i));
      await stub.report({ config, callId: `req-${i}#1`, outcome: "failure" });
    }
    await setClock(stub, t0 + 15_000);
    const refused = await stub.admit(admitRequest(config, 99));
    expect(refused).toMatchObject({ admitted: false, reason: "circuit_open", retryAfterMs: 45_000, breaker: "open" });
  });

  it("10. open-until, counts and quotas survive a Durable Object restart", async () => {
    const { config, stub } = freshGuard({
      rateLimit: { limit: 60, periodMs: 60_000, burst: 10 },
      maxTokensPerDay: 10_000,
      maxConcurrent: 5,
    });
    const t0 = T0;
    await setClock(stub, t0);
    for (let i = 0; i < 5; i++) {
      await stub.admit(admitRequest(config, i, { estimateTokens: 100 }));
      await stub.report({ config, callId: `req-${i}#1`, outcome: "failure" });
    }
    await stub.admit(admitRequest(config, 100, { estimateTokens: 100 })); // refused: open, consumes nothing
    const before = await stub.snapshot(config);
    // A restart: a brand-new instance over the same storage rebuilds everything from SQLite.
    const after = await runInDurableObject(stub, (_instance: UpstreamGuard, state) => {
      const restarted = new UpstreamGuard(state, env);
      restarted.clock = () => t0;
      return restarted.snapshot(config);
    });
    expect(before.breaker).toMatchObject({ state: "open", openUntil: t0 + 60_000 });
    expect(after.breaker).toMatchObject({ state: "open", openUntil: t0 + 60_000, retryAfterMs: 60_000 });
    expect(after.rateLimit?.remaining).toBe(before.rateLimit?.remaining);
    expect(after.rateLimit?.remaining).toBeLessThan(10);
    expect(after.tokens).toEqual(before.tokens);
    expect(after.transitions).toEqual(before.transitions);
    expect(after.retryBudget.requests).toBe(5);
  });

  it("7. a lost probe lease expires; half-open never wedges (and the alarm frees lost permits)", async () => {
    const { config, stub } = freshGuard({ maxConcurrent: 3, leaseMs: 10_000 });
    const t0 = T0;
    await setClock(stub, t0);
    for (let i = 0; i < 5; i++) {
      await stub.admit(admitRequest(config, i));
      await stub.report({ config, callId: `req-${i}#1`, outcome: "failure" });
    }
    await setClock(stub, t0 + 60_000);
    expect(await stub.admit(admitRequest(config, 10))).toMatchObject({
      admitted: true,
      probe: true,
      breaker: "half_open",
    });
    // The prober's isolate dies: no report ever comes. Others are refused while its lease lives...
    expect(await stub.admit(admitRequest(config, 11))).toMatchObject({
      admitted: false,
      reason: "circuit_open",
      breaker: "half_open",
    });
    // ...the alarm frees its concurrency permit when the lease ends...
    await setClock(stub, t0 + 70_001);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot(config)).inFlight).toBe(0);
    // ...and the next caller becomes the probe.
    const probe = await stub.admit(admitRequest(config, 12));
    expect(probe).toMatchObject({ admitted: true, probe: true });
    await stub.report({ config, callId: "req-12#1", outcome: "success" });
    expect((await stub.snapshot(config)).breaker.state).toBe("closed");
  });

  it("21. (guard) concurrency C+1 is refused; reports and expiry bring in-flight back to 0", async () => {
    const { config, stub } = freshGuard({ maxConcurrent: 4, leaseMs: 5000 });
    const t0 = T0;
    await setClock(stub, t0);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => stub.admit(admitRequest(config, i))));
    expect(results.filter((r) => r.admitted)).toHaveLength(4);
    expect(results.filter((r) => !r.admitted && r.reason === "concurrency")).toHaveLength(1);
    expect((await stub.snapshot(config)).inFlight).toBe(4);
    // Two admitted ones finish (one of them reports twice), two are lost and expire.
    // Which of the five simultaneous calls was refused varies, so the finished ones are picked among the admitted.
    const [first, second] = results.flatMap((r, i) => (r.admitted ? [`req-${i}#1`] : []));
    await stub.report({ config, callId: first!, outcome: "success" });
    await stub.report({ config, callId: second!, outcome: "neutral" });
    await stub.report({ config, callId: second!, outcome: "neutral" });
    expect((await stub.snapshot(config)).inFlight).toBe(2);
    await setClock(stub, t0 + 5001);
    await runDurableObjectAlarm(stub);
    expect((await stub.snapshot(config)).inFlight).toBe(0);
  });

  it("22. (guard) token budget: reserve, settle with reported usage, refuse, reset at UTC midnight", async () => {
    const { config, stub } = freshGuard({ maxTokensPerDay: 1000 });
    const t0 = Date.UTC(2030, 0, 1, 23, 0);
    await setClock(stub, t0);
    expect(await stub.admit(admitRequest(config, 1, { estimateTokens: 400 }))).toMatchObject({ admitted: true });
    expect((await stub.snapshot(config)).tokens).toMatchObject({ used: 0, reserved: 400, remaining: 600 });
    await stub.report({ config, callId: "req-1#1", outcome: "success", tokens: 950 });
    expect((await stub.snapshot(config)).tokens).toMatchObject({ used: 950, reserved: 0, remaining: 50 });
    const refused = await stub.admit(admitRequest(config, 2, { estimateTokens: 400 }));
    expect(refused).toMatchObject({ admitted: false, reason: "token_budget", retryAfterMs: 3_600_000 });
    await setClock(stub, Date.UTC(2030, 0, 2, 0, 0, 1));
    expect(await stub.admit(admitRequest(config, 3, { estimateTokens: 400 }))).toMatchObject({ admitted: true });
    expect((await stub.snapshot(config)).tokens).toMatchObject({ day: "2030-01-02", used: 0, reserved: 400 });
  });

  it("22. (guard) token reservations whose reports never come expire with the permit lease, for the agent and the key", async () => {
    const { config, stub } = freshGuard({ maxTokensPerDay: 1000, maxConcurrent: 10, leaseMs: 10_000 });
    const t0 = T0;
    await setClock(stub, t0);
    const key = { keyId: "k1", keyLimits: { maxTokensPerDay: 800 }, estimateTokens: 400 };
    // Two admitted attempts whose gateway isolate dies: no report ever comes.
    for (const n of [1, 2]) expect(await stub.admit(admitRequest(config, n, key))).toMatchObject({ admitted: true });
    expect(await stub.admit(admitRequest(config, 3, key))).toMatchObject({ admitted: false, reason: "token_budget" });
    expect((await stub.snapshot(config)).tokens).toMatchObject({ used: 0, reserved: 800, remaining: 200 });
    expect((await stub.keyUsage("k1")).tokens).toMatchObject({ used: 0, reserved: 800, remaining: 0 });
    // Still held just before the lease ends...
    await setClock(stub, t0 + 9_999);
    expect((await stub.snapshot(config)).tokens).toMatchObject({ reserved: 800 });
    // ...and gone at its end, with no alarm needed (expired reservations are not counted), for the agent and the key.
    await setClock(stub, t0 + 10_000);
    expect((await stub.snapshot(config)).tokens).toMatchObject({ used: 0, reserved: 0, remaining: 1000 });
    expect((await stub.keyUsage("k1")).tokens).toMatchObject({ used: 0, reserved: 0, remaining: 800 });
    // The alarm (armed for the lost permits) frees the permits and drops the agent's expired reservations from SQLite.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const stored = await runInDurableObject(
      stub,
      (_i: UpstreamGuard, state) =>
        state.storage.sql.exec<{ v: string }>("SELECT v FROM state WHERE k = 'tokens'").one().v,
    );
    expect(JSON.parse(stored)).toMatchObject({ used: 0, reservations: [] });
    expect((await stub.snapshot(config)).inFlight).toBe(0);
    // The budget is available again, and the new reservations are leases too.
    for (const n of [4, 5]) expect(await stub.admit(admitRequest(config, n, key))).toMatchObject({ admitted: true });
    expect((await stub.snapshot(config)).tokens).toMatchObject({ reserved: 800, remaining: 200 });
    const keyRow = await runInDurableObject(
      stub,
      (_i: UpstreamGuard, state) =>
        state.storage.sql.exec<{ tokens: string }>("SELECT tokens FROM key_limits WHERE key_id = 'k1'").one().tokens,
    );
    expect(JSON.parse(keyRow).reservations).toEqual([
      ["req-4#1", 400, t0 + 20_000],
      ["req-5#1", 400, t0 + 20_000],
    ]);
    // A report that comes after its lease (a slow call, not a lost one) still counts its usage on both budgets.
    await stub.report({ config, callId: "req-1#1", outcome: "success", tokens: 150, keyId: "k1" });
    expect((await stub.snapshot(config)).tokens).toMatchObject({ used: 150, reserved: 800, remaining: 50 });
    expect((await stub.keyUsage("k1")).tokens).toMatchObject({ used: 150, reserved: 800, remaining: 0 });
  });

  it("20. a refused attempt consumes nothing anywhere (rate, key rate, permits, tokens)", async () => {
    const { config, stub } = freshGuard({
      rateLimit: { limit: 600, periodMs: 60_000, burst: 3 },
      keyRateLimit: { limit: 600, periodMs: 60_000, burst: 10 },
      maxConcurrent: 10,
      maxTokensPerDay: 100_000,
    });
    const t0 = T0;
    await setClock(stub, t0);
    for (let i = 0; i < 3; i++)
      expect((await stub.admit(admitRequest(config, i, { keyId: "k1", estimateTokens: 10 }))).admitted).toBe(true);
    const before = await stub.snapshot(config);
    for (let i = 3; i < 20; i++) {
      expect(await stub.admit(admitRequest(config, i, { keyId: "k1", estimateTokens: 10 }))).toMatchObject({
        admitted: false,
        reason: "rate_limited",
      });
    }
    const after = await stub.snapshot(config);
    expect(after.inFlight).toBe(before.inFlight);
    expect(after.tokens).toEqual(before.tokens);
    expect(after.retryBudget).toEqual(before.retryBudget);
    // One refill interval (100 ms) later exactly one more passes.
    await setClock(stub, t0 + 100);
    expect((await stub.admit(admitRequest(config, 50, { keyId: "k1" }))).admitted).toBe(true);
    expect((await stub.admit(admitRequest(config, 51, { keyId: "k1" }))).admitted).toBe(false);
  });

  it("admin RPCs force the breaker open (isolated) and closed, each recorded once", async () => {
    const { config, stub } = freshGuard();
    const isolated = await stub.forceOpen(config, "maintenance");
    expect(isolated.breaker.state).toBe("isolated");
    expect(await stub.admit(admitRequest(config, 1))).toMatchObject({ admitted: false, reason: "circuit_open" });
    const closed = await stub.forceClose(config, "maintenance over");
    expect(closed.breaker.state).toBe("closed");
    expect(closed.transitions.map((t) => [t.from, t.to, t.cause])).toEqual([
      ["closed", "isolated", "maintenance"],
      ["isolated", "closed", "maintenance over"],
    ]);
    expect((await stub.admit(admitRequest(config, 2))).admitted).toBe(true);
  });
});
