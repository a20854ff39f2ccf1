/**
 * The bench's numbers: Durable Object round trips and D1 batches counted from
 * the log lines, the ratios and targets (issue 15's), and the Markdown table.
 */
import type { LoadResult } from "./load";
import type { StreamMemory, StreamTimes } from "./stream";

/** The scenarios, in the order they run and print. */
export const SCENARIOS = {
  direct: "(a) agent-demo echo, direct",
  gateway: "(b) through the gateway, everything on",
  collectorDown: "(c) as (b), collector down (connection refused)",
  collectorHung: "(d) as (b), collector hanging (accepts, never answers)",
  withKey: "(e) as (b), with a fresh Idempotency-Key per request",
  hosted: "(g) as (b), to a hosted agent's echo (uploaded at runtime)",
} as const;

/** Scenario key. */
export type Scenario = keyof typeof SCENARIOS;

/** Durable Object round trips per gateway request, from its log line and its agent's. */
export interface RoundTrips {
  /** The scenario the requests came from. */
  scenario?: string;
  requests: number;
  /** Awaited before the answer (the hot path), per request. */
  awaited: number;
  /** In `waitUntil` after the answer, per request. */
  background: number;
}

type Line = Record<string, unknown>;
const num = (v: unknown) => (typeof v === "number" ? v : 0);

/**
 * Joins the gateway's and agent-demo's "request completed" lines by request
 * id and averages their Durable Object calls over the gateway's requests.
 */
export function countRoundTrips(lines: Line[]): RoundTrips {
  const done = lines.filter((l) => l.message === "request completed");
  const agent = new Map<string, Line>();
  for (const l of done) if (l.service === "agent-demo" && typeof l.request_id === "string") agent.set(l.request_id, l);
  let requests = 0;
  let awaited = 0;
  let background = 0;
  for (const l of done) {
    if (l.service !== "gateway" || l.path !== "/agents/agent-demo/execute") continue;
    requests++;
    const a = agent.get(l.request_id as string);
    awaited += num(l.do_calls) + num(a?.do_calls);
    background += num(l.do_calls_background) + num(a?.do_calls_background);
  }
  return { requests, awaited: awaited / Math.max(1, requests), background: background / Math.max(1, requests) };
}

/** D1 batches the request log took, per row written through its queue. */
export interface D1Batches {
  batches: number;
  rows: number;
  perRequest: number;
}

/**
 * Counts the request-log consumer's "request log batch written" lines: one D1
 * batch each, carrying `rows` rows (one per answered gateway request).
 */
export function countD1Batches(lines: Line[]): D1Batches {
  let batches = 0;
  let rows = 0;
  for (const l of lines) {
    if (l.message !== "request log batch written") continue;
    batches++;
    rows += num(l.rows);
  }
  return { batches, rows, perRequest: rows > 0 ? batches / rows : Number.NaN };
}

/** Everything one bench run measured. */
export interface BenchResult {
  at: string;
  machine: { cpus: number; cpuModel: string; node: string; memoryGiB: number };
  settings: { durationS: number; warmupS: number; concurrency: number[]; rounds: number };
  runs: Record<Scenario, Record<string, LoadResult>>;
  /** Durable Object round trips of (b), by concurrency. */
  roundTrips: Record<string, RoundTrips>;
  /** The same count for (e), requests with an Idempotency-Key, at the highest concurrency. */
  roundTripsWithKey: RoundTrips;
  /** D1 batches per request of (b) at the highest concurrency. */
  d1: D1Batches;
  spansExported: number;
  gzipBytes: Record<string, number>;
  /** The streamed scenario (stream.ts). */
  stream: { times: StreamTimes; memory: StreamMemory };
  targets: { name: string; value: string; target: string; met: boolean }[];
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const f3 = (n: number) => n.toFixed(3);
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;

/** The gateway's own cost per request at `c`: 1/rps(b) − 1/rps(a), in ms. */
export function addedCostMs(r: Pick<BenchResult, "runs">, c: number): number {
  return 1000 / r.runs.gateway[String(c)]!.rps - 1000 / r.runs.direct[String(c)]!.rps;
}

/** The targets (issue 15's, and the bundle size), evaluated on this run. */
export function evaluateTargets(r: Omit<BenchResult, "targets">, high: number): BenchResult["targets"] {
  const a1 = r.runs.direct["1"]!;
  const b1 = r.runs.gateway["1"]!;
  const aH = r.runs.direct[String(high)]!;
  const bH = r.runs.gateway[String(high)]!;
  const cH = r.runs.collectorDown[String(high)]!;
  const dH = r.runs.collectorHung[String(high)]!;
  const trips = r.roundTrips[String(high)] ?? { requests: 0, awaited: Number.NaN, background: Number.NaN };
  const added = b1.latencyMs.p50 - a1.latencyMs.p50;
  const cost = addedCostMs(r, high);
  const gw = r.gzipBytes.gateway ?? Number.NaN;
  const ttfbAdded = r.stream.times.gateway.ttfbP50 - r.stream.times.direct.ttfbP50;
  const growth = r.stream.memory.growthBytes;
  return [
    {
      name: `awaited Durable Object round trips per request, c=${high}`,
      value: f3(trips.awaited),
      target: "≤ 0.05",
      met: trips.awaited <= 0.05,
    },
    {
      name: `background guard calls per request, c=${high}`,
      value: f3(trips.background),
      target: "≤ 0.1",
      met: trips.background <= 0.1,
    },
    {
      name: `D1 batches per request, c=${high}`,
      value: f3(r.d1.perRequest),
      target: "≤ 0.05",
      met: r.d1.perRequest <= 0.05,
    },
    { name: "added p50 latency at concurrency 1", value: `${f2(added)} ms`, target: "≤ 1 ms", met: added <= 1 },
    {
      name: `gateway's added cost per request, c=${high} (1/rps b − 1/rps a)`,
      value: `${f2(cost)} ms`,
      target: "≤ 1 ms",
      met: cost <= 1,
    },
    {
      name: `gateway throughput vs direct (b/a), c=${high}`,
      value: pct(bH.rps / aH.rps),
      target: "≥ 50%",
      met: bH.rps / aH.rps >= 0.5,
    },
    {
      name: `collector down vs up (c/b), c=${high}`,
      value: pct(cH.rps / bH.rps),
      target: "≥ 95%",
      met: cH.rps / bH.rps >= 0.95,
    },
    {
      name: `collector hanging vs up (d/b), c=${high}`,
      value: pct(dH.rps / bH.rps),
      target: "≥ 95%",
      met: dH.rps / bH.rps >= 0.95,
    },
    { name: "gateway bundle, gzip", value: `${(gw / 1000).toFixed(1)} KB`, target: "≤ 150 KB", met: gw <= 150_000 },
    {
      name: "streamed: time to first token added by the gateway, p50, c=1",
      value: `${f2(ttfbAdded)} ms`,
      target: "≤ 1 ms",
      met: ttfbAdded <= 1,
    },
    {
      name: `streamed: gateway live heap growth relaying a ${(r.stream.memory.answerBytes / 2 ** 20).toFixed(1)} MiB answer`,
      value: `${(growth / 1024).toFixed(0)} KiB`,
      target: "≤ 512 KiB (flat)",
      met: growth <= 512 * 1024,
    },
  ];
}

/** The Markdown report. */
export function markdown(r: BenchResult): string {
  const out: string[] = [];
  out.push(
    `Run ${r.at} on ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ${r.settings.durationS} s per scenario and concurrency in ${r.settings.rounds} interleaved rounds, after ${r.settings.warmupS} s of warm-up; workerd through Miniflare, load from autocannon on the same machine.`,
    "",
  );
  out.push(
    "| Scenario | Concurrency | Requests/s | p50 ms | p95 ms | p99 ms | Non-2xx | Errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const c of r.settings.concurrency) {
    for (const [key, label] of Object.entries(SCENARIOS) as [Scenario, string][]) {
      const l = r.runs[key][String(c)];
      if (!l) continue;
      const non2xx = Object.entries(l.statuses)
        .filter(([k]) => k !== "2xx")
        .reduce((s, [, n]) => s + n, 0);
      out.push(
        `| ${label} | ${c} | ${f1(l.rps)} | ${f2(l.latencyMs.p50)} | ${f2(l.latencyMs.p95)} | ${f2(l.latencyMs.p99)} | ${non2xx} | ${l.errors} |`,
      );
    }
  }
  out.push(
    "",
    "| Ratio | " + r.settings.concurrency.map((c) => `c=${c}`).join(" | ") + " |",
    "|---|" + r.settings.concurrency.map(() => "---:").join("|") + "|",
  );
  const ratio = (x: Scenario, y: Scenario) =>
    r.settings.concurrency.map((c) => pct(r.runs[x][String(c)]!.rps / r.runs[y][String(c)]!.rps)).join(" | ");
  out.push(`| throughput b/a (gateway / direct) | ${ratio("gateway", "direct")} |`);
  out.push(`| throughput c/b (collector down / up) | ${ratio("collectorDown", "gateway")} |`);
  out.push(`| throughput d/b (collector hanging / up) | ${ratio("collectorHung", "gateway")} |`);
  out.push(`| throughput g/b (hosted agent / compiled-in) | ${ratio("hosted", "gateway")} |`);
  const added = r.settings.concurrency
    .map((c) => `${f2(r.runs.gateway[String(c)]!.latencyMs.p50 - r.runs.direct[String(c)]!.latencyMs.p50)} ms`)
    .join(" | ");
  out.push(`| added p50 latency (b − a) | ${added} |`);
  out.push(
    `| added cost per request (1/rps b − 1/rps a) | ${r.settings.concurrency.map((c) => `${f2(addedCostMs(r, c))} ms`).join(" | ")} |`,
  );
  const trips = (c: number) => r.roundTrips[String(c)] ?? { requests: 0, awaited: Number.NaN, background: Number.NaN };
  out.push(
    `| Durable Object calls per request of (b), awaited | ${r.settings.concurrency.map((c) => f3(trips(c).awaited)).join(" | ")} |`,
  );
  out.push(
    `| Durable Object calls per request of (b), background | ${r.settings.concurrency.map((c) => f3(trips(c).background)).join(" | ")} |`,
  );
  out.push(
    "",
    `Round trips are counted from the gateway's and agent-demo's request log lines (${r.settings.concurrency.map((c) => `${trips(c).requests} requests at c=${c}`).join(", ")}). With an Idempotency-Key (e, ${r.roundTripsWithKey.requests} requests): ${f3(r.roundTripsWithKey.awaited)} awaited, ${f3(r.roundTripsWithKey.background)} in the background (the idempotency record's calls). D1: ${r.d1.batches} batches wrote ${r.d1.rows} request-log rows of (b). Spans exported: ${r.spansExported}.`,
  );
  const st = r.stream.times;
  out.push(
    "",
    `Streamed (f): agent-demo summarize from the streaming OpenAI double, one request at a time, direct and through the gateway interleaved (${st.requests} each, ${st.failures} not streamed):`,
    "",
  );
  out.push("| Streamed | time to first token p50 | p95 | whole answer p50 |", "|---|---:|---:|---:|");
  out.push(`| direct | ${f2(st.direct.ttfbP50)} ms | ${f2(st.direct.ttfbP95)} ms | ${f2(st.direct.totalP50)} ms |`);
  out.push(
    `| through the gateway | ${f2(st.gateway.ttfbP50)} ms | ${f2(st.gateway.ttfbP95)} ms | ${f2(st.gateway.totalP50)} ms |`,
  );
  const m = r.stream.memory;
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  out.push(
    "",
    `Gateway isolate live heap (after a GC) while relaying a ${(m.answerBytes / 2 ** 20).toFixed(2)} MiB stream: ${m.samples.map((x) => `${kib(x.heapBytes)} after ${kib(x.readBytes)} read`).join(", ")} (before the stream: ${kib(m.baselineBytes)}). Growth is the spread of the samples after the first.`,
  );
  out.push("", "| Bundle | gzip |", "|---|---:|");
  for (const [name, bytes] of Object.entries(r.gzipBytes))
    out.push(`| ${name} | ${(bytes / 1000).toFixed(1)} KB (${(bytes / 1024).toFixed(1)} KiB) |`);
  out.push("", "| Target | Measured | Target | Met |", "|---|---:|---:|:---:|");
  for (const t of r.targets) out.push(`| ${t.name} | ${t.value} | ${t.target} | ${t.met ? "yes" : "**no**"} |`);
  return out.join("\n");
}
