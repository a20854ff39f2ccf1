/**
 * `npm run sim:leases`: the admission-lease simulation (leases.ts) over the
 * grid of issue 15: one agent at 1,000, 10,000 and 50,000 requests/s spread
 * over 10, 200 and 2,000 isolates. Prints a Markdown table; `--docs` also
 * replaces it in docs/admission-leases.md. Settings: SIM_DURATION_MS
 * (default 12000 ms of simulated time per scenario, the first third a ramp), SIM_SEED.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { replaceDocBlock } from "../readme-block";
import { type SimOptions, simulate } from "./leases";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const durationMs = Number(process.env.SIM_DURATION_MS ?? 12000);
const seed = Number(process.env.SIM_SEED ?? 1);

/** The concurrency limit of the second table: 8 × the mean concurrency (load × 50 ms), at least 100. */
export const concurrencyLimit = (ratePerS: number) => Math.max(100, Math.round(ratePerS * 0.05 * 8));

/**
 * A scenario of the grid: the agent's rate limit scales with its load (1.25×, a burst of one second of it);
 * with `concurrency`, also a concurrency limit ({@link concurrencyLimit}).
 */
export function scenario(
  ratePerS: number,
  isolates: number,
  durationMs: number,
  seed: number,
  concurrency = false,
): SimOptions {
  const limit = Math.round(ratePerS * 1.25);
  return {
    ratePerS,
    isolates,
    durationMs,
    rateLimit: { perS: limit, burst: limit },
    ...(concurrency ? { maxConcurrent: concurrencyLimit(ratePerS) } : {}),
    keys: 20,
    serviceMs: 50,
    rttMs: [2, 60],
    guardMs: 1,
    ttlMs: 1000,
    failureRate: 0.001,
    shedMs: 1000,
    seed,
  };
}

const f1 = (n: number) => n.toFixed(1);
const f3 = (n: number) => n.toFixed(3);

/** The grid's table (Markdown). */
export function gridTable(
  rows: { rate: number; isolates: number; r: ReturnType<typeof simulate>; limit?: number }[],
): string {
  const out = [
    "| requests/s | isolates | guard calls/s | awaited/s | background/s | awaited per request | guard busy | shed/s | stale, open/s | mean admission wait ms | worst excess 100 ms | worst excess 1 s | peak concurrency |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const { rate, isolates, r, limit } of rows) {
    const [w100, w1000] = r.worstExcess;
    const peak = limit === undefined ? String(r.maxConcurrency) : `${r.maxConcurrency} / ${limit}`;
    out.push(
      `| ${rate.toLocaleString("en")} | ${isolates.toLocaleString("en")} | ${f1(r.callsPerS)} | ${f1(r.awaitedPerS)} | ${f1(r.backgroundPerS)} | ${f3(r.awaitedPerRequest)} | ${(r.guardUtilization * 100).toFixed(0)}% | ${f1(r.shedPerS)} | ${f1(r.stalePerS)}, ${f1(r.openPerS)} | ${f1(r.meanAdmitMs)} | ${f1(w100?.excess ?? 0)} | ${f1(w1000?.excess ?? 0)} | ${peak} |`,
    );
  }
  return out.join("\n");
}

async function main(): Promise<void> {
  const rows: { rate: number; isolates: number; r: ReturnType<typeof simulate> }[] = [];
  for (const rate of [1_000, 10_000, 50_000]) {
    for (const isolates of [10, 200, 2_000]) {
      const started = Date.now();
      const r = simulate(scenario(rate, isolates, durationMs, seed));
      rows.push({ rate, isolates, r });
      console.error(
        `sim: ${rate}/s over ${isolates} isolates: ${f1(r.callsPerS)} guard calls/s (${Date.now() - started} ms)`,
      );
    }
  }
  const limited: { rate: number; isolates: number; r: ReturnType<typeof simulate>; limit: number }[] = [];
  for (const [rate, isolates] of [
    [1_000, 10],
    [1_000, 200],
    [10_000, 200],
  ] as const) {
    limited.push({
      rate,
      isolates,
      r: simulate(scenario(rate, isolates, durationMs, seed, true)),
      limit: concurrencyLimit(rate),
    });
  }
  const table = [
    `Simulated ${durationMs / 1000} s per scenario (seed ${seed}), the first third a ramp from no load (rates are over the rest); a rate limit of 1.25 × the load with a burst of one second of it; 20 API keys; 50 ms agent latency; 2-60 ms round trips to the guard and 1 ms of its time per call (about 1,000 calls/s), which sheds calls once a second of work waits; 0.1% failures. "Worst excess" is the most the guard and the leases admitted in any window of 100 ms or 1 s beyond rate × window + burst (≤ 0: within the bound); admissions made while the guard shed calls are counted apart (stale: from the last lease; open: without the guard).`,
    "",
    gridTable(rows),
    "",
    "With a concurrency limit of 8 × the mean concurrency as well (permit blocks fragment across isolates):",
    "",
    gridTable(limited),
  ].join("\n");
  console.log(table);
  if (process.argv.includes("--docs")) {
    replaceDocBlock(path.join(root, "docs", "admission-leases.md"), "simulation", table);
    console.error("sim: docs/admission-leases.md updated");
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
