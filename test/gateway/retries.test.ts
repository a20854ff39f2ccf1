/**
 * Retries, deadlines, the retry budget and fallbacks: the gateway's executor
 * driving the real agent Workers (service bindings, the `chaos` capability)
 * and the real UpstreamGuard. Sleeps go through a virtual clock with seeded
 * jitter where only the schedule matters; real time where the deadline is
 * the point.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { GuardConfig } from "../../durable-objects/upstream-guard/src/types";
import { agentInfo } from "../../workers/shared/agents";
import { ZaharaError } from "../../workers/shared/errors";
import { createLogger } from "../../workers/shared/logger";
import { MANIFESTS } from "../../workers/generated";
import { type AttemptResult, callAgent } from "../../workers/gateway/src/dispatch";
import { backoffCeilingMs, seededRandom } from "../../workers/gateway/src/resilience/backoff";
import { type RetrySettings, resolveResilience } from "../../workers/gateway/src/resilience/config";
import {
  type AgentPlan,
  type ExecutorRuntime,
  executeResilient,
  sleep,
} from "../../workers/gateway/src/resilience/executor";
import { guardClient } from "../../workers/gateway/src/resilience/guard-client";
import { IsolateLeases } from "../../workers/gateway/src/resilience/leases";

const logger = createLogger({ service: "test", level: "error" });
/** This test isolate's leases, as the gateway app keeps them. */
const leases = new IsolateLeases();
/** Background work of the guard clients (reports, renewals): drained by the runtimes' `settle`. */
const pending: Promise<unknown>[] = [];
async function drain(): Promise<void> {
  while (pending.length > 0) await Promise.all(pending.splice(0));
}
const manifestOf = (name: string) => MANIFESTS.find((m) => m.metadata.name === name)!;

interface PlanOptions {
  agent?: "agent-demo" | "agent-custom";
  task?: string;
  parameters?: Record<string, unknown>;
  retries?: Partial<RetrySettings>;
  guard?: Partial<GuardConfig>;
  binding?: Fetcher;
  signal?: AbortSignal;
}

/** A plan against a real agent, with a guard of its own (unique name) so tests never share state. */
function plan({
  agent = "agent-demo",
  task = "chaos",
  parameters = {},
  retries = {},
  guard = {},
  binding,
  signal,
}: PlanOptions = {}): AgentPlan & { config: GuardConfig; calls: () => number } {
  const manifest = manifestOf(agent);
  const settings = resolveResilience(manifest, 5000);
  const config: GuardConfig = { ...settings.guard, agent: `${agent}-${crypto.randomUUID()}`, ...guard };
  const info = agentInfo(manifest);
  const fetcher = binding ?? (agent === "agent-demo" ? env.AGENT_DEMO : env.AGENT_CUSTOM);
  let calls = 0;
  return {
    agent,
    config,
    calls: () => calls,
    retries: { ...settings.retries, ...retries },
    guard: guardClient(
      { namespace: env.UPSTREAM_GUARD, agent: config.agent, config, waitUntil: (p) => void pending.push(p), logger },
      leases,
      { ttlMs: 1000, staleGraceMs: 10_000 },
    ),
    admitRequest: (attempt) => ({ config, callId: `r-${crypto.randomUUID()}#${attempt}`, attempt, estimateTokens: 0 }),
    call: (attempt, timeoutMs) =>
      (calls++, callAgent)({
        agent: info,
        binding: fetcher,
        task,
        parameters,
        requestId: crypto.randomUUID(),
        attempt,
        timeoutMs,
        ...(signal ? { signal } : {}),
      }),
  };
}

/** A runtime whose sleeps advance a virtual clock instantly and are recorded. */
function virtualRuntime(seed = 1) {
  let skew = 0;
  const sleeps: number[] = [];
  const background: Promise<unknown>[] = [];
  const rt: ExecutorRuntime = {
    now: () => Date.now() + skew,
    sleep: async (ms) => {
      sleeps.push(ms);
      skew += ms;
    },
    random: seededRandom(seed),
    waitUntil: (p) => void background.push(p),
  };
  return { rt, sleeps, settle: () => Promise.all(background).then(drain) };
}

/** A runtime in real time. */
function realRuntime(): ExecutorRuntime & { settle: () => Promise<unknown> } {
  const background: Promise<unknown>[] = [];
  return {
    now: Date.now,
    sleep,
    random: Math.random,
    waitUntil: (p) => void background.push(p),
    settle: () => Promise.all(background).then(drain),
  };
}

async function run(plans: AgentPlan[], rt: ExecutorRuntime, deadlineMs = 5000) {
  try {
    return {
      ok: true as const,
      value: await executeResilient(plans, { at: rt.now() + deadlineMs, ms: deadlineMs }, rt),
    };
  } catch (error) {
    if (!(error instanceof ZaharaError)) throw error;
    return { ok: false as const, error, attempts: (error.details?.attempts as unknown[] | undefined)?.length ?? 1 };
  }
}

/** A binding whose every call fails at the network level (an unreachable Worker). */
const unreachable = {
  fetch: () => Promise.reject(new TypeError("Network connection lost")),
  connect: () => {
    throw new Error("no");
  },
} as unknown as Fetcher;

describe("retries", () => {
  it("11. only retryable outcomes are retried", async () => {
    const cases: [string, PlanOptions, number][] = [
      ["400", { parameters: { fail_status: 400 } }, 1],
      ["404", { parameters: { fail_status: 404 } }, 1],
      ["422", { parameters: { fail_status: 422 } }, 1],
      ["invalid parameters", { parameters: { fail_status: 99 } }, 1],
      ["500", { parameters: { fail_status: 500 } }, 4],
      ["500 with retry_on_500 off", { parameters: { fail_status: 500 }, retries: { retryOn500: false } }, 1],
      ["501", { parameters: { fail_status: 501 } }, 1],
      ["502", { parameters: { fail_status: 502 } }, 4],
      ["503", { parameters: { fail_status: 503 } }, 4],
      ["504", { parameters: { fail_status: 504 } }, 4],
      ["429", { parameters: { fail_status: 429 } }, 4],
      ["network error", { binding: unreachable }, 4],
    ];
    for (const [label, options, attempts] of cases) {
      const { rt, settle } = virtualRuntime();
      const p = plan({ ...options, guard: { breaker: { failureThreshold: 1000, openMs: 60_000, halfOpenProbes: 1 } } });
      const out = await run([p], rt);
      await settle();
      expect(out.ok, label).toBe(false);
      expect(p.calls(), label).toBe(attempts);
    }
  });

  it("12. at most 1+3 attempts, each delay inside its jitter bounds", async () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const { rt, sleeps, settle } = virtualRuntime(seed);
      const p = plan({
        parameters: { fail_status: 503 },
        guard: { breaker: { failureThreshold: 1000, openMs: 60_000, halfOpenProbes: 1 } },
      });
      const out = await run([p], rt, 60_000);
      await settle();
      expect(out.ok).toBe(false);
      if (out.ok) continue;
      expect(out.error.code).toBe("UPSTREAM_FAILED");
      expect(out.error.status).toBe(502);
      const attempts = out.error.details?.attempts as {
        attempt: number;
        status: number;
        backoff_ms: number;
        latency_ms: number;
      }[];
      expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, 503],
        [2, 503],
        [3, 503],
        [4, 503],
      ]);
      expect(sleeps).toHaveLength(3);
      sleeps.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThan(backoffCeilingMs(i + 1, p.retries)); // 1000, 2000, 4000
      });
      expect(attempts.slice(1).map((a) => a.backoff_ms)).toEqual(sleeps);
      attempts.forEach((a) => expect(a.latency_ms).toBeGreaterThanOrEqual(0));
    }
  });

  it("13. the whole request, sleeps included, ends by the deadline; 504 otherwise", async () => {
    // Failing fast enough to retry: real sleeps, and no sleep is taken past the 1500 ms deadline.
    const rt = realRuntime();
    const started = Date.now();
    const failing = await run(
      [plan({ parameters: { fail_status: 503 }, retries: { baseMs: 400, capMs: 2000 } })],
      rt,
      1500,
    );
    expect(Date.now() - started).toBeLessThanOrEqual(1500 + 250);
    expect(failing.ok).toBe(false);
    // An agent slower than the deadline: 504 at the deadline, not at the agent's pace.
    const started2 = Date.now();
    const slow = await run([plan({ parameters: { delay_ms: 3000 } })], rt, 300);
    const took = Date.now() - started2;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(300 + 400);
    expect(slow.ok ? 0 : slow.error.code).toBe("UPSTREAM_TIMEOUT");
    expect(slow.ok ? 0 : slow.error.status).toBe(504);
    expect(slow.ok ? {} : slow.error.details).toMatchObject({ timeout_ms: 300 });
    await rt.settle();
  });

  it("14. Retry-After is honoured; past the deadline, fail fast", async () => {
    const { rt, sleeps, settle } = virtualRuntime();
    const honoured = await run([plan({ parameters: { fail_status: 429, retry_after_s: 2 } })], rt, 60_000);
    expect(sleeps).toEqual([2000, 2000, 2000]);
    expect(honoured.ok ? 0 : honoured.error.status).toBe(429);
    // Retry-After 30 s with 5 s left: no sleep, the agent's 429 at once.
    const fast = virtualRuntime();
    const started = Date.now();
    const out = await run([plan({ parameters: { fail_status: 429, retry_after_s: 30 } })], fast.rt, 5000);
    expect(fast.sleeps).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error.status).toBe(429);
      expect(out.error.headers["Retry-After"]).toBe("30");
    }
    await settle();
    await fast.settle();
  });

  it("15. at 100% agent failure, retries stay ≤ 20% of requests plus the floor", async () => {
    const { rt, settle } = virtualRuntime(7);
    // A breaker that never opens and no rate limit, so only the retry budget limits retries.
    const p = plan({
      parameters: { fail_status: 503 },
      // A 10-minute budget window, so a loaded machine cannot spread the 100 requests over two windows.
      guard: {
        breaker: { failureThreshold: 100_000, openMs: 60_000, halfOpenProbes: 1 },
        rateLimit: undefined,
        keyRateLimit: undefined,
        retryBudget: { ratio: 0.2, minPerWindow: 10, windowMs: 600_000 },
      },
    });
    const requests = 100;
    for (let i = 0; i < requests; i++) await run([p], rt, 600_000);
    await settle();
    const attempts = p.calls();
    const retries = attempts - requests;
    const { ratio, minPerWindow } = p.config.retryBudget;
    // Every request fell in one window of the guard's (real) clock.
    expect(retries).toBeLessThanOrEqual(ratio * requests + minPerWindow);
    expect(retries).toBeGreaterThan(0);
    expect(attempts).toBeLessThanOrEqual(requests * 1.3); // without the budget: 4 × requests
  }, 60_000);
});

describe("events", () => {
  it("retries, refusals and fallbacks are logged as structured events", async () => {
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const logger = {
      info: (message: string, fields: Record<string, unknown> = {}) =>
        void lines.push({ level: "info", message, fields }),
      warn: (message: string, fields: Record<string, unknown> = {}) =>
        void lines.push({ level: "warn", message, fields }),
    };
    const { rt, settle } = virtualRuntime();
    const primary = plan({ parameters: { fail_status: 503 }, retries: { maxRetries: 1 } });
    await env.UPSTREAM_GUARD.get(env.UPSTREAM_GUARD.idFromName(primary.config.agent)).forceOpen(primary.config, "test");
    await run([primary, plan({ agent: "agent-custom", task: "echo" })], { ...rt, logger });
    const failing = plan({ parameters: { fail_status: 503 }, retries: { maxRetries: 1 } });
    await run([failing], { ...rt, logger });
    await settle();
    expect(lines.find((l) => l.message === "upstream attempt refused")).toMatchObject({
      level: "warn",
      fields: { reason: "circuit_open", attempt: 1 },
    });
    expect(lines.find((l) => l.message === "trying a fallback")).toMatchObject({
      level: "warn",
      fields: { because: "CIRCUIT_OPEN" },
    });
    expect(lines.find((l) => l.message === "retrying upstream")).toMatchObject({
      level: "info",
      fields: { attempt: 2, after_status: 503 },
    });
  });
});

describe("breaker outcomes from real calls", () => {
  it("8. 4xx, cancellations and local rejections count as neither", async () => {
    const guard = {
      breaker: { failureThreshold: 5, openMs: 60_000, halfOpenProbes: 1 },
      rateLimit: { limit: 60, periodMs: 60_000, burst: 6 },
    };
    const base = plan({ guard });
    const withParams = (parameters: Record<string, unknown>, signal?: AbortSignal): AgentPlan => {
      const p = plan({ parameters, ...(signal ? { signal } : {}), retries: { maxRetries: 0 } });
      return {
        ...p,
        guard: base.guard,
        admitRequest: (attempt) => ({ ...p.admitRequest(attempt), config: base.config }),
      };
    };
    const { rt, settle } = virtualRuntime();
    const consecutive = async () => (
      await settle(),
      (await env.UPSTREAM_GUARD.get(env.UPSTREAM_GUARD.idFromName(base.config.agent)).snapshot(base.config)).breaker
    );
    for (let i = 0; i < 4; i++) await run([withParams({ fail_status: 500 })], rt);
    expect(await consecutive()).toMatchObject({ state: "closed", consecutiveFailures: 4 });
    await run([withParams({ fail_status: 404 })], rt); // agent 4xx
    const abort = new AbortController();
    abort.abort();
    const cancelled = await run([withParams({ delay_ms: 1000 }, abort.signal)], rt); // caller went away
    expect(cancelled.ok).toBe(false);
    const rejected = await run([withParams({})], rt); // 7th call: the rate limit (burst 6) refuses it
    expect(rejected.ok ? "" : rejected.error.code).toBe("RATE_LIMITED");
    expect(await consecutive()).toMatchObject({ state: "closed", consecutiveFailures: 4 });
  });
});

describe("fallbacks", () => {
  it("23. a fallback serves when the primary's retries are exhausted, and says so", async () => {
    const { rt, settle } = virtualRuntime();
    const primary = plan({ parameters: { fail_status: 503 } });
    const fallback = plan({ agent: "agent-custom", task: "echo", parameters: { hello: "from the fallback" } });
    const out = await run([primary, fallback], rt);
    await settle();
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.value.servedBy).toBe("agent-custom");
    expect(out.value.result).toEqual({ hello: "from the fallback" });
    expect(out.value.attempts.map((a) => [a.agent, a.status])).toEqual([
      ["agent-demo", 503],
      ["agent-demo", 503],
      ["agent-demo", 503],
      ["agent-demo", 503],
      ["agent-custom", 200],
    ]);
  });

  it("a 4xx from the primary is final: no fallback", async () => {
    const { rt, settle } = virtualRuntime();
    const out = await run(
      [plan({ parameters: { fail_status: 422 } }), plan({ agent: "agent-custom", task: "echo" })],
      rt,
    );
    await settle();
    expect(out.ok ? 0 : out.error.status).toBe(422);
  });
});

export type { AttemptResult };
