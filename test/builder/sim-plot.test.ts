import { describe, expect, it } from "vitest";
import { DEFAULT_SCENARIO, parseScenario, type Scenario } from "../../dashboard/src/screens/builder/scenario";
import {
  type ResultLike,
  type RunRequest,
  type RunResponse,
  stateRuns,
  toPlot,
} from "../../dashboard/src/screens/builder/sim-plot";
import { runScenario } from "../../dashboard/src/screens/builder/sim-runtime/run";
import { manifestText, validManifest } from "./helpers";

const demo = () => validManifest(manifestText("agent-demo.ossa.yaml"));

function scenario(over: Partial<typeof DEFAULT_SCENARIO> = {}): Scenario {
  const parsed = parseScenario({ ...DEFAULT_SCENARIO, ...over });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.scenario;
}

describe("the simulator facade", () => {
  it("returns plot-ready series: one point per second, outcomes adding up to the requests sent", async () => {
    const plot = await runScenario(demo(), scenario());
    expect(plot.outcomes.map((s) => s.name)).toEqual(["ok", "failed", "rejected", "timed out"]);
    expect(plot.load.map((s) => s.name)).toEqual(["requests sent", "agent calls"]);
    for (const s of [...plot.outcomes, ...plot.load]) {
      expect(s.points.map((p) => p.t)).toEqual(Array.from({ length: 120 }, (_, i) => i));
      expect(s.points.every((p) => typeof p.v === "number" && p.v >= 0)).toBe(true);
      expect(s.color).toMatch(/^#[0-9a-f]{6}$/);
    }
    const sent = plot.load[0]?.points ?? [];
    for (let t = 0; t < 120; t++) {
      const outcome = plot.outcomes.reduce((n, s) => n + (s.points[t]?.v ?? 0), 0);
      expect(outcome, `second ${t}`).toBe(sent[t]?.v);
    }
    const t = plot.totals;
    expect(t.requests).toBe(960);
    expect(t.ok + t.failed + t.rejected + t.timedOut).toBe(t.requests);
    expect(t.successRate).toBeCloseTo(t.ok / t.requests, 10);
    expect(plot.breaker).toHaveLength(120);
  });

  it("an outage opens the breaker during it, and it closes again after", async () => {
    const plot = await runScenario(demo(), scenario({ errorRatePct: "0", seconds: "150" }));
    const runs = stateRuns(plot.breaker);
    expect(runs[0]).toMatchObject({ state: "closed", from: 0 });
    const open = runs.find((r) => r.state === "open");
    expect(open?.from).toBeGreaterThanOrEqual(30);
    expect(open?.from).toBeLessThan(45);
    expect(runs.at(-1)?.state).toBe("closed");
    expect(plot.totals.transitions[0]).toMatchObject({ from: "closed", to: "open" });
    expect(plot.totals.transitions[0]?.cause).toMatch(/5 consecutive failures/);
    expect(plot.totals.rejectedBy.map(([reason]) => reason)).toContain("circuit_open");
  });

  it("reports the settings the gateway resolved from the manifest", async () => {
    const plot = await runScenario(
      demo(),
      scenario({ rps: "1", seconds: "5", outage: false, errorRatePct: "0", tokenBudget: true }),
    );
    const settings = Object.fromEntries(plot.settings);
    expect(settings["Deadline per request"]).toBe("10000 ms");
    expect(settings.Breaker).toBe("opens after 5 consecutive failures, for 60000 ms; 1 half-open probe");
    expect(settings.Retries).toBe("up to 3, backoff 1000–16000 ms with jitter");
    expect(settings["Agent rate limit"]).toBe("600 per 60 s, burst 50");
    expect(settings["Per-key rate limit"]).toBe("300 per 60 s, burst 30");
    expect(settings["Tokens per day"]).toBe("200,000 (1,000 per call)");
    expect(plot.totals).toMatchObject({ requests: 5, ok: 5, successRate: 1, attemptsPerRequest: 1 });
  });

  it("counts the daily token budget only when asked", async () => {
    const without = await runScenario(demo(), scenario({ rps: "5", seconds: "60", outage: false, errorRatePct: "0" }));
    expect(without.totals.rejectedBy).toEqual([]);
    expect(Object.fromEntries(without.settings)["Tokens per day"]).toBe("not counted");
    const counted = await runScenario(
      demo(),
      scenario({ rps: "5", seconds: "60", outage: false, errorRatePct: "0", tokenBudget: true }),
    );
    // 200 000 tokens a day at 1 000 per call: 200 calls, then 429 TOKEN_BUDGET_EXCEEDED.
    expect(counted.totals.ok).toBe(200);
    expect(counted.totals.rejectedBy).toEqual([["token_budget", 100]]);
  });

  it("is deterministic for a seed", async () => {
    const a = await runScenario(demo(), scenario({ errorRatePct: "30" }));
    const b = await runScenario(demo(), scenario({ errorRatePct: "30" }));
    const c = await runScenario(demo(), scenario({ errorRatePct: "30", seed: "2" }));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it("the worker answers a run request, and a failure as a message", async () => {
    const posted: RunResponse[] = [];
    const scope = globalThis as unknown as {
      onmessage: ((e: { data: RunRequest }) => void) | null;
      postMessage: (m: RunResponse) => void;
    };
    scope.postMessage = (m) => posted.push(m);
    await import("../../dashboard/src/screens/builder/sim-runtime/worker");
    const answered = () =>
      new Promise<RunResponse>((resolve) => {
        const wait = () => (posted.length > 0 ? resolve(posted.shift() as RunResponse) : setTimeout(wait, 5));
        wait();
      });
    scope.onmessage?.({ data: { manifest: demo(), scenario: scenario({ rps: "2", seconds: "3", outage: false }) } });
    const ok = await answered();
    expect(ok.ok && ok.plot.totals.requests).toBe(6);
    scope.onmessage?.({
      data: {
        manifest: demo(),
        scenario: { ...scenario(), traffic: { requestsPerSecond: -1, durationSeconds: 1, keys: 1 } },
      },
    });
    const failed = await answered();
    expect(failed).toMatchObject({ ok: false });
    expect(!failed.ok && failed.message).toMatch(/requestsPerSecond/);
  });
});

describe("toPlot and stateRuns", () => {
  it("sums rejections per second and ranks the totals", () => {
    const zero = { circuit_open: 0, rate_limited: 0 };
    const result: ResultLike = {
      buckets: [
        {
          t: 0,
          sent: 3,
          ok: 1,
          failed: 1,
          rejected: { ...zero, rate_limited: 1 },
          timedOut: 0,
          attempts: 3,
          breakerState: "closed",
        },
        {
          t: 1,
          sent: 2,
          ok: 0,
          failed: 0,
          rejected: { circuit_open: 1, rate_limited: 1 },
          timedOut: 0,
          attempts: 0,
          breakerState: "open",
        },
      ],
      totals: {
        requests: 5,
        ok: 1,
        failed: 1,
        rejected: { circuit_open: 1, rate_limited: 2 },
        timedOut: 0,
        attempts: 3,
        attemptsPerRequest: 0.6,
        successRate: 0.2,
        retriesStoppedBy: { circuit_open: 1 },
        breakerTransitions: [{ from: "closed", to: "open", at: 900, cause: "5 consecutive failures" }],
        latencyMs: null,
        endedAtMs: 2000,
      },
    };
    const plot = toPlot(result);
    expect(plot.outcomes.find((s) => s.name === "rejected")?.points).toEqual([
      { t: 0, v: 1 },
      { t: 1, v: 2 },
    ]);
    expect(plot.totals.rejected).toBe(3);
    expect(plot.totals.rejectedBy).toEqual([
      ["rate_limited", 2],
      ["circuit_open", 1],
    ]);
    expect(plot.totals.transitions).toEqual([
      { atMs: 900, from: "closed", to: "open", cause: "5 consecutive failures" },
    ]);
    expect(stateRuns(plot.breaker)).toEqual([
      { state: "closed", from: 0, to: 0 },
      { state: "open", from: 1, to: 1 },
    ]);
    expect(stateRuns([])).toEqual([]);
  });
});
