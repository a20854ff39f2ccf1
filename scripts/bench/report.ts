/**
 * The bench's numbers: Durable Object round trips counted from the request
 * log lines, the ratios and targets, and the Markdown table.
 */
import type { LoadResult } from "./load";

/** The scenarios, in the order they run and print. */
export const SCENARIOS = {
  direct: "(a) agent-demo echo, direct",
  gateway: "(b) through the gateway, everything on",
  collectorDown: "(c) as (b), collector down (connection refused)",
  collectorHung: "(d) as (b), collector hanging (accepts, never answers)",
  withKey: "(e) as (b), with a fresh Idempotency-Key per request",
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

/** Everything one bench run measured. */
export interface BenchResult {
  at: string;
  machine: { cpus: number; cpuModel: string; node: string; memoryGiB: number };
  settings: { durationS: number; warmupS: number; concurrency: number[]; rounds: number };
  runs: Record<Scenario, Record<string, LoadResult>>;
  roundTrips: RoundTrips;
  /** The same count for (e), requests with an Idempotency-Key. */
  roundTripsWithKey: RoundTrips;
  spansExported: number;
  gzipBytes: Record<string, number>;
  targets: { name: string; value: string; target: string; met: boolean }[];
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;

/** The targets of issue 7, evaluated on this run. */
export function evaluateTargets(r: Omit<BenchResult, "targets">, high: number): BenchResult["targets"] {
  const a1 = r.runs.direct["1"]!;
  const b1 = r.runs.gateway["1"]!;
  const aH = r.runs.direct[String(high)]!;
  const bH = r.runs.gateway[String(high)]!;
  const cH = r.runs.collectorDown[String(high)]!;
  const added = b1.latencyMs.p50 - a1.latencyMs.p50;
  const gw = r.gzipBytes.gateway ?? Number.NaN;
  return [
    { name: "added p50 latency at concurrency 1", value: `${f2(added)} ms`, target: "≤ 1 ms", met: added <= 1 },
    { name: `gateway throughput vs direct at concurrency ${high}`, value: pct(bH.rps / aH.rps), target: "≥ 70%", met: bH.rps / aH.rps >= 0.7 },
    { name: "Durable Object round trips per request, hot path", value: f2(r.roundTrips.awaited), target: "≤ 1", met: r.roundTrips.awaited <= 1 },
    { name: `collector down vs up throughput at concurrency ${high}`, value: pct(cH.rps / bH.rps), target: "≥ 95%", met: cH.rps / bH.rps >= 0.95 },
    { name: "gateway bundle, gzip", value: `${(gw / 1000).toFixed(1)} KB`, target: "≤ 150 KB", met: gw <= 150_000 },
  ];
}

/** The Markdown report. */
export function markdown(r: BenchResult): string {
  const out: string[] = [];
  out.push(`Run ${r.at} on ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ${r.settings.durationS} s per scenario and concurrency in ${r.settings.rounds} interleaved rounds, after ${r.settings.warmupS} s of warm-up; workerd through Miniflare, load from autocannon on the same machine.`, "");
  out.push("| Scenario | Concurrency | Requests/s | p50 ms | p95 ms | p99 ms | Non-2xx | Errors |", "|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const c of r.settings.concurrency) {
    for (const [key, label] of Object.entries(SCENARIOS) as [Scenario, string][]) {
      const l = r.runs[key][String(c)];
      if (!l) continue;
      const non2xx = Object.entries(l.statuses).filter(([k]) => k !== "2xx").reduce((s, [, n]) => s + n, 0);
      out.push(`| ${label} | ${c} | ${f1(l.rps)} | ${f2(l.latencyMs.p50)} | ${f2(l.latencyMs.p95)} | ${f2(l.latencyMs.p99)} | ${non2xx} | ${l.errors} |`);
    }
  }
  out.push("", "| Ratio | " + r.settings.concurrency.map((c) => `c=${c}`).join(" | ") + " |", "|---|" + r.settings.concurrency.map(() => "---:").join("|") + "|");
  const ratio = (x: Scenario, y: Scenario) => r.settings.concurrency.map((c) => pct(r.runs[x][String(c)]!.rps / r.runs[y][String(c)]!.rps)).join(" | ");
  out.push(`| throughput b/a (gateway / direct) | ${ratio("gateway", "direct")} |`);
  out.push(`| throughput c/b (collector down / up) | ${ratio("collectorDown", "gateway")} |`);
  out.push(`| throughput d/b (collector hanging / up) | ${ratio("collectorHung", "gateway")} |`);
  const added = r.settings.concurrency.map((c) => `${f2(r.runs.gateway[String(c)]!.latencyMs.p50 - r.runs.direct[String(c)]!.latencyMs.p50)} ms`).join(" | ");
  out.push(`| added p50 latency (b − a) | ${added} |`);
  out.push("", `Durable Object round trips per gateway request (counted from ${r.roundTrips.requests} request log lines of (b)): **${f2(r.roundTrips.awaited)} awaited** (hot path), ${f2(r.roundTrips.background)} in the background. With an Idempotency-Key (e, ${r.roundTripsWithKey.requests} requests): ${f2(r.roundTripsWithKey.awaited)} awaited, ${f2(r.roundTripsWithKey.background)} in the background. Spans exported: ${r.spansExported}.`);
  out.push("", "| Bundle | gzip |", "|---|---:|");
  for (const [name, bytes] of Object.entries(r.gzipBytes)) out.push(`| ${name} | ${(bytes / 1000).toFixed(1)} KB (${(bytes / 1024).toFixed(1)} KiB) |`);
  out.push("", "| Target | Measured | Target | Met |", "|---|---:|---:|:---:|");
  for (const t of r.targets) out.push(`| ${t.name} | ${t.value} | ${t.target} | ${t.met ? "yes" : "**no**"} |`);
  return out.join("\n");
}
