/**
 * The guard failing: a hung or throwing admission fails open (the agent is
 * still called, without retries) within the admission timeout; a failing
 * report never touches the response. Faults are injected into the real
 * UpstreamGuard instance with runInDurableObject.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { UpstreamGuard } from "../../durable-objects/upstream-guard/src";
import { ADMIT_TIMEOUT_MS } from "../../workers/gateway/src/resilience/guard-client";
import { guardOf } from "./guards";
import { expectError, post } from "./helpers";

const guard = () => guardOf("agent-demo");

type Method = "admit" | "report";
const originals = new Map<Method, unknown>();

/** Replaces an RPC method of the live class (RPC dispatches through the prototype); undone after each test. */
async function inject(method: Method, impl: (...args: unknown[]) => Promise<unknown>) {
  await runInDurableObject(guard(), (instance: UpstreamGuard) => {
    const proto = Object.getPrototypeOf(instance) as Record<Method, unknown>;
    if (!originals.has(method)) originals.set(method, proto[method]);
    proto[method] = impl;
  });
}

afterEach(async () => {
  await runInDurableObject(guard(), (instance: UpstreamGuard) => {
    const proto = Object.getPrototypeOf(instance) as Record<Method, unknown>;
    for (const [method, original] of originals) proto[method] = original;
  });
  originals.clear();
});

describe("guard faults", () => {
  it("a hung admission fails open after the admission timeout: served, never hung", async () => {
    await inject("admit", () => new Promise(() => {}));
    const started = Date.now();
    const res = await post("/agents/agent-demo/execute", { task: "echo", parameters: { hi: 1 } });
    const took = Date.now() - started;
    expect(res.status, await res.clone().text()).toBe(200);
    expect(took).toBeGreaterThanOrEqual(ADMIT_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(ADMIT_TIMEOUT_MS + 1500);
  });

  it("a throwing admission (e.g. overloaded) fails open at once, with no retries", async () => {
    await inject("admit", async () => {
      throw Object.assign(new Error("Durable Object is overloaded"), { overloaded: true });
    });
    expect((await post("/agents/agent-demo/execute", { task: "echo", parameters: {} })).status).toBe(200);
    const failing = await post("/agents/agent-demo/execute", { task: "chaos", parameters: { fail_status: 503 } });
    const body = await expectError(failing, 502, "UPSTREAM_FAILED");
    const attempts = body.details?.attempts as { admission: string }[];
    expect(attempts.map((a) => a.admission)).toEqual(["guard_unavailable"]);
    expect(body.details?.retry_stopped_by).toBe("guard_unavailable");
  });

  it("a failing outcome report never fails the request", async () => {
    await inject("report", async () => {
      throw new Error("storage unavailable");
    });
    const res = await post("/agents/agent-demo/execute", { task: "echo", parameters: {} });
    expect(res.status).toBe(200);
  });
});
