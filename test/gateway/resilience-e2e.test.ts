/**
 * The upstream guard end to end: HTTP requests to the gateway, the real agent
 * Workers behind service bindings, and the real UpstreamGuard per agent.
 * Time jumps (open_ms, refill intervals) move the guard's clock with
 * runInDurableObject instead of sleeping.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { UpstreamGuard } from "../../durable-objects/upstream-guard/src";
import { configOf, forceOpen, guardOf } from "./guards";
import { HASHED_KEY, expectError, pollUntil, post } from "./helpers";

/** Moves `agent`'s guard clock `offsetMs` ahead of real time. */
async function shiftClock(agent: string, offsetMs: number) {
  await runInDurableObject(guardOf(agent), (instance: UpstreamGuard) => {
    instance.clock = () => Date.now() + offsetMs;
  });
}

/** Stops `agent`'s guard clock at `at`. */
async function freezeClock(agent: string, at: number) {
  await runInDurableObject(guardOf(agent), (instance: UpstreamGuard) => {
    instance.clock = () => at;
  });
}

/**
 * Outcomes are reported after the response (waitUntil), so polls the guard
 * (up to 2 s) until its breaker is in `state`; returns the last snapshot.
 */
async function untilBreaker(agent: string, state: string) {
  return pollUntil(
    () => guardOf(agent).snapshot(configOf(agent)),
    (snap) => snap.breaker.state === state,
  );
}

interface Success {
  agent: string;
  served_by: string;
  result: unknown;
}

describe("upstream guard through the gateway", () => {
  it("e2e: chaos fail_status 500 opens agent-demo's breaker while agent-custom keeps serving; it recovers after open_ms", async () => {
    const failing = { task: "chaos", parameters: { fail_status: 500 } };
    const statuses: number[] = [];
    // First request: 1 + 3 attempts with backoff, then 502.
    const started = Date.now();
    const first = await post("/agents/agent-demo/execute", failing);
    const firstBody = await expectError(first, 502, "UPSTREAM_FAILED");
    // 1 + 3 attempts, unless a jittered sleep (< 1, 2, 4 s) would have passed the 5 s deadline.
    const attempts = firstBody.details?.attempts as { attempt: number; status: number; backoff_ms: number }[];
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    attempts.forEach((a, i) => {
      expect(a.status).toBe(500);
      expect(a.backoff_ms).toBeLessThan(i === 0 ? 1 : 1000 * 2 ** (i - 1));
    });
    if (attempts.length < 4) expect(firstBody.details?.retry_stopped_by).toBe("deadline");
    expect(Date.now() - started).toBeLessThan(5000 + 250);
    statuses.push(first.status);
    await new Promise((r) => setTimeout(r, 50)); // let the reports sent after the response land
    let open: Response | undefined;
    for (let i = 0; i < 5 && !open; i++) {
      const res = await post("/agents/agent-demo/execute", failing);
      statuses.push(res.status);
      if (res.status === 503) open = res;
      else await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(open, `statuses ${statuses.join(",")}`).toBeDefined();
    const body = await expectError(open!, 503, "CIRCUIT_OPEN");
    expect(Number(open!.headers.get("Retry-After"))).toBeGreaterThan(50);
    expect(Number(open!.headers.get("Retry-After"))).toBeLessThanOrEqual(60);
    expect(body.details).toMatchObject({ agent: "agent-demo", reason: "circuit_open" });
    // agent-custom is untouched.
    const custom = await post("/agents/agent-custom/execute", { task: "echo", parameters: { still: "serving" } });
    expect(custom.status).toBe(200);
    expect(((await custom.json()) as Success).served_by).toBe("agent-custom");
    // After open_ms the next call is the half-open probe; its success closes the breaker.
    await shiftClock("agent-demo", 60_001);
    const probe = await post("/agents/agent-demo/execute", { task: "chaos", parameters: {} });
    expect(probe.status).toBe(200);
    const snap = await untilBreaker("agent-demo", "closed");
    expect(snap.breaker.state).toBe("closed");
    expect(snap.transitions.map((t) => `${t.from}->${t.to}`)).toEqual([
      "closed->open",
      "open->half_open",
      "half_open->closed",
    ]);
  }, 30_000);

  it("3. open: the agent is not called; 503 with Retry-After = time left", async () => {
    await forceOpen("agent-demo", "test");
    await guardOf("agent-demo").forceClose(configOf("agent-demo"), "test");
    const t0 = Date.now();
    await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
      instance.clock = () => t0;
    });
    // Five failing attempts (no retries for 501) open it at t0.
    for (let i = 0; i < 5; i++)
      await (
        await post("/agents/agent-demo/execute", { task: "chaos", parameters: { fail_status: 501 } })
      ).arrayBuffer();
    expect((await untilBreaker("agent-demo", "open")).breaker.state).toBe("open");
    await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
      instance.clock = () => t0 + 15_500;
    });
    const started = Date.now();
    // Were the agent called, this would take 3 s.
    const res = await post("/agents/agent-demo/execute", { task: "chaos", parameters: { delay_ms: 3000 } });
    expect(Date.now() - started).toBeLessThan(1500);
    await expectError(res, 503, "CIRCUIT_OPEN");
    expect(res.headers.get("Retry-After")).toBe("45");
  });

  it("23. a fallback serves while the primary is open, and says which agent served", async () => {
    await forceOpen("agent-demo", "test: primary down");
    const res = await post("/agents/agent-demo/execute", { task: "echo", parameters: { via: "fallback" } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Success;
    expect(body).toMatchObject({ agent: "agent-demo", served_by: "agent-custom", result: { via: "fallback" } });
    // A task the fallback does not offer gets the primary's refusal.
    await expectError(await post("/agents/agent-demo/execute", { task: "chaos", parameters: {} }), 503, "CIRCUIT_OPEN");
  });

  it("17/18. L+k simultaneous → exactly L admitted, the rest 429 with Retry-After and RateLimit headers; one more after the refill interval", async () => {
    // agent-demo: 300/min per key, burst 30 (the per-agent limit is 600/min, burst 50). Time stands still meanwhile.
    const t0 = Date.now();
    await freezeClock("agent-demo", t0);
    const responses = await Promise.all(
      Array.from({ length: 36 }, () => post("/agents/agent-demo/execute", { task: "echo", parameters: {} })),
    );
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(30);
    expect(limited).toHaveLength(6);
    const res = limited[0]!;
    expect(res.headers.get("RateLimit-Policy")).toBe('"per-key";q=300;w=60');
    expect(res.headers.get("RateLimit")).toMatch(/^"per-key";r=0;t=\d+$/);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    const body = await expectError(res, 429, "RATE_LIMITED");
    expect(body.details).toMatchObject({ agent: "agent-demo", scope: "key" });
    expect(ok[0]!.headers.get("RateLimit-Policy")).toMatch(/^"per-(key|agent)";q=\d+;w=60$/);
    await Promise.all([...ok, ...limited.slice(1)].map((r) => r.arrayBuffer()));
    // Another key still has its own 30, but only 20 remain of the agent's burst of 50.
    const other = await Promise.all(
      Array.from({ length: 25 }, () =>
        post("/agents/agent-demo/execute", { task: "echo", parameters: {} }, { "X-API-Key": HASHED_KEY }),
      ),
    );
    expect(other.filter((r) => r.status === 200)).toHaveLength(20);
    const agentLimited = other.find((r) => r.status === 429)!;
    expect(agentLimited.headers.get("RateLimit-Policy")).toBe('"per-agent";q=600;w=60');
    await Promise.all(other.map((r) => r.arrayBuffer()));
    // One per-key interval (200 ms) later, exactly one more passes for the first key.
    await freezeClock("agent-demo", t0 + 200);
    const again = await Promise.all(
      Array.from({ length: 3 }, () => post("/agents/agent-demo/execute", { task: "echo", parameters: {} })),
    );
    const bodies = await Promise.all(again.map((r) => r.text()));
    expect(again.map((r) => r.status).sort(), bodies.join("\n")).toEqual([200, 429, 429]);
  });
});
