/**
 * The attacks of issue 21 (an adversarial probe against `npm run dev`), each
 * replayed end to end against the real gateway, guards and agents, and each
 * one that succeeded before its fix: a caller opening an agent's breaker for
 * everyone, a chosen `X-Request-Id` bypassing limits or rewriting the request
 * log, one key taking an agent's whole capacity, and what a scoped key learns
 * from error details. SECURITY.md cites these tests by title.
 */
import { SELF, createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { KeyView } from "../../workers/gateway/src/auth/key-store";
import worker from "../../workers/gateway/src/index";
import { configOf, guardOf } from "./guards";
import { ADMIN_KEY, BASE, KEY, admin, expectError, pollUntil, post } from "./helpers";

async function createKey(body: Record<string, unknown>): Promise<string> {
  const res = await admin("POST", "/v1/keys", { name: "attacker", ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { key: KeyView; secret: string }).secret;
}

const run = (
  key: string,
  task: string,
  parameters: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) => post("/agents/agent-demo/execute", { task, parameters }, { "X-API-Key": key, ...headers });

/**
 * A key's own rate limit nearly as wide as agent-demo's (600/min, burst 50): a burst of calls reaches the key's
 * concurrency cap (40), and the agent's cell keeps a few tokens for other keys.
 */
const WIDE_RATE = { requests_per_minute: 600, burst: 45 };

type Breaker = { state: string; consecutiveFailures: number };
/** agent-demo's breaker once `done` holds (outcome reports land just after the answers), or as it is after 2 s. */
const breaker = (done: (b: Breaker) => boolean = () => true) =>
  pollUntil(async () => (await guardOf("agent-demo").snapshot(configOf("agent-demo"))).breaker as Breaker, done);

describe("the breaker counts only evidence the agent is responsible for", () => {
  it("an echo-only key cannot open the breaker with short X-Timeout-Ms", async () => {
    const attacker = await createKey({ scopes: ["agent-demo:echo"] });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await run(attacker, "echo", { i }, { "X-Timeout-Ms": String(1 + (i % 3)) })).status);
    expect(statuses.every((s) => s === 504 || s === 200)).toBe(true);
    expect(statuses).toContain(504);
    expect(await breaker()).toMatchObject({ state: "closed", consecutiveFailures: 0 });
    expect((await run(KEY, "echo", { victim: true })).status).toBe(200);
  });

  it("output an LLM's input drove off its schema is neither retried nor counted against the agent", async () => {
    const res = await run(KEY, "summarize", { text: "__wrong_shape__" });
    await expectError(res, 502, "LLM_BAD_OUTPUT", "agent-demo");
    // One attempt: the agent's own error, relayed as it sent it.
    expect(res.headers.get("X-Zahara-Fault")).toBeNull();
    expect(await breaker()).toMatchObject({ state: "closed", consecutiveFailures: 0 });
  });

  it("one caller's failures alone cannot open the breaker while other callers use the agent", async () => {
    const attacker = await createKey({ scopes: ["agent-demo:*"] });
    expect((await run(KEY, "echo")).status).toBe(200); // another principal uses the agent
    // 501 is a 5xx the agent answers (a failure) that is not retried: one failure per request.
    for (let i = 0; i < 7; i++)
      await expectError(await run(attacker, "chaos", { fail_status: 501 }), 502, "UPSTREAM_FAILED");
    expect(await breaker((b) => b.consecutiveFailures === 7)).toMatchObject({
      state: "closed",
      consecutiveFailures: 7,
    });
    expect((await run(KEY, "echo")).status).toBe(200);
    // Failures from a second principal make a quorum: the agent really is failing, and the breaker opens.
    for (let i = 0; i < 5; i++) await run(attacker, "chaos", { fail_status: 501 });
    await run(KEY, "chaos", { fail_status: 501 });
    expect((await breaker((b) => b.state === "open")).state).toBe("open");
  });

  it("the only caller of a failing agent still opens its breaker (nobody else to protect)", async () => {
    for (let i = 0; i < 5; i++) await run(KEY, "chaos", { fail_status: 501 });
    expect((await breaker((b) => b.state === "open")).state).toBe("open");
    await expectError(await run(KEY, "chaos"), 503, "CIRCUIT_OPEN");
  });
});

describe("a chosen X-Request-Id is never a key of shared state", () => {
  it("65 calls in flight under one X-Request-Id are held to the limits: at most the key's share of permits", async () => {
    const headers = { "X-Request-Id": "shared-id" };
    const key = await createKey({ scopes: ["agent-demo:*"], rate_limit: WIDE_RATE });
    const answers = await Promise.all(Array.from({ length: 65 }, () => run(key, "chaos", { delay_ms: 3000 }, headers)));
    const ok = answers.filter((r) => r.status === 200).length;
    // agent-demo allows 50 in flight, a key 40 of them; the rest are refused by the key's limits.
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(configOf("agent-demo").keyMaxConcurrent!);
    // The rest are refused: by the key's cap, or by a rate limit (65 at once is past agent-demo's burst of 50).
    for (const r of answers.filter((a) => a.status !== 200))
      await expectError(r, r.status, r.status === 429 ? "RATE_LIMITED" : "CONCURRENCY_LIMIT");
    // Permits come back as the calls end, and a lease's block when the isolate gives it back (a TTL after its last use).
    const after = await pollUntil(
      () => guardOf("agent-demo").snapshot(configOf("agent-demo")),
      (g) => g.inFlight === 0,
      200,
    );
    expect(after.inFlight).toBe(0);
  });

  it("a key with a 3,000-token budget gets 3 calls of 1,000 estimated tokens, not 6, under one X-Request-Id", async () => {
    const key = await createKey({ scopes: ["agent-demo:summarize"], daily_token_budget: 3000 });
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        run(key, "summarize", { text: "__slow__ budget" }, { "X-Request-Id": "budget-id" }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
  });

  it("an unauthenticated request under a victim's X-Request-Id leaves the victim's row and attempts as they were", async () => {
    const victim = await run(KEY, "echo", { mine: true }, { "X-Request-Id": "victim-id" });
    expect(victim.status).toBe(200);
    await SELF.fetch(`${BASE}/v1/keys`, { headers: { "X-Request-Id": "victim-id" } }); // 401
    await SELF.fetch(`${BASE}/nowhere`, { headers: { "X-Request-Id": "victim-id" } }); // 404
    const page = await pollUntil(
      async () =>
        (await (await admin("GET", "/v1/requests/victim-id")).json()) as {
          requests: { status: number; key_id: string | null; attempts: number }[];
        },
      (p) => (p.requests?.length ?? 0) >= 3,
    );
    const rows = page.requests.map((r) => [r.status, r.key_id === null ? null : "caller", r.attempts]);
    expect(rows.sort()).toEqual(
      [
        [200, "caller", 1],
        [401, null, 0],
        [404, null, 0],
      ].sort(),
    );
  });
});

describe("fair share: one key cannot take a whole agent's capacity", () => {
  it("while one key holds its share of agent-demo's permits, another key is still served", async () => {
    const flood = await createKey({ scopes: ["agent-demo:*"], rate_limit: WIDE_RATE });
    // More than agent-demo's 50 permits: before fair shares, this flood held every one of them.
    const slow = Array.from({ length: 55 }, () => run(flood, "chaos", { delay_ms: 3000 }));
    await new Promise((r) => setTimeout(r, 400));
    expect((await run(KEY, "echo", { other: true })).status).toBe(200);
    const answers = await Promise.all(slow);
    expect(answers.filter((r) => r.status === 200).length).toBeLessThanOrEqual(
      configOf("agent-demo").keyMaxConcurrent!,
    );
  });
});

describe("fair share defaults", () => {
  it("an agent with limits but no per-key settings gives each key half of them", async () => {
    const { MANIFESTS } = await import("../../workers/generated");
    const { resolveResilience } = await import("../../workers/gateway/src/resilience/config");
    const demo = MANIFESTS.find((m) => m.metadata.name === "agent-demo")!;
    const bare = structuredClone(demo);
    delete bare.extensions.zahara.resilience?.rate_limit_per_key;
    delete bare.extensions.zahara.resilience?.key_max_concurrent;
    const guard = resolveResilience(bare, 5000).guard;
    expect(guard.keyRateLimit).toEqual({ limit: 300, periodMs: 60_000, burst: 25 });
    expect(guard.keyMaxConcurrent).toBe(25);
  });
});

describe("error details name only what the caller may call", () => {
  it("TASK_NOT_FOUND, AGENT_NOT_FOUND and AMBIGUOUS_TASK list nothing outside an echo-only key's scope", async () => {
    const scoped = await createKey({ scopes: ["agent-demo:echo"] });
    const task = await expectError(
      await post("/execute", { task: "nope" }, { "X-API-Key": scoped }),
      404,
      "TASK_NOT_FOUND",
    );
    expect(task.details).toEqual({ available: ["echo"] });
    const named = await expectError(
      await post("/agents/agent-demo/execute", { task: "nope" }, { "X-API-Key": scoped }),
      404,
      "TASK_NOT_FOUND",
    );
    expect(named.details).toEqual({ agent: "agent-demo", available: ["echo"] });
    const agent = await expectError(
      await post("/agents/agent-nope/execute", { task: "echo" }, { "X-API-Key": scoped }),
      404,
      "AGENT_NOT_FOUND",
    );
    expect(agent.details).toEqual({ available: ["agent-demo"] });
    // echo is offered by both agents: the scoped key is routed to the only one it may call.
    const routed = await post("/execute", { task: "echo", parameters: {} }, { "X-API-Key": scoped });
    expect(await routed.json()).toMatchObject({ agent: "agent-demo" });
  });
});

describe("answers are never cached", () => {
  it("every gateway answer, the one carrying a new secret included, says Cache-Control: no-store", async () => {
    const created = await admin("POST", "/v1/keys", { name: "cache", scopes: ["agent-demo:echo"] });
    expect(created.status).toBe(201);
    expect(created.headers.get("Cache-Control")).toBe("no-store");
    for (const res of [
      await run(KEY, "echo"),
      await SELF.fetch(`${BASE}/v1/keys`),
      await SELF.fetch(`${BASE}/health`),
    ]) {
      expect(res.headers.get("Cache-Control")).toBe("no-store");
    }
  });
});

describe("local development", () => {
  const call = (url: string, vars: Record<string, string>, headers: Record<string, string> = {}) =>
    worker.fetch(new Request(url, { headers }), { ...env, ...vars } as Env, createExecutionContext());

  it("answers only loopback host names, so a page cannot drive it through DNS rebinding", async () => {
    const dev = { ZAHARA_ENV: "development", DEV_ALLOWED_HOSTS: "" };
    await expectError(await call("http://evil.example:8000/health", dev), 403, "FORBIDDEN");
    expect((await call("http://localhost:8000/health", dev)).status).toBe(200);
    expect((await call("http://127.0.0.1:8000/health", dev)).status).toBe(200);
    expect((await call("http://evil.example:8000/health", { ZAHARA_ENV: "production" })).status).toBe(200);
  });

  it("bootstrap keys shorter than 32 characters are refused outside local development, and /health says so", async () => {
    const prod = { ZAHARA_ENV: "production" };
    await expectError(await call(`${BASE}/agents`, prod, { "X-API-Key": KEY }), 401, "UNAUTHORIZED");
    await expectError(await call(`${BASE}/v1/keys`, prod, { "X-API-Key": ADMIN_KEY }), 401, "UNAUTHORIZED");
    const health = (await (await call(`${BASE}/health`, prod)).json()) as { status: string; problems?: string[] };
    expect(health.status).toBe("degraded");
    expect(health.problems?.join(" ")).toMatch(/GATEWAY_API_KEYS: 1 key shorter than 32 characters is refused/);
    expect(JSON.stringify(health)).not.toContain(KEY);
    const long = "a-bootstrap-key-of-forty-characters-0000";
    expect((await call(`${BASE}/agents`, { ...prod, GATEWAY_API_KEYS: long }, { "X-API-Key": long })).status).toBe(200);
    expect((await call(`${BASE}/agents`, { ZAHARA_ENV: "development" }, { "X-API-Key": KEY })).status).toBe(200);
  });

  it("a client-chosen CF-Connecting-IP is not honoured: every local client is one address", async () => {
    const { clientAddress } = await import("../../workers/gateway/src/auth/throttle");
    const headers = new Headers({ "CF-Connecting-IP": "198.51.100.1" });
    expect(clientAddress(headers, { ZAHARA_ENV: "development" })).toBe("local");
    expect(clientAddress(headers, { ZAHARA_ENV: "production" })).toBe("198.51.100.1");
  });
});

describe("the failed-authentication throttle blocks guessing", () => {
  it("an address another isolate counted over the limit is refused with a right key this isolate never verified", async () => {
    const ip = "198.51.100.77";
    const limit = { limit: Number(env.AUTH_FAILURE_LIMIT), windowMs: 60_000 };
    const throttle = env.AUTH_THROTTLE.get(env.AUTH_THROTTLE.idFromName(ip));
    for (let i = 0; i <= limit.limit; i++) await throttle.recordFailure(limit);
    const fresh = await createKey({ scopes: ["*"] });
    await expectError(await run(fresh, "echo", {}, { "CF-Connecting-IP": ip }), 429, "TOO_MANY_AUTH_FAILURES");
    expect((await run(fresh, "echo", {}, { "CF-Connecting-IP": "198.51.100.78" })).status).toBe(200);
  });
});
