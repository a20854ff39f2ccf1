/**
 * A request's waterfall from its request-log timeline: each attempt is
 * preceded by its backoff sleep and followed (indented) by the agent's own
 * spans from its `Server-Timing` (idempotency store, capability, LLM call,
 * ...); a refused admission is a zero-length mark; what the attempts and
 * sleeps do not account for is gateway time (authentication, admission
 * round trips, routing, writing the answer).
 */
import type { TimelineEntry } from "../../api";

export type { TimelineEntry };

/** One bar: where it starts and how long it lasts, in ms from the request's start. */
export interface Bar {
  kind: "backoff" | "attempt" | "refused" | "gateway" | "agent-span";
  label: string;
  start: number;
  duration: number;
  /** Attempts: failed (status 0 or >= 500) or refused; agent spans: marked failed by the agent. */
  failed: boolean;
  /** 0 for the request's own bars, 1 for the agent's spans inside an attempt. */
  depth: 0 | 1;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** The agent's spans of one attempt, placed inside it (clipped to it: the two clocks are not the same). */
function agentBars(e: TimelineEntry, attemptStart: number): Bar[] {
  return e.spans
    .filter((s) => s.name !== "total")
    .map((s) => {
      const start = Math.min(s.start, e.latency_ms);
      const duration = Math.max(0, Math.min(s.dur, e.latency_ms - start));
      return {
        kind: "agent-span" as const,
        label: `${s.name}${s.desc ? `: ${s.desc}` : ""} (${round(s.dur)} ms)`,
        start: attemptStart + start,
        duration,
        failed: /\bfailed$/.test(s.desc ?? ""),
        depth: 1 as const,
      };
    });
}

/** Lays the timeline out; the total is the request's duration (at least the sum of its parts). */
export function layoutWaterfall(
  timeline: readonly TimelineEntry[],
  durationMs: number,
): { bars: Bar[]; total: number } {
  const bars: Bar[] = [];
  let at = 0;
  for (const e of [...timeline].sort((a, b) => a.n - b.n)) {
    if (e.backoff_ms > 0) {
      bars.push({
        kind: "backoff",
        label: `backoff before attempt ${e.attempt} (${e.backoff_ms} ms)`,
        start: at,
        duration: e.backoff_ms,
        failed: false,
        depth: 0,
      });
      at += e.backoff_ms;
    }
    if (e.admission !== "admitted" && e.admission !== "guard_unavailable") {
      bars.push({
        kind: "refused",
        label: `${e.agent} attempt ${e.attempt}: refused (${e.admission})`,
        start: at,
        duration: 0,
        failed: true,
        depth: 0,
      });
      continue;
    }
    const outcome = e.status === 0 ? (e.code ?? "no answer") : `${e.status}${e.code ? ` ${e.code}` : ""}`;
    const note = e.admission === "guard_unavailable" ? ", guard unavailable (fail open)" : "";
    const agentTotal = e.spans.find((s) => s.name === "total");
    const inAgent = agentTotal ? ` (${round(agentTotal.dur)} ms in the agent)` : "";
    bars.push({
      kind: "attempt",
      label: `${e.agent} attempt ${e.attempt}: ${outcome} in ${e.latency_ms} ms${inAgent}${note}`,
      start: at,
      duration: e.latency_ms,
      failed: e.status === 0 || e.status >= 500,
      depth: 0,
    });
    bars.push(...agentBars(e, at));
    at += e.latency_ms;
  }
  const total = Math.max(durationMs, at);
  if (total - at > 0)
    bars.push({
      kind: "gateway",
      label: `gateway (auth, admission, routing, answer): ${total - at} ms`,
      start: at,
      duration: total - at,
      failed: false,
      depth: 0,
    });
  return { bars, total };
}
