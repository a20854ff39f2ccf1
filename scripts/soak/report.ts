/**
 * The soak's report: one row per phase (requests, what they got, latency,
 * upstream attempts, breaker openings) and the checks, as Markdown.
 */
import type { Check, PhaseWindow } from "./checks";
import type { LoggedRequest, Transition } from "./observe";
import type { Phase } from "./phases";
import type { SoakResponse } from "./runner";

/** One phase, summarized. */
export interface PhaseRow {
  phase: string;
  requests: number;
  seconds: number;
  /** Responses by status, e.g. `{ "200": 1400, "503 CIRCUIT_OPEN": 90 }`. */
  outcomes: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  attemptsPerRequest: number;
  breakerOpenings: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Summarizes each phase. */
export function phaseRows(
  phases: readonly Phase[],
  windows: readonly PhaseWindow[],
  responses: readonly SoakResponse[],
  logged: readonly LoggedRequest[],
  transitions: readonly Transition[],
): PhaseRow[] {
  const upstream = new Map(logged.map((r) => [r.request_id, r.upstream]));
  return phases.map((p, i) => {
    const mine = responses.filter((r) => r.phase === i);
    const outcomes: Record<string, number> = {};
    for (const r of mine) {
      const key = r.status === 0 ? "no response" : r.code ? `${r.status} ${r.code}` : String(r.status);
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    const latencies = mine.map((r) => r.latencyMs).sort((a, b) => a - b);
    const w = windows[i] ?? { start: 0, end: 0 };
    const attempts = mine.reduce((n, r) => n + (upstream.get(r.requestId) ?? 0), 0);
    return {
      phase: p.name,
      requests: mine.length,
      seconds: Math.round((w.end - w.start) / 100) / 10,
      outcomes,
      p50Ms: Math.round(quantile(latencies, 0.5)),
      p99Ms: Math.round(quantile(latencies, 0.99)),
      maxMs: Math.round(latencies.at(-1) ?? Number.NaN),
      attemptsPerRequest: mine.length ? Math.round((attempts / mine.length) * 1000) / 1000 : 0,
      breakerOpenings: transitions.filter(
        (t) => t.to === "open" && Date.parse(t.at) >= w.start && Date.parse(t.at) <= w.end,
      ).length,
    };
  });
}

/** The report as Markdown: the phase table, then every check. */
export function markdown(rows: readonly PhaseRow[], checks: readonly Check[], header: string): string {
  const lines = [
    header,
    "",
    "| Phase | Requests | s | Outcomes | p50 ms | p99 ms | max ms | Upstream attempts / request | Breaker openings |",
    "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ...rows.map((r) => {
      const outcomes = Object.entries(r.outcomes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k}: ${n}`)
        .join(", ");
      return `| ${r.phase} | ${r.requests} | ${r.seconds} | ${outcomes} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.attemptsPerRequest} | ${r.breakerOpenings} |`;
    }),
    "",
    "| Check | | Measured |",
    "|---|---|---|",
    ...checks.map((c) => `| ${c.name} | ${c.ok ? "pass" : "**FAIL**"} | ${c.detail.replaceAll("|", "\\|")} |`),
  ];
  return lines.join("\n") + "\n";
}
