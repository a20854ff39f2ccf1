/**
 * The platform the soak runs against: the real bundles (built as a deploy
 * builds them, see scripts/bench/build.ts) in workerd through Miniflare,
 * with every Durable Object and D1 database persisted to SQLite files under
 * one state directory, as `wrangler dev` keeps them. `restart()` disposes
 * the runtime and starts a new one on the same files: nothing in memory
 * survives, so whatever the guard still knows afterwards was persisted.
 * agent-demo runs with chaos on and its LLM pointed at the OpenAI double;
 * traces go to a local OTLP receiver (tracing on, as by default).
 *
 * The request log travels through its queue, as deployed. Cloudflare's
 * Queues keep a sent message whatever happens to the Worker, but Miniflare's
 * broker keeps it in the memory of the runtime a restart disposes, so here
 * the queue delivers at once (no batch timeout) and `restart()` drains it
 * first ({@link drainRequestLog}): a row the gateway sent is never lost to a
 * restart of this stand-in platform.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Miniflare, type WorkerOptions } from "miniflare";
import type { RequestLogEntry } from "../../workers/gateway/src/request-log/message";
import { type OpenAiDouble, startOpenAiDouble } from "../../test/doubles/openai-server";
import { type OtlpReceiver, startOtlpReceiver } from "../../test/doubles/otlp-receiver";
import type { BenchBuild } from "../bench/build";
import { migrate, workerOptions } from "../bench/platform";
import { SOAK_WEBHOOK_SECRET } from "./runs";

/**
 * The soak gateway's bootstrap admin key and scrape token (local only, never deployed), at least 32
 * characters: the soak runs the bundles as deployed (ZAHARA_ENV=production), which refuses shorter ones.
 */
export const SOAK_ADMIN_KEY = "soak-admin-key-0123456789abcdef0123456789";
export const SOAK_SCRAPE_TOKEN = "soak-scrape-token-0123456789abcdef012345";

/** The managed key the load uses, with limits of its own so per-key state is exercised. */
export const SOAK_KEY_SETTINGS = {
  name: "soak",
  scopes: ["agent-demo:chaos", "agent-demo:summarize"],
  rate_limit: { requests_per_minute: 1_000_000, burst: 100_000 },
  daily_token_budget: 1_000_000_000,
} as const;

/** The gateway's request log, as Miniflare hands it to Node. */
export type D1Database = Awaited<ReturnType<Miniflare["getD1Database"]>>;

/** A running soak platform. */
export interface SoakPlatform {
  /** The gateway's direct URL now (a new port after each restart). */
  gatewayUrl(): URL;
  /** The managed key's secret and id. */
  callerKey: string;
  keyId: string;
  /** Sends an admin (or scrape-token, for `/metrics`) request to the gateway. */
  admin(pathname: string, init?: RequestInit): Promise<Response>;
  /** The gateway's request log. */
  requestLog(): Promise<D1Database>;
  /** Structured log lines (parsed JSON) seen since the last call. */
  takeLogs(): Record<string, unknown>[];
  /** Disposes the runtime and starts it again on the same state; resolves with the time it took. */
  restart(): Promise<number>;
  close(): Promise<void>;
}

function options(
  build: BenchBuild,
  stateDir: string,
  otlp: OtlpReceiver,
  llm: OpenAiDouble,
  onLine: (line: string) => void,
): ConstructorParameters<typeof Miniflare>[0] {
  const common = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_SAMPLER_ARG: "1", LOG_LEVEL: "info" };
  const perWorker: Record<string, Record<string, string>> = {
    gateway: {
      GATEWAY_API_KEYS: "",
      ADMIN_API_KEYS: SOAK_ADMIN_KEY,
      METRICS_SCRAPE_TOKEN: SOAK_SCRAPE_TOKEN,
      // Runs (scripts/soak/runs.ts): webhooks to the local receiver, and an interrupted run found within a second.
      WEBHOOK_SIGNING_SECRET: SOAK_WEBHOOK_SECRET,
      RUN_CALLBACK_ALLOW_LOOPBACK_HTTP: "true",
      RUN_HEARTBEAT_MS: "1000",
    },
    "agent-demo": { CHAOS_ENABLED: "true", LLM_BASE_URL: llm.url, LLM_API_KEY: llm.apiKey },
  };
  // Every other agent of the list: its LLM pointed at the double.
  const agent = { LLM_BASE_URL: llm.url, LLM_API_KEY: llm.apiKey };
  const workers: WorkerOptions[] = build.workers.map((w) => {
    const worker = workerOptions(build, w, { ...common, ...(perWorker[w.name] ?? agent) });
    if (w.name !== "gateway") return worker;
    const queueConsumers = deliverAtOnce(worker.queueConsumers);
    return { ...worker, queueConsumers, unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] };
  });
  const read = (stream: Readable) => createInterface({ input: stream }).on("line", onLine);
  return {
    workers,
    defaultPersistRoot: stateDir,
    durableObjectsPersist: true,
    d1Persist: true,
    host: "127.0.0.1",
    port: 0,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      read(stdout);
      read(stderr);
    },
  };
}

/**
 * The gateway's queue consumers (wrangler.toml's) with no batch timeout: a
 * batch goes as soon as the previous one is written, so under load batches
 * still fill, while a message waits in the broker's memory for milliseconds
 * rather than up to a second (a hard restart cuts whatever is there).
 */
function deliverAtOnce(consumers: WorkerOptions["queueConsumers"]): WorkerOptions["queueConsumers"] {
  if (!consumers || Array.isArray(consumers)) return consumers;
  const atOnce: Record<string, object> = {};
  for (const [queue, options] of Object.entries(consumers as Record<string, object>)) {
    atOnce[queue] = { ...options, maxBatchTimeout: 0 };
  }
  return atOnce as WorkerOptions["queueConsumers"];
}

/**
 * Waits until everything sent to the request-log queue so far is in D1: a
 * marker entry sent now is delivered after all of it (the broker delivers in
 * order), so once its row is there, so is every earlier one. The marker row
 * is then deleted; its request id never matches a soak prefix anyway. Gives
 * up with a warning after `timeoutMs` (the request-log check then shows what
 * was lost).
 */
export async function drainRequestLog(mf: Miniflare, timeoutMs = 10_000): Promise<void> {
  const queue = await mf.getQueueProducer<RequestLogEntry>("REQUEST_LOG_QUEUE", "zahara-gateway");
  const db = await mf.getD1Database("REQUEST_LOG", "zahara-gateway");
  const logId = crypto.randomUUID();
  const request: RequestLogEntry["request"] = {
    log_id: logId,
    request_id: `platform-queue-drain-${logId}`,
    ts: Date.now(),
    key_id: null,
    agent: null,
    served_by: null,
    task: null,
    method: "GET",
    path: "/platform/queue-drain",
    status: 200,
    code: null,
    duration_ms: 0,
    trace_id: null,
    protocol: null,
    tokens: null,
    ttfb_ms: null,
    bytes_out: null,
    pii_kinds: null,
  };
  const marker: RequestLogEntry = { request, attempts: [] };
  await queue.send(marker, { contentType: "json" });
  const until = Date.now() + timeoutMs;
  while (!(await db.prepare("SELECT 1 FROM requests WHERE log_id = ?").bind(logId).first())) {
    if (Date.now() > until) {
      console.warn(`soak: the request-log queue did not drain within ${timeoutMs} ms; restarting anyway`);
      return;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await db.prepare("DELETE FROM requests WHERE log_id = ?").bind(logId).run();
}

/** Starts the platform on a fresh `stateDir`: migrates D1 and creates the soak's managed key. */
export async function startSoakPlatform(root: string, build: BenchBuild, stateDir: string): Promise<SoakPlatform> {
  rmSync(stateDir, { recursive: true, force: true });
  const otlp = await startOtlpReceiver({ keepSpans: false });
  const llm = await startOpenAiDouble();
  const logs: Record<string, unknown>[] = [];
  const onLine = (line: string) => {
    if (!line.startsWith("{")) return;
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not one of our structured lines
    }
  };
  let mf = new Miniflare(options(build, stateDir, otlp, llm, onLine));
  let url = await mf.unsafeGetDirectURL("zahara-gateway");
  await migrate(mf, root, "REQUEST_LOG", "migrations/request-log");
  await migrate(mf, root, "ACCESS_DB", "migrations/access");

  const admin = (pathname: string, init: RequestInit = {}) => {
    const headers: Record<string, string> = pathname.startsWith("/metrics")
      ? { Authorization: `Bearer ${SOAK_SCRAPE_TOKEN}` }
      : { "X-API-Key": SOAK_ADMIN_KEY };
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(new URL(pathname, url), { ...init, headers });
  };
  const res = await admin("/v1/keys", { method: "POST", body: JSON.stringify(SOAK_KEY_SETTINGS) });
  if (res.status !== 201) throw new Error(`creating the soak key failed: ${res.status} ${await res.text()}`);
  const created = (await res.json()) as { secret: string; key: { id: string } };

  return {
    gatewayUrl: () => url,
    callerKey: created.secret,
    keyId: created.key.id,
    admin,
    requestLog: () => mf.getD1Database("REQUEST_LOG", "zahara-gateway"),
    takeLogs: () => logs.splice(0, logs.length),
    async restart() {
      // Before the runtime (and the queue in its memory) goes: what was sent reaches D1, as with Cloudflare's Queues.
      await drainRequestLog(mf);
      const started = performance.now();
      await mf.dispose();
      mf = new Miniflare(options(build, stateDir, otlp, llm, onLine));
      url = await mf.unsafeGetDirectURL("zahara-gateway");
      return performance.now() - started;
    },
    async close() {
      await mf.dispose();
      await Promise.all([otlp.close(), llm.close()]);
    },
  };
}

/** Where a run keeps its state: `<out>/state`. */
export function stateDirOf(out: string): string {
  return path.join(out, "state");
}
