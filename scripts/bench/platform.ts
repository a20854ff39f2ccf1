/**
 * The platform under test: the bundled gateway and every agent of the list
 * (agent-demo, agent-custom, …; see scripts/lib/workers.ts) in one workerd
 * through Miniflare, with their bindings read from their own
 * wrangler configs (Durable Objects and D1 persisted to SQLite files, as in
 * local dev), the gateway and agent-demo each on a direct socket (no dev
 * proxy, no Miniflare entry router in front), tracing to a local OTLP
 * receiver, and every log line kept for counting.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Miniflare, type WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";
import { type OtlpReceiver, startOtlpReceiver } from "../../test/doubles/otlp-receiver";
import type { WorkerEntry } from "../lib/workers.ts";
import type { BenchBuild } from "./build";

/**
 * Keys of the bench gateway (bootstrap admin key; the load uses a managed key created through the API), at
 * least 32 characters: the bench runs the bundles as deployed (ZAHARA_ENV=production).
 */
export const BENCH_ADMIN_KEY = "bench-admin-key-0123456789abcdef012345678";

/** A running platform. */
export interface BenchPlatform {
  /** `POST <gateway>/agents/agent-demo/execute` goes through everything. */
  gatewayUrl: URL;
  /** `POST <agent>/run` is agent-demo alone. */
  agentUrl: URL;
  /** A managed key (`zk_…`) allowed to call agent-demo's echo and summarize. */
  callerKey: string;
  otlp: OtlpReceiver;
  /** Structured log lines (parsed JSON) seen since the last {@link BenchPlatform.takeLogs}. */
  takeLogs(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** Miniflare options of one bundled Worker (named by its service): its wrangler config's bindings, `bindings` on top. */
export function workerOptions(build: BenchBuild, worker: WorkerEntry, bindings: Record<string, string>): WorkerOptions {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(build.tree, worker.config));
  return {
    ...(workerOptions as WorkerOptions),
    name: worker.service,
    modules: true,
    scriptPath: path.join(build.dist, worker.name, "index.js"),
    // Module names relative to the bundle's folder, not to the working directory (a tree elsewhere would name them "../…").
    modulesRoot: path.join(build.dist, worker.name),
    bindings: { ...(workerOptions.bindings as Record<string, string>), ...bindings },
  } as WorkerOptions;
}

/** Applies the `.sql` files of `dir` (sorted) to the gateway's D1 `binding`. */
export async function migrate(mf: Miniflare, root: string, binding: string, dir: string): Promise<void> {
  const db = await mf.getD1Database(binding, "zahara-gateway");
  for (const file of readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    for (const sql of unstable_splitSqlQuery(readFileSync(path.join(root, dir, file), "utf8")))
      await db.prepare(sql).run();
  }
}

/** Variations of the platform, for measuring what each part costs. */
export interface PlatformOptions {
  /** Opens workerd's inspector on this port (CPU profiles). */
  inspectorPort?: number;
  /** Vars set on every Worker (e.g. `LOG_LEVEL`, `OTEL_EXPORTER_OTLP_ENDPOINT: ""` for tracing off). */
  vars?: Record<string, string>;
  /** Gateway D1, Durable Object or queue bindings to leave out (e.g. `REQUEST_LOG`, `UPSTREAM_GUARD`, `REQUEST_LOG_QUEUE`). */
  withoutGatewayBindings?: string[];
  /** Durable Objects and D1 in SQLite files under the state directory (default), or in memory. */
  persist?: boolean;
  /** The agents' LLM: an OpenAI-compatible base URL and key (the streamed scenario's double). */
  llm?: { url: string; apiKey: string };
}

function without<T>(record: Record<string, T> | undefined, names: string[]): Record<string, T> | undefined {
  return record && Object.fromEntries(Object.entries(record).filter(([k]) => !names.includes(k)));
}

/** The Workers on a direct socket: the gateway and the agent the bench calls directly. */
const DIRECT = ["gateway", "agent-demo"];

/** Starts the platform with its state under `stateDir` (fresh each run). */
export async function startPlatform(
  root: string,
  build: BenchBuild,
  stateDir: string,
  options: PlatformOptions = {},
): Promise<BenchPlatform> {
  const { inspectorPort, vars = {}, withoutGatewayBindings = [], persist = true, llm } = options;
  const otlp = await startOtlpReceiver({ keepSpans: false });
  const logs: Record<string, unknown>[] = [];
  const readLines = (stream: Readable) =>
    createInterface({ input: stream }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not one of our structured lines
      }
    });
  // Tracing at the shipped sampling (wrangler.toml's OTEL_TRACES_SAMPLER_ARG) unless `vars` say otherwise.
  const common = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, LOG_LEVEL: "info" };
  const workers = build.workers.map((w) => {
    const extra: Record<string, string> =
      w.kind === "gateway"
        ? { GATEWAY_API_KEYS: "", ADMIN_API_KEYS: BENCH_ADMIN_KEY, METRICS_SCRAPE_TOKEN: "" }
        : llm
          ? { LLM_BACKEND: "openai", LLM_BASE_URL: llm.url, LLM_API_KEY: llm.apiKey }
          : {};
    const worker = workerOptions(build, w, { ...common, ...extra, ...vars });
    if (w.kind === "gateway" && withoutGatewayBindings.length > 0) {
      const d1 = without(worker.d1Databases as Record<string, unknown>, withoutGatewayBindings);
      const dos = without(worker.durableObjects as Record<string, unknown>, withoutGatewayBindings);
      const producers = without(worker.queueProducers as Record<string, unknown>, withoutGatewayBindings);
      Object.assign(worker, { d1Databases: d1, durableObjects: dos, queueProducers: producers });
    }
    return DIRECT.includes(w.name) ? { ...worker, unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } : worker;
  });
  const mf = new Miniflare({
    workers,
    defaultPersistRoot: stateDir,
    durableObjectsPersist: persist,
    d1Persist: persist,
    host: "127.0.0.1",
    port: 0,
    ...(inspectorPort ? { inspectorPort } : {}),
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      readLines(stdout);
      readLines(stderr);
    },
  });
  await mf.ready;
  if (!withoutGatewayBindings.includes("REQUEST_LOG")) await migrate(mf, root, "REQUEST_LOG", "migrations/request-log");
  await migrate(mf, root, "ACCESS_DB", "migrations/access");
  const gatewayUrl = await mf.unsafeGetDirectURL("zahara-gateway");
  const agentUrl = await mf.unsafeGetDirectURL("zahara-agent-demo");

  const res = await fetch(new URL("/v1/keys", gatewayUrl), {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": BENCH_ADMIN_KEY },
    body: JSON.stringify({ name: "bench", scopes: ["agent-demo:echo", "agent-demo:summarize"] }),
  });
  if (res.status !== 201) throw new Error(`creating the bench key failed: ${res.status} ${await res.text()}`);
  const { secret } = (await res.json()) as { secret: string };
  return {
    gatewayUrl,
    agentUrl,
    callerKey: secret,
    otlp,
    takeLogs: () => logs.splice(0, logs.length),
    async close() {
      await mf.dispose();
      await otlp.close();
    },
  };
}
