/** The bench's arithmetic: nearest-rank percentiles, round trips joined by request id, and the targets. */
import { describe, expect, it } from "vitest";
import { type LoadResult, type LoadRun, poolRuns, quantile } from "../../scripts/bench/load";
import {
  type BenchResult,
  countD1Batches,
  countRoundTrips,
  evaluateTargets,
  markdown,
} from "../../scripts/bench/report";

const done = (service: string, id: string, extra: Record<string, unknown> = {}) => ({
  message: "request completed",
  service,
  request_id: id,
  path: service === "gateway" ? "/agents/agent-demo/execute" : "/run",
  ...extra,
});

function load(rps: number, p50: number): LoadResult {
  return {
    connections: 1,
    durationS: 10,
    requests: rps * 10,
    rps,
    latencyMs: { p50, p95: p50, p99: p50, mean: p50 },
    statuses: { "2xx": rps * 10 },
    errors: 0,
  };
}

describe("bench report", () => {
  it("quantile is nearest rank over sorted values", () => {
    const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(quantile(sorted, 0.5)).toBe(5);
    expect(quantile(sorted, 0.95)).toBe(10);
    expect(quantile(sorted, 0.01)).toBe(1);
    expect(Number.isNaN(quantile(new Float64Array(), 0.5))).toBe(true);
  });

  it("pools interleaved rounds: requests/s over their total time, percentiles over all response times", () => {
    const run = (times: number[], durationS: number): LoadRun => ({
      ...load(times.length / durationS, 0),
      durationS,
      requests: times.length,
      times: Float64Array.from(times).sort(),
      statuses: { "2xx": times.length },
    });
    const pooled = poolRuns([run([1, 2, 3, 4], 2), run([10, 20, 30, 40, 50, 60], 2)]);
    expect(pooled.requests).toBe(10);
    expect(pooled.rps).toBe(2.5);
    expect(pooled.latencyMs.p50).toBe(10);
    expect(pooled.latencyMs.p99).toBe(60);
    expect(pooled.statuses).toEqual({ "2xx": 10 });
    expect(pooled).not.toHaveProperty("times");
  });

  it("joins gateway and agent lines by request id and averages over the gateway's requests", () => {
    const lines = [
      done("gateway", "a", { do_calls: 1, do_calls_background: 2 }),
      done("agent-demo", "a", { do_calls: 2 }),
      done("gateway", "b", { do_calls: 1, do_calls_background: 2 }),
      done("agent-demo", "b"),
      { message: "retrying upstream", service: "gateway", request_id: "b", do_calls: 9 },
      done("gateway", "c", { path: "/v1/keys", do_calls: 5 }),
    ];
    expect(countRoundTrips(lines)).toEqual({ requests: 2, awaited: 2, background: 2 });
  });

  it("counts the request log's D1 batches per row written", () => {
    const batch = (rows: number) => ({ message: "request log batch written", service: "gateway", rows });
    expect(countD1Batches([batch(100), batch(60), done("gateway", "a"), batch(40)])).toEqual({
      batches: 3,
      rows: 200,
      perRequest: 0.015,
    });
    expect(countD1Batches([]).perRequest).toBeNaN();
  });

  it("evaluates each target against its threshold", () => {
    const runs = {
      direct: { "1": load(500, 1.0), "32": load(1000, 30) },
      gateway: { "1": load(400, 1.8), "32": load(750, 40) },
      collectorDown: { "1": load(400, 1.8), "32": load(700, 40) },
      collectorHung: { "1": load(400, 1.8), "32": load(740, 40) },
      withKey: { "1": load(300, 3), "32": load(500, 60) },
      hosted: { "1": load(380, 1.9), "32": load(700, 42) },
    };
    const partial = {
      at: "t",
      machine: { cpus: 2, cpuModel: "x", node: "20", memoryGiB: 24 },
      settings: { durationS: 10, warmupS: 3, concurrency: [1, 32], rounds: 1 },
      runs,
      roundTrips: {
        "1": { requests: 10, awaited: 1, background: 2 },
        "32": { requests: 10, awaited: 0.04, background: 0.2 },
      },
      roundTripsWithKey: { requests: 10, awaited: 3, background: 2 },
      d1: { batches: 1, rows: 100, perRequest: 0.01 },
      spansExported: 0,
      gzipBytes: { gateway: 150_001 },
      stream: {
        times: {
          requests: 50,
          failures: 0,
          direct: { ttfbP50: 4, ttfbP95: 6, totalP50: 9 },
          gateway: { ttfbP50: 5.2, ttfbP95: 7, totalP50: 10 },
        },
        memory: {
          answerBytes: 2 * 2 ** 20,
          baselineBytes: 1_000_000,
          samples: [{ readBytes: 300_000, heapBytes: 1_100_000 }],
          growthBytes: 100_000,
        },
      },
    } satisfies Omit<BenchResult, "targets">;
    const targets = evaluateTargets(partial, 32);
    // 1000/750 − 1000/1000 = 0.33 ms of the gateway's own per request; c/b 93.3%, d/b 98.7%.
    // Streamed: 1.2 ms added to the first token (over), 98 KiB of heap growth (flat).
    expect(targets.map((t) => t.met)).toEqual([true, false, true, true, true, true, false, true, false, false, true]);
    expect(targets[9]!.value).toBe("1.20 ms");
    expect(targets[0]!.value).toBe("0.040");
    expect(targets[3]!.value).toBe("0.80 ms");
    expect(targets[4]!.value).toBe("0.33 ms");
    expect(targets[6]!.value).toBe("93.3%");
    expect(markdown({ ...partial, targets })).toContain("| gateway bundle, gzip | 150.0 KB | ≤ 150 KB | **no** |");
  });
});
