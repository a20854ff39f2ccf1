/**
 * The guard failing. With nothing to enforce from (a cold isolate), a hung or
 * throwing exchange fails open (the agent is still called, without retries)
 * within the admission timeout. With a lease, the isolate keeps enforcing
 * from it and from the breaker as last known for GUARD_STALE_GRACE_MS, and
 * only then fails open; both count in /metrics. A failing background
 * exchange never touches a response. Faults are injected into the real
 * UpstreamGuard instance with runInDurableObject.
 */
import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { UpstreamGuard } from "../../durable-objects/upstream-guard/src";
import worker from "../../workers/gateway/src/index";
import { ADMIT_TIMEOUT_MS } from "../../workers/gateway/src/resilience/guard-client";
import { configOf, guardOf } from "./guards";
import { BASE, KEY, expectError, pollUntil, post } from "./helpers";

const guard = () => guardOf("agent-demo");

type Method = "exchange";
const originals = new Map<Method, unknown>();

/** Replaces an RPC method of the live class (RPC dispatches through the prototype); undone after each test. */
async function inject(method: Method, impl: (...args: unknown[]) => Promise<unknown>) {
  await runInDurableObject(guard(), (instance: UpstreamGuard) => {
    const proto = Object.getPrototypeOf(instance) as Record<Method, unknown>;
    if (!originals.has(method)) originals.set(method, proto[method]);
    proto[method] = impl;
  });
}

/** Puts the real methods back. */
async function restore() {
  await runInDurableObject(guard(), (instance: UpstreamGuard) => {
    const proto = Object.getPrototypeOf(instance) as Record<Method, unknown>;
    for (const [method, original] of originals) proto[method] = original;
  });
  originals.clear();
}

afterEach(restore);

const overloaded = async () => {
  throw Object.assign(new Error("Durable Object is overloaded"), { overloaded: true });
};

/**
 * Calls the gateway with `vars` on top of the test env; waits for its background work too (which may hold a
 * timer until the lease goes idle), unless `settle` is false.
 */
async function call(
  task: string,
  parameters: Record<string, unknown>,
  vars: Record<string, string> = {},
  settle = true,
): Promise<Response> {
  const ctx = createExecutionContext();
  const req = new Request(`${BASE}/agents/agent-demo/execute`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": KEY },
    body: JSON.stringify({ task, parameters }),
  });
  const res = await worker.fetch(req, { ...env, ...vars } as Env, ctx);
  await res.clone().arrayBuffer();
  if (settle) await waitOnExecutionContext(ctx);
  return res;
}

describe("guard faults, nothing to enforce from", () => {
  it("a hung exchange fails open after the admission timeout: served, never hung", async () => {
    await inject("exchange", () => new Promise(() => {}));
    const started = Date.now();
    const res = await post("/agents/agent-demo/execute", { task: "echo", parameters: { hi: 1 } });
    const took = Date.now() - started;
    expect(res.status, await res.clone().text()).toBe(200);
    expect(took).toBeGreaterThanOrEqual(ADMIT_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(ADMIT_TIMEOUT_MS + 1500);
  });

  it("a throwing exchange (e.g. overloaded) fails open at once, with no retries", async () => {
    await inject("exchange", overloaded);
    expect((await post("/agents/agent-demo/execute", { task: "echo", parameters: {} })).status).toBe(200);
    const failing = await post("/agents/agent-demo/execute", { task: "chaos", parameters: { fail_status: 503 } });
    const body = await expectError(failing, 502, "UPSTREAM_FAILED");
    const attempts = body.details?.attempts as { admission: string }[];
    expect(attempts.map((a) => a.admission)).toEqual(["guard_unavailable"]);
    expect(body.details?.retry_stopped_by).toBe("guard_unavailable");
  });
});

describe("guard faults, with a lease", () => {
  /** Leases agent-demo's echo to this isolate: a few calls, then the lease admits on its own. */
  async function lease() {
    for (let i = 0; i < 4; i++) expect((await call("echo", { i })).status).toBe(200);
  }

  it("a guard that stops answering is enforced from the last lease within the grace, then fails open; /metrics counts both", async () => {
    await lease();
    await inject("exchange", overloaded);
    // Traffic goes on; past the lease's TTL (1 s), every admission needs the guard, which throws.
    const statuses: number[] = [];
    for (const started = Date.now(); Date.now() - started < 1500; await new Promise((r) => setTimeout(r, 100))) {
      statuses.push((await call("echo", { during: "grace" }, {}, false)).status);
    }
    // Served from the lease, or refused by it: at most the last grant's tokens per TTL, never without a limit.
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(statuses).toContain(200);
    const open = await call("echo", { during: "after grace" }, { GUARD_STALE_GRACE_MS: "1" });
    expect(open.status).toBe(200);
    // Once the guard answers again, the counts reach it.
    await restore();
    for (let i = 0; i < 3; i++) await call("echo", { after: i });
    const m = await pollUntil(
      () => guard().metrics(configOf("agent-demo")),
      (x) => (x.counters.bypass?.stale ?? 0) > 0 && (x.counters.bypass?.open ?? 0) > 0,
    );
    expect(m.counters.bypass).toMatchObject({ stale: expect.any(Number), open: expect.any(Number) });
    expect(m.counters.bypass!.stale).toBeGreaterThanOrEqual(1);
    expect(m.counters.bypass!.open).toBeGreaterThanOrEqual(1);
  });

  it("a breaker last known open keeps refusing while the guard cannot answer", async () => {
    await lease();
    for (let i = 0; i < 5; i++) await call("chaos", { fail_status: 501 });
    const snap = await pollUntil(
      () => guard().snapshot(configOf("agent-demo")),
      (s) => s.breaker.state === "open",
    );
    expect(snap.breaker.state).toBe("open");
    // One more exchange so this isolate hears that the breaker is open.
    await expectError(await call("chaos", {}), 503, "CIRCUIT_OPEN");
    await inject("exchange", overloaded);
    await expectError(await call("chaos", {}), 503, "CIRCUIT_OPEN");
  });

  it("a failing background exchange never fails a request", async () => {
    await lease();
    await inject("exchange", overloaded);
    // Admitted from the lease; its report's exchange throws in the background.
    expect((await call("echo", {})).status).toBe(200);
  });
});
