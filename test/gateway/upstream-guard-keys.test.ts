/**
 * Per-API-key limits in the UpstreamGuard Durable Object (real SQLite, real
 * RPC): a key's own rate limit replacing the per-key default, its daily token
 * budget (refusal consumes nothing, settlement with the actual tokens), two
 * keys kept apart, state rebuilt by a new instance from SQLite, `keyUsage`,
 * `resetAll`, the midnight sweep; then the gateway side (plans pass the
 * key's limits and the executor reports the key). The clock is injected.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { UpstreamGuard } from "../../durable-objects/upstream-guard/src";
import type { AdmitRequest, GuardConfig, KeyLimits } from "../../durable-objects/upstream-guard/src/types";
import { ZaharaError } from "../../workers/shared/errors";
import { createLogger } from "../../workers/shared/logger";
import { MANIFESTS } from "../../workers/generated";
import { executeResilient, sleep } from "../../workers/gateway/src/resilience/executor";
import { IsolateLeases } from "../../workers/gateway/src/resilience/leases";
import { ResilienceCatalog, buildPlans } from "../../workers/gateway/src/resilience/plans";
import { AgentRegistry } from "../../workers/gateway/src/registry";
import { configOf, freshGuard as freshGuardNamed, guardOf } from "./guards";

/** A guard of its own for each test (unique name), with small limits. */
const freshGuard = (overrides: Partial<GuardConfig> = {}) => freshGuardNamed(overrides, "key-test");

/** 23:00 UTC on a day far in the future (alarms set on this clock never fire by themselves). */
const T0 = Date.UTC(2030, 5, 1, 23, 0);
const HOUR = 3_600_000;

function admitRequest(
  config: GuardConfig,
  callId: string,
  keyId: string,
  extra: Partial<AdmitRequest> = {},
): AdmitRequest {
  return { config, callId, attempt: 1, estimateTokens: 0, keyId, ...extra };
}

async function setClock(stub: DurableObjectStub<UpstreamGuard>, at: number) {
  await runInDurableObject(stub, (instance: UpstreamGuard) => {
    instance.clock = () => at;
  });
}

/** Rows of a guard table, read inside the Durable Object. */
function rows(stub: DurableObjectStub<UpstreamGuard>, table: "key_limits" | "key_rate") {
  return runInDurableObject(stub, (_i: UpstreamGuard, state) =>
    state.storage.sql.exec(`SELECT * FROM ${table}`).toArray(),
  );
}

describe("UpstreamGuard per-key limits", () => {
  it("a key's own rate limit replaces the per-key default (same cell); other keys keep the default", async () => {
    const { config, stub } = freshGuard({ keyRateLimit: { limit: 600, periodMs: 60_000, burst: 5 } });
    await setClock(stub, T0);
    const own: KeyLimits = { rateLimit: { limit: 60, periodMs: 60_000, burst: 2 } };
    for (const n of [1, 2])
      expect(await stub.admit(admitRequest(config, `a${n}#1`, "k1", { keyLimits: own }))).toMatchObject({
        admitted: true,
      });
    expect(await stub.admit(admitRequest(config, "a3#1", "k1", { keyLimits: own }))).toMatchObject({
      admitted: false,
      reason: "key_rate_limited",
      retryAfterMs: 1000,
      rateLimit: { scope: "key", config: own.rateLimit },
    });
    for (let n = 0; n < 5; n++) expect((await stub.admit(admitRequest(config, `b${n}#1`, "k2"))).admitted).toBe(true);
    expect(await stub.admit(admitRequest(config, "b5#1", "k2"))).toMatchObject({
      admitted: false,
      reason: "key_rate_limited",
    });
    // One cell per key: judged by the default limit, k1's cell is still 2 s in debt, so no fresh burst.
    expect(await stub.admit(admitRequest(config, "a4#1", "k1"))).toMatchObject({
      admitted: false,
      reason: "key_rate_limited",
      rateLimit: { config: config.keyRateLimit },
    });
    // keyUsage reads the cell under the limits k1 was last admitted with.
    expect((await stub.keyUsage("k1")).rateLimit).toMatchObject({
      allowed: false,
      remaining: 0,
      retryAfterMs: 1000,
      limit: 60,
    });
    expect((await stub.keyUsage("k2")).rateLimit).toMatchObject({
      allowed: false,
      remaining: 0,
      retryAfterMs: 100,
      limit: 600,
    });
    expect((await rows(stub, "key_rate")).map((r) => r.key_id).sort()).toEqual(["k1", "k2"]);
  });

  it("a spent key budget refuses with key_token_budget (until UTC midnight) and consumes nothing anywhere", async () => {
    const { config, stub } = freshGuard({
      rateLimit: { limit: 600, periodMs: 60_000, burst: 20 },
      keyRateLimit: { limit: 600, periodMs: 60_000, burst: 20 },
      maxConcurrent: 10,
      maxTokensPerDay: 100_000,
    });
    await setClock(stub, T0);
    const limits: KeyLimits = { maxTokensPerDay: 1000 };
    expect(
      await stub.admit(admitRequest(config, "a#1", "k1", { keyLimits: limits, estimateTokens: 600 })),
    ).toMatchObject({ admitted: true });
    const snapBefore = await stub.snapshot(config);
    const keyBefore = await stub.keyUsage("k1");
    const sqlBefore = { limits: await rows(stub, "key_limits"), rate: await rows(stub, "key_rate") };
    for (let i = 0; i < 5; i++) {
      const refused = await stub.admit(
        admitRequest(config, `b${i}#1`, "k1", { keyLimits: limits, estimateTokens: 600 }),
      );
      expect(refused).toEqual({ admitted: false, reason: "key_token_budget", retryAfterMs: HOUR, breaker: "closed" });
    }
    const snapAfter = await stub.snapshot(config);
    expect(snapAfter.inFlight).toBe(1);
    expect(snapAfter.tokens).toEqual({ day: "2030-06-01", used: 0, reserved: 600, remaining: 99_400 });
    expect(snapAfter.rateLimit).toEqual(snapBefore.rateLimit);
    expect(snapAfter.retryBudget).toEqual(snapBefore.retryBudget);
    expect(await stub.keyUsage("k1")).toEqual(keyBefore);
    expect({ limits: await rows(stub, "key_limits"), rate: await rows(stub, "key_rate") }).toEqual(sqlBefore);
    expect(keyBefore.tokens).toEqual({ day: "2030-06-01", used: 0, reserved: 600, remaining: 400 });
  });

  it("the report settles the key's reservation with the actual tokens (and only when it names the key)", async () => {
    const { config, stub } = freshGuard({ maxTokensPerDay: 100_000 });
    await setClock(stub, T0);
    const limits: KeyLimits = { maxTokensPerDay: 1000 };
    for (const id of ["a#1", "b#1", "c#1"])
      await stub.admit(admitRequest(config, id, "k1", { keyLimits: limits, estimateTokens: 300 }));
    await stub.report({ config, callId: "a#1", outcome: "success", tokens: 420, keyId: "k1" });
    expect((await stub.keyUsage("k1")).tokens).toEqual({ day: "2030-06-01", used: 420, reserved: 600, remaining: 0 });
    expect((await stub.snapshot(config)).tokens).toMatchObject({ used: 420, reserved: 600 });
    await stub.report({ config, callId: "b#1", outcome: "failure", keyId: "k1" }); // no usage: released
    await stub.report({ config, callId: "c#1", outcome: "success", tokens: 50 }); // no keyId: the agent's budget only
    expect((await stub.keyUsage("k1")).tokens).toEqual({ day: "2030-06-01", used: 420, reserved: 300, remaining: 280 });
    expect((await stub.snapshot(config)).tokens).toMatchObject({ used: 470, reserved: 0 });
    await stub.report({ config, callId: "c#1", outcome: "success", tokens: 50, keyId: "k1" });
    expect((await stub.keyUsage("k1")).tokens).toEqual({ day: "2030-06-01", used: 470, reserved: 0, remaining: 530 });
    // Usage above the estimate counts in full and can spend the budget.
    await stub.admit(admitRequest(config, "d#1", "k1", { keyLimits: limits, estimateTokens: 300 }));
    await stub.report({ config, callId: "d#1", outcome: "success", tokens: 600, keyId: "k1" });
    expect((await stub.keyUsage("k1")).tokens).toEqual({ day: "2030-06-01", used: 1070, reserved: 0, remaining: 0 });
    expect(await stub.admit(admitRequest(config, "e#1", "k1", { keyLimits: limits, estimateTokens: 1 }))).toMatchObject(
      { reason: "key_token_budget" },
    );
  });

  it("two keys are isolated (budget and rate cell), and the next UTC day starts fresh", async () => {
    const { config, stub } = freshGuard({ keyRateLimit: { limit: 60, periodMs: 60_000, burst: 3 } });
    await setClock(stub, T0);
    const limits: KeyLimits = { maxTokensPerDay: 500 };
    expect(
      await stub.admit(admitRequest(config, "a#1", "k1", { keyLimits: limits, estimateTokens: 500 })),
    ).toMatchObject({ admitted: true });
    expect(
      await stub.admit(admitRequest(config, "b#1", "k1", { keyLimits: limits, estimateTokens: 500 })),
    ).toMatchObject({ reason: "key_token_budget" });
    expect(
      await stub.admit(admitRequest(config, "c#1", "k2", { keyLimits: limits, estimateTokens: 500 })),
    ).toMatchObject({ admitted: true });
    await stub.report({ config, callId: "c#1", outcome: "success", tokens: 90, keyId: "k2" });
    expect(await stub.keyUsage("k1")).toMatchObject({
      tokens: { used: 0, reserved: 500, remaining: 0 },
      rateLimit: { remaining: 2 },
    });
    expect(await stub.keyUsage("k2")).toMatchObject({
      tokens: { used: 90, reserved: 0, remaining: 410 },
      rateLimit: { remaining: 2 },
    });
    expect(await stub.keyUsage("k3")).toMatchObject({ rateLimit: { remaining: 3 } });
    expect((await stub.keyUsage("k3")).tokens).toBeUndefined();
    await setClock(stub, T0 + HOUR);
    expect(
      await stub.admit(admitRequest(config, "d#1", "k1", { keyLimits: limits, estimateTokens: 500 })),
    ).toMatchObject({ admitted: true });
    expect((await stub.keyUsage("k1")).tokens).toEqual({ day: "2030-06-02", used: 0, reserved: 500, remaining: 0 });
  });

  it("key cells and budgets are rebuilt from SQLite by a new instance", async () => {
    const { config, stub } = freshGuard({ maxTokensPerDay: 100_000 });
    await setClock(stub, T0);
    const limits: KeyLimits = { rateLimit: { limit: 60, periodMs: 60_000, burst: 3 }, maxTokensPerDay: 1000 };
    for (const id of ["a#1", "b#1"])
      await stub.admit(admitRequest(config, id, "k1", { keyLimits: limits, estimateTokens: 300 }));
    await stub.report({ config, callId: "a#1", outcome: "success", tokens: 250, keyId: "k1" });
    const before = await stub.keyUsage("k1");
    const after = await runInDurableObject(stub, async (_instance: UpstreamGuard, state) => {
      const restarted = new UpstreamGuard(state, env);
      restarted.clock = () => T0;
      const usage = restarted.keyUsage("k1");
      // The restarted instance settles the reservation it never saw, and enforces the rebuilt budget.
      await restarted.report({ config, callId: "b#1", outcome: "success", tokens: 700, keyId: "k1" });
      return { usage, settled: restarted.keyUsage("k1") };
    });
    expect(before).toEqual({
      agent: config.agent,
      keyId: "k1",
      tokens: { day: "2030-06-01", used: 250, reserved: 300, remaining: 450 },
      rateLimit: expect.objectContaining({ remaining: 1, limit: 60 }),
    });
    expect(after.usage).toEqual(before);
    expect(after.settled.tokens).toEqual({ day: "2030-06-01", used: 950, reserved: 0, remaining: 50 });
    const restarted = await runInDurableObject(stub, async (_instance: UpstreamGuard, state) => {
      const fresh = new UpstreamGuard(state, env);
      fresh.clock = () => T0;
      return fresh.admit(admitRequest(config, "c#1", "k1", { keyLimits: limits, estimateTokens: 100 }));
    });
    expect(restarted).toMatchObject({ admitted: false, reason: "key_token_budget" });
  });

  it("keyUsage names the agent; resetAll clears every key's cells and budget", async () => {
    const { config, stub } = freshGuard({ keyRateLimit: { limit: 60, periodMs: 60_000, burst: 2 } });
    await setClock(stub, T0);
    const limits: KeyLimits = { maxTokensPerDay: 100 };
    await stub.admit(admitRequest(config, "a#1", "k1", { keyLimits: limits, estimateTokens: 100 }));
    expect(await stub.keyUsage("k1")).toMatchObject({
      agent: config.agent,
      keyId: "k1",
      tokens: { remaining: 0 },
      rateLimit: { remaining: 1 },
    });
    expect(await rows(stub, "key_limits")).toHaveLength(1);
    await stub.resetAll();
    expect(await rows(stub, "key_limits")).toEqual([]);
    expect(await rows(stub, "key_rate")).toEqual([]);
    expect((await stub.keyUsage("k1")).tokens).toBeUndefined();
    expect(
      await stub.admit(admitRequest(config, "b#1", "k1", { keyLimits: limits, estimateTokens: 100 })),
    ).toMatchObject({ admitted: true });
    expect(await stub.keyUsage("k1")).toMatchObject({
      tokens: { used: 0, reserved: 100, remaining: 0 },
      rateLimit: { remaining: 1 },
    });
  });

  it("the alarm at UTC midnight drops the rows of earlier days", async () => {
    const { config, stub } = freshGuard();
    await setClock(stub, T0);
    await stub.admit(admitRequest(config, "a#1", "k1", { keyLimits: { maxTokensPerDay: 100 }, estimateTokens: 100 }));
    expect(await runInDurableObject(stub, (_i: UpstreamGuard, state) => state.storage.getAlarm())).toBe(
      Date.UTC(2030, 5, 2),
    );
    await setClock(stub, Date.UTC(2030, 5, 2));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows(stub, "key_limits")).toEqual([]);
    expect(await runInDurableObject(stub, (_i: UpstreamGuard, state) => state.storage.getAlarm())).toBeNull();
  });
});

describe("gateway: plans carry the key's limits, the executor reports the key", () => {
  const logger = createLogger({ service: "test", level: "error" });
  const registry = new AgentRegistry(MANIFESTS);
  const catalog = new ResilienceCatalog(MANIFESTS);

  const leases = new IsolateLeases();
  const background: Promise<unknown>[] = [];
  const waitUntil = (p: Promise<unknown>) => void background.push(p);

  function plansFor(task: string, parameters: Record<string, unknown>, keyId: string, keyLimits: KeyLimits) {
    const agent = registry.route(task, "agent-demo");
    const leaseSettings = { ttlMs: 1000, staleGraceMs: 10_000 };
    return buildPlans(
      {
        env,
        registry,
        catalog,
        agent,
        task,
        parameters,
        requestId: crypto.randomUUID(),
        keyId,
        keyLimits,
        gatewayTimeoutMs: 5000,
        logger,
        leases,
        leaseSettings,
        waitUntil,
      },
      env.AGENT_DEMO,
    );
  }

  async function run(task: string, parameters: Record<string, unknown>, keyId: string, keyLimits: KeyLimits) {
    const rt = { now: Date.now, sleep, random: Math.random, waitUntil };
    try {
      return await executeResilient(
        plansFor(task, parameters, keyId, keyLimits),
        { at: Date.now() + 5000, ms: 5000 },
        rt,
      );
    } finally {
      while (background.length > 0) await Promise.all(background.splice(0));
    }
  }

  it("every plan (fallbacks too) sends the key's limits with the token estimate", () => {
    const limits: KeyLimits = { rateLimit: { limit: 10, periodMs: 60_000, burst: 1 }, maxTokensPerDay: 5000 };
    const plans = plansFor("echo", {}, "key_plans", limits);
    expect(plans.map((p) => p.agent)).toEqual(["agent-demo", "agent-custom"]);
    for (const p of plans)
      expect(p.admitRequest(2)).toMatchObject({
        keyId: "key_plans",
        keyLimits: limits,
        attempt: 2,
        estimateTokens: 1000,
      });
  });

  it("a spent key budget is a 429 TOKEN_BUDGET_EXCEEDED with Retry-After; a served call is settled on the key", async () => {
    const keyId = `key_${crypto.randomUUID()}`;
    const served = await run("summarize", { text: "Zahara runs agents at the edge." }, keyId, {
      maxTokensPerDay: 2000,
    });
    expect(served.servedBy).toBe("agent-demo");
    // The report named the key: its reservation became the LLM's 59 tokens.
    expect((await guardOf("agent-demo").keyUsage(keyId)).tokens).toMatchObject({
      used: 59,
      reserved: 0,
      remaining: 1941,
    });

    const error = await run("echo", { message: "hi" }, keyId, { maxTokensPerDay: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZaharaError);
    const z = error as ZaharaError;
    expect(z.code).toBe("TOKEN_BUDGET_EXCEEDED");
    expect(z.status).toBe(429);
    expect(z.message).toBe("This API key's daily token budget for the agent is used up");
    expect(z.details).toMatchObject({ agent: "agent-demo", reason: "key_token_budget", scope: "key" });
    expect(Number(z.headers["Retry-After"])).toBeGreaterThan(0);
    expect(configOf("agent-demo").maxTokensPerDay).toBeGreaterThan(0); // the agent's own budget was not the cause
  });
});
