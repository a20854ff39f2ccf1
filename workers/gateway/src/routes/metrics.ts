/**
 * `GET /metrics`: Prometheus text format, aggregated globally. Each agent's
 * counters live in its UpstreamGuard Durable Object (the one writer per
 * agent), so every gateway isolate answers with the same numbers. One RPC
 * per agent, in parallel, bounded in time; an agent whose guard cannot
 * answer is skipped and flagged by `gateway_metrics_scrape_errors{agent_id}`
 * (never a 500). `agent_up` comes from probing each agent's `/health`
 * through its binding during the scrape, as `GET /health` does.
 */
import type { Context } from "hono";
import { LATENCY_BUCKETS_S } from "../../../../durable-objects/upstream-guard/src/metrics";
import type { BreakerState } from "../../../../durable-objects/upstream-guard/src/policies";
import type { GuardMetrics } from "../../../../durable-objects/upstream-guard/src/types";
import { resolveGatewayConfig } from "../config";
import { type Collected, collectFromGuards } from "../observability/collect";
import {
  type HistogramSample,
  type MetricFamily,
  PROMETHEUS_CONTENT_TYPE,
  type Sample,
  renderPrometheus,
} from "../observability/prometheus";
import type { AgentRegistry } from "../registry";
import type { GuardNamespace } from "../resilience/guard-client";
import type { ResilienceCatalog } from "../resilience/plans";
import { type AgentHealth, probe } from "./health";

/** `circuit_breaker_state` values: 0 closed, 1 half-open, 2 open (an admin's forced open, "isolated", is 2 too). */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2, isolated: 2 };

/** Builds the metric families from each agent's guard answer and health probe (pure). */
export function metricFamilies(
  collected: readonly Collected<GuardMetrics>[],
  health: ReadonlyMap<string, AgentHealth> = new Map(),
  version?: string,
): MetricFamily[] {
  const requests: Sample[] = [];
  const durations: HistogramSample[] = [];
  const retries: Sample[] = [];
  const rejections: Sample[] = [];
  const breakerState: Sample[] = [];
  const transitions: Sample[] = [];
  const rateRemaining: Sample[] = [];
  const tokens: Sample[] = [];
  const inFlight: Sample[] = [];
  const up: Sample[] = [];
  const scrapeErrors: Sample[] = [];
  const bypass: Sample[] = [];
  for (const entry of collected) {
    const agent_id = entry.agent;
    scrapeErrors.push({ labels: { agent_id }, value: entry.ok ? 0 : 1 });
    const probed = health.get(agent_id);
    if (probed) up.push({ labels: { agent_id }, value: probed.status === "ok" ? 1 : 0 });
    if (!entry.ok) continue;
    const m = entry.value;
    for (const capability of Object.keys(m.counters.requests).sort()) {
      const byStatus = m.counters.requests[capability] ?? {};
      for (const status of Object.keys(byStatus).sort())
        requests.push({ labels: { agent_id, capability, status }, value: byStatus[status] ?? 0 });
    }
    for (const capability of Object.keys(m.counters.latency).sort()) {
      const h = m.counters.latency[capability];
      if (h)
        durations.push({
          labels: { agent_id, capability },
          bounds: LATENCY_BUCKETS_S,
          counts: h.buckets,
          sum: Math.round(h.sum * 1e6) / 1e6,
          count: h.count,
        });
    }
    retries.push({ labels: { agent_id }, value: m.counters.retries });
    for (const [reason, n] of Object.entries(m.counters.rejections).sort())
      rejections.push({ labels: { agent_id, reason }, value: n ?? 0 });
    breakerState.push({ labels: { agent_id }, value: BREAKER_STATE_VALUE[m.breaker] });
    for (const [to, n] of Object.entries(m.counters.transitions).sort())
      transitions.push({ labels: { agent_id, to }, value: n ?? 0 });
    if (m.rateLimitRemaining !== undefined) rateRemaining.push({ labels: { agent_id }, value: m.rateLimitRemaining });
    tokens.push({ labels: { agent_id }, value: m.counters.tokens });
    inFlight.push({ labels: { agent_id }, value: m.inFlight });
    for (const mode of ["stale", "open"] as const)
      bypass.push({ labels: { agent_id, mode }, value: m.counters.bypass?.[mode] ?? 0 });
  }
  const families: MetricFamily[] = [
    {
      name: "agent_requests_total",
      help: "Requests routed to the agent, by capability and final HTTP status to the caller.",
      type: "counter",
      samples: requests,
    },
    {
      name: "agent_request_duration_seconds",
      help: "Duration of requests routed to the agent, as the caller saw it (all attempts and backoff).",
      type: "histogram",
      samples: durations,
    },
    {
      name: "gateway_retries_total",
      help: "Retry attempts the gateway made to the agent.",
      type: "counter",
      samples: retries,
    },
    {
      name: "gateway_rejections_total",
      help: "Attempts the agent's upstream guard refused, by reason.",
      type: "counter",
      samples: rejections,
    },
    {
      name: "circuit_breaker_state",
      help: "Circuit breaker state: 0 closed, 1 half-open, 2 open (or forced open).",
      type: "gauge",
      samples: breakerState,
    },
    {
      name: "circuit_breaker_transitions_total",
      help: "Circuit breaker transitions, by the state entered.",
      type: "counter",
      samples: transitions,
    },
    {
      name: "rate_limit_remaining",
      help: "Requests the agent's rate limit would admit now (agents with a rate limit only).",
      type: "gauge",
      samples: rateRemaining,
    },
    { name: "agent_tokens_used_total", help: "LLM tokens the agent reported using.", type: "counter", samples: tokens },
    {
      name: "agent_in_flight_requests",
      help: "Concurrency permits of the agent held: attempts admitted one by one, and blocks leased to gateway isolates.",
      type: "gauge",
      samples: inFlight,
    },
    {
      name: "gateway_guard_bypass_total",
      help: "Admissions made while the agent's guard could not answer: from an expired lease within the stale grace (mode=stale), or with no guard past it (mode=open).",
      type: "counter",
      samples: bypass,
    },
    {
      name: "agent_up",
      help: "1 if the agent's /health answered 2xx through its binding during this scrape, else 0.",
      type: "gauge",
      samples: up,
    },
    {
      name: "gateway_metrics_scrape_errors",
      help: "1 if the agent's upstream guard could not be read for this scrape (its series are missing), else 0.",
      type: "gauge",
      samples: scrapeErrors,
    },
  ];
  if (version !== undefined)
    families.push({
      name: "gateway_build_info",
      help: "The gateway's version.",
      type: "gauge",
      samples: [{ labels: { version }, value: 1 }],
    });
  return families;
}

/** What the handler reads (at request time: hosted agents come and go). */
export interface MetricsDeps {
  readonly registry: AgentRegistry;
  readonly catalog: ResilienceCatalog;
}

/** Creates the `GET /metrics` handler (mount behind `adminAuth({ allowScrapeToken: true })`). */
export function metricsHandler(deps: MetricsDeps, version?: string) {
  return async function metrics(c: Context): Promise<Response> {
    const env = c.env as { UPSTREAM_GUARD?: GuardNamespace; GATEWAY_TIMEOUT_MS?: string };
    const [collected, probes] = await Promise.all([
      collectFromGuards(
        {
          registry: deps.registry,
          catalog: deps.catalog,
          namespace: env.UPSTREAM_GUARD,
          gatewayTimeoutMs: resolveGatewayConfig(env).timeoutMs,
          logger: c.get("logger"),
          what: "metrics",
        },
        (stub, config) => stub.metrics(config) as Promise<GuardMetrics>,
      ),
      Promise.all(deps.registry.agents.map((a) => probe(c.env as object, a, c.get("requestId")))),
    ]);
    const health = new Map(deps.registry.agents.map((a, i) => [a.name, probes[i] as AgentHealth]));
    const body = renderPrometheus(metricFamilies(collected, health, version));
    return c.body(body, 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" });
  };
}
