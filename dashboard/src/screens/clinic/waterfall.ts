/**
 * A request's waterfall from its request-log timeline: each attempt is
 * preceded by its backoff sleep; a refused admission is a zero-length mark;
 * what the attempts and sleeps do not account for is gateway time
 * (authentication, admission round trips, routing, writing the answer).
 */
import type { TimelineEntry } from "../../api";

export type { TimelineEntry };

/** One bar: where it starts and how long it lasts, in ms from the request's start. */
export interface Bar {
  kind: "backoff" | "attempt" | "refused" | "gateway";
  label: string;
  start: number;
  duration: number;
  /** For attempts: failed (status 0 or >= 500) or refused. */
  failed: boolean;
}

/** Lays the timeline out; the total is the request's duration (at least the sum of its parts). */
export function layoutWaterfall(timeline: readonly TimelineEntry[], durationMs: number): { bars: Bar[]; total: number } {
  const bars: Bar[] = [];
  let at = 0;
  for (const e of [...timeline].sort((a, b) => a.n - b.n)) {
    if (e.backoff_ms > 0) {
      bars.push({ kind: "backoff", label: `backoff before attempt ${e.attempt} (${e.backoff_ms} ms)`, start: at, duration: e.backoff_ms, failed: false });
      at += e.backoff_ms;
    }
    if (e.admission !== "admitted" && e.admission !== "guard_unavailable") {
      bars.push({ kind: "refused", label: `${e.agent} attempt ${e.attempt}: refused (${e.admission})`, start: at, duration: 0, failed: true });
      continue;
    }
    const outcome = e.status === 0 ? (e.code ?? "no answer") : `${e.status}${e.code ? ` ${e.code}` : ""}`;
    const note = e.admission === "guard_unavailable" ? ", guard unavailable (fail open)" : "";
    bars.push({ kind: "attempt", label: `${e.agent} attempt ${e.attempt}: ${outcome} in ${e.latency_ms} ms${note}`, start: at, duration: e.latency_ms, failed: e.status === 0 || e.status >= 500 });
    at += e.latency_ms;
  }
  const total = Math.max(durationMs, at);
  if (total - at > 0) bars.push({ kind: "gateway", label: `gateway (auth, admission, routing, answer): ${total - at} ms`, start: at, duration: total - at, failed: false });
  return { bars, total };
}
