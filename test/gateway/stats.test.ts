/**
 * GET /v1/stats: admin-only JSON for the dashboard, read from each agent's
 * UpstreamGuard after real traffic: requests, rate, error rate and estimated
 * percentiles over 1, 5 and 60 minutes, breaker state and transitions.
 * Time moves with the guard's injected clock, not with sleeps.
 */
import { runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { UpstreamGuard } from "../../durable-objects/upstream-guard/src";
import type { GuardStats } from "../../durable-objects/upstream-guard/src/types";
import { configOf, forceOpen, guardOf } from "./guards";
import { ADMIN_KEY, BASE, KEY, expectError, pollUntil, post } from "./helpers";

const stats = (headers: Record<string, string> = { "X-API-Key": ADMIN_KEY }) =>
  SELF.fetch(`${BASE}/v1/stats`, { headers });

interface StatsBody {
  agents: Record<
    string,
    {
      breaker: { state: string; transitions: { from: string; to: string; at: string; cause: string }[] };
      windows: GuardStats["windows"];
    }
  >;
  unavailable?: string[];
  generated_at: string;
}

/** Polls agent-demo's guard until `n` requests are in its 60-minute window (records land after the response). */
async function untilRecorded(n: number) {
  const s = await pollUntil(
    async () => (await guardOf("agent-demo").stats(configOf("agent-demo"))) as GuardStats,
    (v) => v.windows["60m"].requests >= n,
    150,
  );
  expect(s.windows["60m"].requests).toBe(n);
}

async function setClock(offsetMs: number) {
  await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
    instance.clock = () => Date.now() + offsetMs;
  });
}

afterEach(() => setClock(0));

describe("GET /v1/stats", () => {
  it("admin only: 401 without a key, 403 with the scrape token (metrics scope only) or a caller key", async () => {
    await expectError(await stats({}), 401, "UNAUTHORIZED");
    await expectError(await stats({ Authorization: "Bearer test-scrape-token" }), 403, "FORBIDDEN");
    await expectError(await stats({ "X-API-Key": KEY }), 403, "FORBIDDEN");
    expect((await stats()).status).toBe(200);
  });

  it("windows of 1, 5 and 60 minutes with rate, error rate and percentiles; breaker and transitions", async () => {
    const t0 = Date.now();
    for (let i = 0; i < 3; i++)
      expect((await post("/agents/agent-demo/execute", { task: "echo", parameters: { i } })).status).toBe(200);
    expect((await post("/agents/agent-demo/execute", { task: "chaos", parameters: { delay_ms: 300 } })).status).toBe(
      200,
    );
    await expectError(
      await post("/agents/agent-demo/execute", { task: "chaos", parameters: { fail_status: 501 } }),
      502,
      "UPSTREAM_FAILED",
    );
    await untilRecorded(5);
    await forceOpen("agent-demo", "test: stats");

    const res = await stats();
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = (await res.json()) as StatsBody;
    expect(Object.keys(body.agents).sort()).toEqual(["agent-custom", "agent-demo"]);
    expect(body.unavailable).toBeUndefined();
    expect(Date.parse(body.generated_at)).toBeGreaterThanOrEqual(t0);
    const demo = body.agents["agent-demo"]!;
    expect(demo.breaker.state).toBe("isolated");
    expect(demo.breaker.transitions).toEqual([
      {
        from: "closed",
        to: "isolated",
        at: expect.stringMatching(/^\d{4}-/),
        cause: expect.stringMatching(/^forced open by key_[0-9a-f]+: test: stats$/),
      },
    ]);
    // All five requests are in the current minute (or the one before it, if the minute turned meanwhile).
    for (const w of ["5m", "60m"] as const) {
      const win = demo.windows[w];
      expect(win.requests).toBe(5);
      expect(win.error_rate).toBe(0.2);
      expect(win.rate_per_s).toBeGreaterThan(0);
      expect(win.p50_ms).toBeGreaterThanOrEqual(0);
      // The slowest request took >= 300 ms (delay_ms), so p99 lies in (250, max].
      expect(win.p99_ms).toBeGreaterThan(250);
      expect(win.p95_ms).toBeLessThanOrEqual(win.p99_ms!);
      expect(win.p50_ms).toBeLessThanOrEqual(win.p95_ms!);
    }
    expect(demo.windows["1m"].requests).toBeLessThanOrEqual(5);
    const custom = body.agents["agent-custom"]!;
    expect(custom.breaker.state).toBe("closed");
    expect(custom.windows["60m"]).toEqual({
      requests: 0,
      rate_per_s: 0,
      error_rate: null,
      p50_ms: null,
      p95_ms: null,
      p99_ms: null,
    });
  });

  it("requests leave the 1- and 5-minute windows as time passes, and the 60-minute one after an hour", async () => {
    expect((await post("/agents/agent-demo/execute", { task: "echo", parameters: {} })).status).toBe(200);
    await untilRecorded(1);
    const windowsAt = async (offsetMs: number) => {
      await setClock(offsetMs);
      return ((await (await stats()).json()) as StatsBody).agents["agent-demo"]!.windows;
    };
    const later = await windowsAt(6 * 60_000);
    expect([later["1m"].requests, later["5m"].requests, later["60m"].requests]).toEqual([0, 0, 1]);
    expect(later["1m"].p50_ms).toBeNull();
    expect((await windowsAt(61 * 60_000))["60m"].requests).toBe(0);
  });

  it("an agent whose guard fails is listed as unavailable, not a 500", async () => {
    const originals: { stats?: unknown } = {};
    await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
      const proto = Object.getPrototypeOf(instance) as { stats: (...args: unknown[]) => unknown };
      const original = proto.stats;
      originals.stats = original;
      proto.stats = function (this: UpstreamGuard, ...args: unknown[]) {
        if ((args[0] as { agent: string }).agent === "agent-custom") throw new Error("storage unavailable");
        return original.apply(this, args);
      };
    });
    try {
      const res = await stats();
      expect(res.status).toBe(200);
      const body = (await res.json()) as StatsBody;
      expect(body.unavailable).toEqual(["agent-custom"]);
      expect(Object.keys(body.agents)).toEqual(["agent-demo"]);
    } finally {
      await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
        (Object.getPrototypeOf(instance) as { stats: unknown }).stats = originals.stats;
      });
    }
  });
});
