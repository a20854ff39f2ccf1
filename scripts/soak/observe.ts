/**
 * What the soak reads from the platform while and after it runs, through
 * the gateway's own admin API: agent-demo's guard polled for its breaker
 * (every transition collected, deduplicated), the persisted state compared
 * across a restart (breaker, quotas, budgets, counters), and the request log.
 */
import type { GuardView } from "../../workers/gateway/src/admin/guard-view";
import type { SoakPlatform } from "./platform";

/** A breaker transition as the admin API reports it. */
export type Transition = GuardView["transitions"][number];

/** One poll of the guard. */
export interface GuardSample {
  at: number;
  state: GuardView["breaker"]["state"];
  inFlight: number;
}

/** Reads agent-demo's guard through `GET /v1/agents/agent-demo/guard`. */
export async function readGuard(platform: SoakPlatform): Promise<GuardView> {
  const res = await platform.admin("/v1/agents/agent-demo/guard");
  if (!res.ok) throw new Error(`guard read: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { guard: GuardView }).guard;
}

/** Polls the guard every `intervalMs` until stopped; failed polls (e.g. during a restart) are counted, not fatal. */
export function pollGuard(platform: SoakPlatform, intervalMs = 250) {
  const samples: GuardSample[] = [];
  const transitions = new Map<string, Transition>();
  let failures = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const g = await readGuard(platform);
        samples.push({ at: Date.now(), state: g.breaker.state, inFlight: g.in_flight });
        for (const t of g.transitions) transitions.set(`${t.at}|${t.from}|${t.to}`, t);
      } catch {
        failures++;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return {
        samples,
        transitions: [...transitions.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)),
        failures,
      };
    },
  };
}

/** The state a restart must not lose. */
export interface PersistedState {
  guard: GuardView;
  /** The soak key's usage on agent-demo (rate-limit cell and daily tokens). */
  keyUsage: {
    tokens: { used: number; reserved: number } | null;
    rate_limit: { remaining: number; limit: number } | null;
  };
  /** `agent_requests_total` for agent-demo, summed over its labels. */
  requestsCounted: number;
  /** `agent_tokens_used_total` for agent-demo. */
  tokensCounted: number;
}

function sumMetric(text: string, name: string, agent: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) || !line.includes(`agent_id="${agent}"`)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Reads everything a restart must keep. */
export async function readPersisted(platform: SoakPlatform): Promise<PersistedState> {
  const guard = await readGuard(platform);
  const usageRes = await platform.admin(`/v1/keys/${platform.keyId}/usage`);
  if (!usageRes.ok) throw new Error(`key usage: ${usageRes.status}`);
  const usage = (await usageRes.json()) as {
    agents: {
      agent: string;
      tokens: PersistedState["keyUsage"]["tokens"];
      rate_limit: PersistedState["keyUsage"]["rate_limit"];
    }[];
  };
  const demo = usage.agents.find((a) => a.agent === "agent-demo");
  const metricsRes = await platform.admin("/metrics");
  if (!metricsRes.ok) throw new Error(`metrics: ${metricsRes.status}`);
  const metrics = await metricsRes.text();
  return {
    guard,
    keyUsage: { tokens: demo?.tokens ?? null, rate_limit: demo?.rate_limit ?? null },
    requestsCounted: sumMetric(metrics, "agent_requests_total", "agent-demo"),
    tokensCounted: sumMetric(metrics, "agent_tokens_used_total", "agent-demo"),
  };
}

/** One request's row in the request log, with its upstream attempts. */
export interface LoggedRequest {
  request_id: string;
  status: number;
  code: string | null;
  /** Attempts that reached the agent (admitted, or sent with the guard unavailable). */
  upstream: number;
  /** Attempts of any kind, refusals included. */
  attempts: number;
}

/** Request-log rows whose id starts with `prefix`. */
export async function readRequestLog(platform: SoakPlatform, prefix: string): Promise<LoggedRequest[]> {
  const db = await platform.requestLog();
  const rows = await db
    .prepare(
      `SELECT r.request_id, r.status, r.code,
              COALESCE(SUM(CASE WHEN a.admission IN ('admitted', 'guard_unavailable') THEN 1 ELSE 0 END), 0) AS upstream,
              COUNT(a.n) AS attempts
         FROM requests r LEFT JOIN request_attempts a ON a.log_id = r.log_id
        WHERE r.request_id LIKE ?1 GROUP BY r.log_id`,
    )
    .bind(`${prefix}-%`)
    .all<LoggedRequest>();
  return rows.results;
}

/** Waits until the request log holds `expected` rows with `prefix` (background writes), or `timeoutMs` passes. */
export async function awaitRequestLog(
  platform: SoakPlatform,
  prefix: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<LoggedRequest[]> {
  const until = Date.now() + timeoutMs;
  let rows = await readRequestLog(platform, prefix);
  while (rows.length < expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    rows = await readRequestLog(platform, prefix);
  }
  return rows;
}
