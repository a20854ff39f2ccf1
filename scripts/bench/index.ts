/**
 * `npm run bench`: what the gateway costs. Bundles the Workers as a deploy
 * does, runs them in workerd through Miniflare, and measures agent-demo's
 * `echo` called (a) directly, (b) through the gateway with everything on
 * (managed-key auth, guard admission from leases, tracing to a live OTLP
 * receiver at the shipped sampling, logs, the request log through its queue
 * into D1), (c) as (b) with the collector down and (d) hanging,
 * and (e) as (b) with an Idempotency-Key — each at concurrency 1 and 32,
 * side by side in one run; then (f) a streamed LLM answer, direct and through
 * the gateway (stream.ts: time to first token, and the gateway's memory while
 * it relays a long answer). Prints a Markdown
 * table and writes `dist/bench/result.json` and `dist/bench/result.md`;
 * `--docs` also replaces the table in docs/benchmark.md.
 *
 * Settings: BENCH_DURATION_S (default 12, per scenario and concurrency,
 * split into BENCH_ROUNDS interleaved rounds, default 3), BENCH_WARMUP_S
 * (default 3), BENCH_CONCURRENCY (default "1,32"), BENCH_STREAM_S (default 8).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { replaceDocBlock } from "../readme-block";
import { buildBench } from "./build";
import { type LoadRun, type LoadTarget, poolRuns, runLoad } from "./load";
import { BENCH_ADMIN_KEY, startPlatform } from "./platform";
import { measureStreamMemory, measureStreamTimes } from "./stream";
import { startOpenAiDouble } from "../../test/doubles/openai-server";
import {
  type BenchResult,
  type RoundTrips,
  SCENARIOS,
  type Scenario,
  countD1Batches,
  countRoundTrips,
  evaluateTargets,
  markdown,
} from "./report";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = path.join(root, "dist", "bench");
const durationS = Number(process.env.BENCH_DURATION_S ?? 12);
const warmupS = Number(process.env.BENCH_WARMUP_S ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const concurrency = (process.env.BENCH_CONCURRENCY ?? "1,32").split(",").map(Number);
const streamS = Number(process.env.BENCH_STREAM_S ?? 8);
/** workerd's inspector, for the gateway isolate's heap in the streamed scenario. */
const INSPECTOR_PORT = 9240;

async function setMode(controlUrl: string, mode: "ok" | "down" | "slow"): Promise<void> {
  const res = await fetch(`${controlUrl}/mode/${mode}`, { method: "PUT" });
  if (!res.ok) throw new Error(`collector mode ${mode}: ${res.status}`);
}

/** The hosted agent of scenario (g): echo only, no limits, uploaded through the gateway before the load. */
const HOSTED_AGENT = "bench-hosted";
const HOSTED_MANIFEST = `apiVersion: ossa/v0.3.1
kind: Agent
metadata:
  name: ${HOSTED_AGENT}
  version: 1.0.0
  description: The bench's hosted agent.
spec:
  role: You echo.
  llm: { provider: openai, model: gpt-4o-mini }
  tools:
    - { type: function, name: echo, description: Returns its parameters., input_schema: { type: object } }
`;

/** Uploads the hosted agent and returns a managed key that may call its echo (as the bench key may agent-demo's). */
async function deployHosted(gatewayUrl: URL): Promise<string> {
  const admin = { "X-API-Key": BENCH_ADMIN_KEY };
  const res = await fetch(new URL(`/v1/agents/${HOSTED_AGENT}`, gatewayUrl), {
    method: "PUT",
    headers: { "Content-Type": "application/yaml", ...admin },
    body: HOSTED_MANIFEST,
  });
  if (!res.ok) throw new Error(`bench: uploading the hosted agent: ${res.status} ${await res.text()}`);
  const key = await fetch(new URL("/v1/keys", gatewayUrl), {
    method: "POST",
    headers: { "Content-Type": "application/json", ...admin },
    body: JSON.stringify({ name: "bench-hosted", scopes: [`${HOSTED_AGENT}:echo`] }),
  });
  if (key.status !== 201) throw new Error(`bench: the hosted agent's key: ${key.status} ${await key.text()}`);
  return ((await key.json()) as { secret: string }).secret;
}

async function main(): Promise<void> {
  process.env.WRANGLER_SEND_METRICS = "false";
  console.error("bench: bundling the Workers (wrangler deploy --dry-run)…");
  const build = buildBench(root, path.join(out, "build"));
  console.error("bench: starting workerd…");
  // The agents' LLM for the streamed scenario: the OpenAI-compatible double, streaming.
  const llm = await startOpenAiDouble();
  const platform = await startPlatform(root, build, path.join(out, "build", "state"), {
    persist: process.env.BENCH_PERSIST !== "0",
    llm,
    inspectorPort: INSPECTOR_PORT,
  });
  const body = JSON.stringify({ task: "echo", parameters: { text: "hello" } });
  const json = { "Content-Type": "application/json" };
  const gateway: LoadTarget = {
    url: new URL("/agents/agent-demo/execute", platform.gatewayUrl).toString(),
    headers: { ...json, "X-API-Key": platform.callerKey },
    body,
  };
  const targets: Record<Scenario, LoadTarget> = {
    direct: { url: new URL("/run", platform.agentUrl).toString(), headers: json, body },
    gateway,
    collectorDown: gateway,
    collectorHung: gateway,
    withKey: { ...gateway, uniqueHeader: "Idempotency-Key" },
    hosted: {
      ...gateway,
      url: new URL(`/agents/${HOSTED_AGENT}/execute`, platform.gatewayUrl).toString(),
      headers: { ...json, "X-API-Key": await deployHosted(platform.gatewayUrl) },
    },
  };
  const mode: Record<Scenario, "ok" | "down" | "slow"> = {
    direct: "ok",
    gateway: "ok",
    collectorDown: "down",
    collectorHung: "slow",
    withKey: "ok",
    hosted: "ok",
  };
  const runs = {
    direct: {},
    gateway: {},
    collectorDown: {},
    collectorHung: {},
    withKey: {},
    hosted: {},
  } as BenchResult["runs"];
  const high = Math.max(...concurrency);
  const gatewayLines: Record<string, Record<string, unknown>[]> = {};
  const withKeyLines: Record<string, unknown>[] = [];
  try {
    for (const c of concurrency) {
      const done: Partial<Record<Scenario, LoadRun[]>> = {};
      for (let round = 1; round <= rounds; round++) {
        for (const scenario of Object.keys(SCENARIOS) as Scenario[]) {
          await setMode(platform.otlp.controlUrl, mode[scenario]);
          if (round === 1) await runLoad(targets[scenario], c, warmupS);
          platform.takeLogs();
          const run = await runLoad(targets[scenario], c, durationS / rounds);
          // Let the request log lines of the last requests arrive before taking them.
          await new Promise((r) => setTimeout(r, 500));
          const lines = platform.takeLogs();
          if (scenario === "gateway") (gatewayLines[String(c)] ??= []).push(...lines);
          if (scenario === "withKey" && c === high) withKeyLines.push(...lines);
          (done[scenario] ??= []).push(run);
          console.error(
            `bench: ${SCENARIOS[scenario]}, c=${c}, round ${round}/${rounds}: ${run.rps.toFixed(1)} req/s, p50 ${run.latencyMs.p50.toFixed(2)} ms`,
          );
        }
      }
      for (const scenario of Object.keys(SCENARIOS) as Scenario[])
        runs[scenario][String(c)] = poolRuns(done[scenario] ?? []);
      await setMode(platform.otlp.controlUrl, "ok");
    }
    console.error(`bench: streamed summarize, direct and through the gateway, ${streamS} s…`);
    const direct = { url: new URL("/run", platform.agentUrl).toString(), headers: {} };
    const through = { url: gateway.url, headers: { "X-API-Key": platform.callerKey } };
    await measureStreamTimes(direct, through, 1);
    const streamTimes = await measureStreamTimes(direct, through, streamS);
    const streamMemory = await measureStreamMemory(INSPECTOR_PORT, through);
    const roundTrips: Record<string, RoundTrips> = Object.fromEntries(
      concurrency.map((c) => [String(c), countRoundTrips(gatewayLines[String(c)] ?? [])]),
    );
    const spansExported = ((await (await fetch(`${platform.otlp.controlUrl}/stats`)).json()) as { spans: number })
      .spans;
    const cpus = os.cpus();
    const partial = {
      at: new Date().toISOString(),
      machine: {
        cpus: cpus.length,
        cpuModel: cpus[0]?.model.trim() ?? "unknown",
        node: process.versions.node,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      },
      settings: { durationS, warmupS, concurrency, rounds },
      runs,
      roundTrips,
      roundTripsWithKey: countRoundTrips(withKeyLines),
      d1: countD1Batches(gatewayLines[String(high)] ?? []),
      spansExported,
      gzipBytes: build.gzipBytes,
      stream: { times: streamTimes, memory: streamMemory },
    };
    const result: BenchResult = { ...partial, targets: evaluateTargets(partial, high) };
    const table = markdown(result);
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(path.join(out, "result.md"), `${table}\n`);
    console.log(table);
    if (process.argv.includes("--docs")) {
      replaceDocBlock(path.join(root, "docs", "benchmark.md"), "bench", table);
      console.error("bench: docs/benchmark.md updated");
    }
  } finally {
    await platform.close();
    await llm.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
