/**
 * `npm run bench:tracing`: what tracing costs, side by side in one run.
 * Starts one platform per variant, all at once, and interleaves their runs
 * round by round (so drift on a noisy machine hits every variant alike):
 *
 * - tracing off (`OTEL_EXPORTER_OTLP_ENDPOINT` empty);
 * - as it was: the tracing wiring of the last commit (HEAD's
 *   `workers/shared/observability`, the otel-cf-workers library) at ratio 1;
 * - ratio 1, everything exported, with the current wiring;
 * - ratio 0: every span recorded, only failed or slow traces exported (what
 *   recording everything costs on its own);
 * - the shipped default (the ratio and slow threshold in the wrangler configs).
 *
 * For each: agent-demo's `echo` called directly and through the gateway, at
 * concurrency 1 and 32; requests/s and p50 are medians over the rounds, and
 * spans exported per request are counted at each platform's own collector.
 * Writes `dist/bench/tracing.md`.
 *
 * Settings: BENCH_DURATION_S (per run, default 4), BENCH_ROUNDS (default 5),
 * BENCH_WARMUP_S (default 2), BENCH_TRACING_VARIANTS (comma-separated names
 * to run a subset: off, before, ratio1, ratio0, default).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildBench } from "./build";
import { type LoadTarget, runLoad } from "./load";
import { type BenchPlatform, startPlatform } from "./platform";
import { buildBefore, shippedTracingVars } from "./tracing-variants";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = path.join(root, "dist", "bench");
const durationS = Number(process.env.BENCH_DURATION_S ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const warmupS = Number(process.env.BENCH_WARMUP_S ?? 2);

interface Variant {
  key: string;
  name: string;
  vars: Record<string, string>;
  /** Bundles with HEAD's tracing wiring instead of the working tree's. */
  before?: boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function exportedSpans(platform: BenchPlatform): Promise<number> {
  return ((await (await fetch(`${platform.otlp.controlUrl}/stats`)).json()) as { spans: number }).spans;
}

interface Cell {
  rps: number[];
  p50: number[];
  spans: number;
  requests: number;
}

async function main(): Promise<void> {
  process.env.WRANGLER_SEND_METRICS = "false";
  const shipped = shippedTracingVars(root);
  const ratio = (r: string) => ({ ...shipped, OTEL_TRACES_SAMPLER_ARG: r });
  const all: Variant[] = [
    { key: "off", name: "(i) tracing off", vars: { OTEL_EXPORTER_OTLP_ENDPOINT: "" } },
    { key: "before", name: "(ii) as it was (HEAD's wiring, ratio 1)", vars: ratio("1"), before: true },
    { key: "ratio1", name: "ratio 1, everything exported (new wiring)", vars: ratio("1") },
    { key: "ratio0", name: "ratio 0: all recorded, only failed/slow exported", vars: ratio("0") },
    {
      key: "default",
      name: `(iii) shipped default (ratio ${shipped.OTEL_TRACES_SAMPLER_ARG}, slow ${shipped.OTEL_TRACES_SLOW_MS} ms)`,
      vars: shipped,
    },
  ];
  const wanted = process.env.BENCH_TRACING_VARIANTS?.split(",");
  const variants = wanted ? all.filter((v) => wanted.includes(v.key)) : all;
  console.error("bench:tracing: bundling the Workers…");
  const build = buildBench(root, path.join(out, "build"), { skipShippedSizes: true });
  const before = variants.some((v) => v.before) ? buildBefore(root, build, path.join(out, "build-before")) : undefined;
  const platforms: BenchPlatform[] = [];
  try {
    for (const [i, v] of variants.entries()) {
      const state = path.join(out, "build", `tracing-state-${i}`);
      rmSync(state, { recursive: true, force: true });
      platforms.push(await startPlatform(root, v.before && before ? before : build, state, { vars: v.vars }));
    }
    const body = JSON.stringify({ task: "echo", parameters: { text: "hello" } });
    const json = { "Content-Type": "application/json" };
    const targetsOf = (p: BenchPlatform): Record<string, LoadTarget> => ({
      direct: { url: new URL("/run", p.agentUrl).toString(), headers: json, body },
      gateway: {
        url: new URL("/agents/agent-demo/execute", p.gatewayUrl).toString(),
        headers: { ...json, "X-API-Key": p.callerKey },
        body,
      },
    });
    const cells = new Map<string, Cell>();
    for (let round = 1; round <= rounds; round++) {
      for (const target of ["direct", "gateway"]) {
        for (const c of [1, 32]) {
          for (const [i, v] of variants.entries()) {
            const platform = platforms[i] as BenchPlatform;
            const t = targetsOf(platform)[target] as LoadTarget;
            if (round === 1) await runLoad(t, c, warmupS);
            await new Promise((r) => setTimeout(r, 300)); // let the last exports land before counting
            const spansBefore = await exportedSpans(platform);
            const run = await runLoad(t, c, durationS);
            await new Promise((r) => setTimeout(r, 500));
            const key = `${v.key}|${target}|${c}`;
            const cell = cells.get(key) ?? { rps: [], p50: [], spans: 0, requests: 0 };
            cell.rps.push(run.rps);
            cell.p50.push(run.latencyMs.p50);
            cell.spans += (await exportedSpans(platform)) - spansBefore;
            cell.requests += run.requests;
            cells.set(key, cell);
            platform.takeLogs();
            const speed = `${run.rps.toFixed(1)} req/s, p50 ${run.latencyMs.p50.toFixed(2)} ms`;
            console.error(`bench:tracing: round ${round}/${rounds}, ${target}, c=${c}, ${v.key}: ${speed}`);
          }
        }
      }
    }
    const lines = [
      `${rounds} rounds of ${durationS} s per variant, target and concurrency, interleaved; medians over rounds;` +
        " spans counted at each platform's collector.",
      "",
      "| Variant | Target | c=1 req/s | c=1 p50 ms | c=32 req/s | c=32 p50 ms | spans exported / request |",
      "|---|---|---:|---:|---:|---:|---:|",
    ];
    for (const v of variants) {
      for (const target of ["direct", "gateway"]) {
        const c1 = cells.get(`${v.key}|${target}|1`) as Cell;
        const c32 = cells.get(`${v.key}|${target}|32`) as Cell;
        const spans = (c1.spans + c32.spans) / Math.max(1, c1.requests + c32.requests);
        const where = target === "direct" ? "agent-demo direct" : "gateway → agent-demo";
        const cells1 = `${median(c1.rps).toFixed(1)} | ${median(c1.p50).toFixed(2)}`;
        const cells32 = `${median(c32.rps).toFixed(1)} | ${median(c32.p50).toFixed(2)}`;
        lines.push(`| ${v.name} | ${where} | ${cells1} | ${cells32} | ${spans.toFixed(2)} |`);
      }
    }
    const table = lines.join("\n");
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "tracing.md"), `${table}\n`);
    console.log(table);
  } finally {
    for (const p of platforms) await p.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
