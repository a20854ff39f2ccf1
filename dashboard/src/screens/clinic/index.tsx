/**
 * Clinic: live health of every agent (breaker, limits, budget, rates and
 * latency, with force open/close), charts sampled from `/v1/stats` while the
 * screen is open, the hosted agents (versions, rollback, delete), recent
 * long-running runs (live, with cancel), the request
 * log, and one request's waterfall (`#/clinic/request/<id>`).
 */
import { useEffect, useState } from "preact/hooks";
import { type GuardView, api } from "../../api";
import { ScreenHeader } from "../../components/screen-header";
import type { ScreenProps } from "../../screens";
import { AgentCard } from "./agent-card";
import "./clinic.css";
import { HostedAgents } from "./hosted-agents";
import { LineChart } from "./line-chart";
import { RequestDetail } from "./request-detail";
import { RequestLog } from "./request-log";
import { Runs } from "./runs";
import { usePoll } from "./use-poll";

/** How often the overview refreshes. */
const REFRESH_MS = 5000;
/** Samples kept per chart (10 minutes at one per refresh). */
const MAX_SAMPLES = 120;
const COLORS = ["#0b57d0", "#b42318", "#1a7f37", "#8250df"];

interface Sample {
  t: number;
  agents: Record<
    string,
    { rate: number; error: number | null; p50: number | null; p95: number | null; p99: number | null }
  >;
}

export function ClinicScreen({ session, params }: ScreenProps) {
  if (params[0] === "request" && params[1])
    return <RequestDetail requestId={params[1]} jaegerUiUrl={session.jaeger_ui_url} />;
  return <Overview gatewayUrl={session.gateway_url} />;
}

function Overview({ gatewayUrl }: { gatewayUrl: string | null }) {
  const stats = usePoll((signal) => api.stats({ signal }), REFRESH_MS);
  const health = usePoll((signal) => api.health({ signal }), REFRESH_MS);
  const agents = Object.keys(stats.data?.agents ?? health.data?.agents ?? {}).sort();
  const guards = usePoll(
    async (signal) => {
      const all = await Promise.all(
        agents.map((a) =>
          api.gateway.get<{ guard: GuardView }>(`/v1/agents/${encodeURIComponent(a)}/guard`, { signal }),
        ),
      );
      const out: Record<string, GuardView> = {};
      all.forEach((r, i) => r.ok && (out[agents[i] as string] = r.data.guard));
      return { ok: true as const, status: 200, data: out, requestId: null };
    },
    REFRESH_MS,
    [agents.join(",")],
  );
  const [samples, setSamples] = useState<Sample[]>([]);
  useEffect(() => {
    const s = stats.data;
    if (!s) return;
    const sample: Sample = { t: Date.parse(s.generated_at) || Date.now(), agents: {} };
    for (const [name, a] of Object.entries(s.agents)) {
      const w = a.windows["1m"];
      sample.agents[name] = { rate: w.rate_per_s, error: w.error_rate, p50: w.p50_ms, p95: w.p95_ms, p99: w.p99_ms };
    }
    setSamples((prev) => [...prev, sample].slice(-MAX_SAMPLES));
  }, [stats.data]);
  const refresh = () => (stats.refresh(), guards.refresh(), health.refresh());
  const series = (pick: (v: Sample["agents"][string]) => number | null) =>
    agents.map((a, i) => ({
      name: a,
      color: COLORS[i % COLORS.length] as string,
      points: samples.map((s) => ({ t: s.t, v: s.agents[a] ? pick(s.agents[a]) : null })),
    }));
  return (
    <>
      <ScreenHeader
        title="Clinic"
        description="How the agents are doing: health, breakers, limits and budgets, rates and latency, hosted agents, long-running runs, and the request log."
      />
      {stats.error ? (
        <p class="error" role="alert">
          Statistics are unavailable: {stats.error.error} ({stats.error.code}).
        </p>
      ) : null}
      {stats.loading && !stats.data ? <p class="muted">Loading the agents…</p> : null}
      {stats.data && agents.length === 0 ? <p class="muted">This gateway fronts no agents.</p> : null}
      {stats.data?.unavailable?.length ? (
        <p class="notice">No statistics from: {stats.data.unavailable.join(", ")} (their guard did not answer).</p>
      ) : null}
      <div class="agent-grid">
        {agents.map((a) => (
          <AgentCard
            key={a}
            name={a}
            health={health.data?.agents[a]?.status}
            guard={guards.data?.[a]}
            window={stats.data?.agents[a]?.windows["1m"]}
            onChanged={refresh}
            gatewayUrl={gatewayUrl}
          />
        ))}
      </div>
      {agents.length > 0 ? (
        <section class="panel" aria-labelledby="charts-title">
          <h2 id="charts-title">Last minute, sampled every {REFRESH_MS / 1000} s while this page is open</h2>
          <div class="chart-grid">
            <LineChart
              title="Requests per second"
              series={series((v) => v.rate)}
              format={(v) => (v < 1 ? v.toFixed(2) : v.toFixed(1))}
            />
            <LineChart title="Error rate" series={series((v) => v.error)} format={(v) => `${(v * 100).toFixed(0)}%`} />
            {agents.map((a) => (
              <LineChart
                key={a}
                title={`${a} latency`}
                series={[
                  {
                    name: "p50",
                    color: COLORS[0] as string,
                    points: samples.map((s) => ({ t: s.t, v: s.agents[a]?.p50 ?? null })),
                  },
                  {
                    name: "p95",
                    color: COLORS[2] as string,
                    points: samples.map((s) => ({ t: s.t, v: s.agents[a]?.p95 ?? null })),
                  },
                  {
                    name: "p99",
                    color: COLORS[1] as string,
                    points: samples.map((s) => ({ t: s.t, v: s.agents[a]?.p99 ?? null })),
                  },
                ]}
                format={(v) => `${Math.round(v)} ms`}
              />
            ))}
          </div>
        </section>
      ) : null}
      <HostedAgents />
      <Runs gatewayUrl={gatewayUrl} />
      <RequestLog agents={agents} />
    </>
  );
}
