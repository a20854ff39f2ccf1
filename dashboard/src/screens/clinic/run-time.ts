/**
 * The times of a long-running run as the Clinic shows them: whether it may still change, and how long it
 * took, or has been running or waiting so far. DOM-free, so Node tests can read it as they read waterfall.ts.
 */
import type { RunView } from "../../api";

/** True while a run may still change state (queued or running). */
export const isActive = (run: Pick<RunView, "status">): boolean => run.status === "queued" || run.status === "running";

/** `ms` for people: `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 4 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** How long a run took (finished − started), or how long it has been running or queued at `now`; `—` when unknown. */
export function runDuration(
  run: Pick<RunView, "status" | "created_at" | "started_at" | "finished_at">,
  now: number,
): string {
  const started = run.started_at ? Date.parse(run.started_at) : NaN;
  const finished = run.finished_at ? Date.parse(run.finished_at) : NaN;
  if (Number.isFinite(started) && Number.isFinite(finished)) return formatDuration(finished - started);
  if (run.status === "running" && Number.isFinite(started)) return `running for ${formatDuration(now - started)}`;
  const created = Date.parse(run.created_at);
  if (run.status === "queued" && Number.isFinite(created)) return `queued for ${formatDuration(now - created)}`;
  return "—";
}
