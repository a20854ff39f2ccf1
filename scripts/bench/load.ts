/**
 * One load run with autocannon. autocannon's own histogram keeps whole
 * milliseconds, too coarse for a sub-millisecond overhead target, so every
 * response time (float ms from its `response` event) is kept here and the
 * percentiles are computed from all of them.
 */
import autocannon from "autocannon";

/** What to send. */
export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** A header given a fresh UUID on every request (e.g. `Idempotency-Key`). */
  uniqueHeader?: string;
}

/** The result of one run. */
export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  rps: number;
  latencyMs: { p50: number; p95: number; p99: number; mean: number };
  /** Responses by status class, e.g. `{ "2xx": 1000 }`; errors are connection errors and timeouts. */
  statuses: Record<string, number>;
  errors: number;
}

/** One run with its raw response times (ms), to pool with other rounds. */
export interface LoadRun extends LoadResult {
  times: Float64Array;
}

function summarize(
  connections: number,
  elapsedS: number,
  times: Float64Array,
  statuses: Record<string, number>,
  errors: number,
): LoadRun {
  const sorted = Float64Array.from(times).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return {
    connections,
    durationS: elapsedS,
    requests: sorted.length,
    rps: sorted.length / elapsedS,
    latencyMs: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99), mean },
    statuses,
    errors,
    times: sorted,
  };
}

/**
 * Pools rounds of the same scenario: requests/s over their total time,
 * percentiles over all their response times. Rounds of different scenarios
 * are interleaved, so drift on a noisy machine hits every scenario alike.
 */
export function poolRuns(runs: readonly LoadRun[]): LoadResult {
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
  const times = new Float64Array(runs.reduce((n, r) => n + r.times.length, 0));
  let at = 0;
  for (const r of runs) {
    times.set(r.times, at);
    at += r.times.length;
  }
  const { times: _times, ...pooled } = summarize(
    runs[0]?.connections ?? 0,
    runs.reduce((s, r) => s + r.durationS, 0),
    times,
    statuses,
    runs.reduce((s, r) => s + r.errors, 0),
  );
  return pooled;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Runs `connections` concurrent clients (one request in flight each) for `durationS` seconds. */
export async function runLoad(target: LoadTarget, connections: number, durationS: number): Promise<LoadRun> {
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const unique = target.uniqueHeader;
    const requests = unique
      ? [
          {
            setupRequest: (req: autocannon.Request) => ({
              ...req,
              headers: { ...req.headers, [unique]: crypto.randomUUID() },
            }),
          },
        ]
      : undefined;
    const options = {
      url: target.url,
      method: "POST" as const,
      headers: target.headers,
      body: target.body,
      connections,
      pipelining: 1,
      duration: durationS,
      timeout: 30,
      ...(requests ? { requests } : {}),
    };
    const instance = autocannon(options, (err, res) => (err ? reject(err as Error) : resolve(res)));
    instance.on("response", (_client, status, _bytes, responseTime) => {
      times.push(responseTime);
      const cls = `${Math.floor(status / 100)}xx`;
      statuses[cls] = (statuses[cls] ?? 0) + 1;
    });
  });
  const elapsedS = result.duration > 0 ? result.duration : durationS;
  return summarize(connections, elapsedS, Float64Array.from(times), statuses, result.errors + result.timeouts);
}
