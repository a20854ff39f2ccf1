/**
 * `npm run bench:breakdown`: what each part of the gateway path costs. Runs
 * the gateway (concurrency 1 and 32) with everything on, then with one part
 * turned off at a time — tracing, info logs, the request log's queue, the
 * request log, the upstream guard, Durable Object and D1 persistence — and
 * with every trace exported (ratio 1, not the shipped 0.1); prints requests/s
 * and p50 for each next to the direct call. Writes `dist/bench/breakdown.md`.
 *
 * Settings: BENCH_DURATION_S (default 5), BENCH_WARMUP_S (default 2).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildBench } from "./build";
import { type LoadResult, runLoad } from "./load";
import { type PlatformOptions, startPlatform } from "./platform";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = path.join(root, "dist", "bench");
const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
const warmupS = Number(process.env.BENCH_WARMUP_S ?? 2);

const VARIANTS: { name: string; options: PlatformOptions }[] = [
  { name: "everything on", options: {} },
  { name: "tracing off", options: { vars: { OTEL_EXPORTER_OTLP_ENDPOINT: "" } } },
  // "Everything on" traces as shipped (ratio 0.1, failed and slow traces whole); this exports every trace.
  { name: "tracing every trace (ratio 1)", options: { vars: { OTEL_TRACES_SAMPLER_ARG: "1" } } },
  { name: "logs at error level", options: { vars: { LOG_LEVEL: "error" } } },
  { name: "request log written directly (no queue)", options: { withoutGatewayBindings: ["REQUEST_LOG_QUEUE"] } },
  { name: "no request log", options: { withoutGatewayBindings: ["REQUEST_LOG", "REQUEST_LOG_QUEUE"] } },
  { name: "no upstream guard (fails open)", options: { withoutGatewayBindings: ["UPSTREAM_GUARD"] } },
  { name: "state in memory (no SQLite files)", options: { persist: false } },
];

async function main(): Promise<void> {
  process.env.WRANGLER_SEND_METRICS = "false";
  const build = buildBench(root, path.join(out, "build"));
  const body = JSON.stringify({ task: "echo", parameters: { text: "hello" } });
  const json = { "Content-Type": "application/json" };
  const rows: { name: string; c1: LoadResult; c32: LoadResult }[] = [];
  for (const [i, v] of VARIANTS.entries()) {
    const state = path.join(out, "build", `state-${i}`);
    rmSync(state, { recursive: true, force: true });
    const platform = await startPlatform(root, build, state, v.options);
    try {
      const gateway = {
        url: new URL("/agents/agent-demo/execute", platform.gatewayUrl).toString(),
        headers: { ...json, "X-API-Key": platform.callerKey },
        body,
      };
      const direct = { url: new URL("/run", platform.agentUrl).toString(), headers: json, body };
      if (i === 0) {
        await runLoad(direct, 32, warmupS);
        rows.push({
          name: "direct (reference)",
          c1: await runLoad(direct, 1, durationS),
          c32: await runLoad(direct, 32, durationS),
        });
      }
      await runLoad(gateway, 32, warmupS);
      const row = {
        name: `gateway, ${v.name}`,
        c1: await runLoad(gateway, 1, durationS),
        c32: await runLoad(gateway, 32, durationS),
      };
      rows.push(row);
      console.error(
        `breakdown: ${row.name}: c=1 p50 ${row.c1.latencyMs.p50.toFixed(2)} ms, c=32 ${row.c32.rps.toFixed(1)} req/s`,
      );
    } finally {
      await platform.close();
    }
  }
  const lines = ["| Variant | c=1 p50 ms | c=1 req/s | c=32 req/s | c=32 p50 ms |", "|---|---:|---:|---:|---:|"];
  for (const r of rows)
    lines.push(
      `| ${r.name} | ${r.c1.latencyMs.p50.toFixed(2)} | ${r.c1.rps.toFixed(1)} | ${r.c32.rps.toFixed(1)} | ${r.c32.latencyMs.p50.toFixed(2)} |`,
    );
  const table = lines.join("\n");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "breakdown.md"), `${table}\n`);
  console.log(table);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
