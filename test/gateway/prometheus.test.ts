/** The Prometheus text renderer, the metric families built from guard answers, and per-request records (pure). */
import { describe, expect, it } from "vitest";
import type { GuardMetrics } from "../../durable-objects/upstream-guard/src/types";
import { requestRecords } from "../../workers/gateway/src/observability/record";
import { escapeLabelValue, formatValue, renderPrometheus } from "../../workers/gateway/src/observability/prometheus";
import { metricFamilies } from "../../workers/gateway/src/routes/metrics";

describe("prometheus renderer", () => {
  it("renders HELP and TYPE once per family, escaped labels, and cumulative histogram buckets ending at +Inf", () => {
    const text = renderPrometheus([
      {
        name: "x_total",
        help: "Help with \\ and\nnewline.",
        type: "counter",
        samples: [{ labels: { a: 'q"uo\\te\nd' }, value: 3 }],
      },
      { name: "g", help: "A gauge.", type: "gauge", samples: [{ labels: {}, value: Infinity }] },
      {
        name: "h_seconds",
        help: "A histogram.",
        type: "histogram",
        samples: [{ labels: { c: "echo" }, bounds: [0.1, 1], counts: [2, 1, 1], sum: 31.5, count: 4 }],
      },
    ]);
    expect(text).toBe(
      [
        "# HELP x_total Help with \\\\ and\\nnewline.",
        "# TYPE x_total counter",
        'x_total{a="q\\"uo\\\\te\\nd"} 3',
        "# HELP g A gauge.",
        "# TYPE g gauge",
        "g +Inf",
        "# HELP h_seconds A histogram.",
        "# TYPE h_seconds histogram",
        'h_seconds_bucket{c="echo",le="0.1"} 2',
        'h_seconds_bucket{c="echo",le="1"} 3',
        'h_seconds_bucket{c="echo",le="+Inf"} 4',
        'h_seconds_sum{c="echo"} 31.5',
        'h_seconds_count{c="echo"} 4',
        "",
      ].join("\n"),
    );
  });

  it("formats special values and rejects invalid names, duplicates and mismatched buckets", () => {
    expect([formatValue(NaN), formatValue(-Infinity), formatValue(0.25)]).toEqual(["NaN", "-Inf", "0.25"]);
    expect(escapeLabelValue("plain")).toBe("plain");
    expect(() => renderPrometheus([{ name: "bad-name", help: "", type: "gauge", samples: [] }])).toThrow(/metric name/);
    expect(() =>
      renderPrometheus([{ name: "g", help: "", type: "gauge", samples: [{ labels: { "bad-label": "x" }, value: 1 }] }]),
    ).toThrow(/label name/);
    expect(() =>
      renderPrometheus([{ name: "g", help: "", type: "gauge", samples: [{ labels: { __reserved: "x" }, value: 1 }] }]),
    ).toThrow(/label name/);
    const g = { name: "g", help: "", type: "gauge" as const, samples: [] };
    expect(() => renderPrometheus([g, g])).toThrow(/Duplicate/);
    expect(() =>
      renderPrometheus([
        {
          name: "h",
          help: "",
          type: "histogram",
          samples: [{ labels: {}, bounds: [1], counts: [1], sum: 1, count: 1 }],
        },
      ]),
    ).toThrow(/counts/);
    expect(renderPrometheus([])).toBe("");
  });

  it("maps guard answers to families: breaker state values, optional rate limit, failed agents flagged", () => {
    const value: GuardMetrics = {
      agent: "a",
      at: 0,
      counters: {
        requests: { echo: { "200": 2 } },
        latency: {},
        retries: 1,
        rejections: { rate_limited: 3 },
        transitions: { isolated: 1 },
        tokens: 7,
      },
      breaker: "isolated",
      inFlight: 0,
    };
    const health = new Map([
      ["a", { status: "ok" as const }],
      ["b", { status: "unreachable" as const }],
    ]);
    const text = renderPrometheus(
      metricFamilies(
        [
          { agent: "a", ok: true, value },
          { agent: "b", ok: false, error: "x" },
        ],
        health,
        "1.2.3",
      ),
    );
    expect(text).toContain('agent_requests_total{agent_id="a",capability="echo",status="200"} 2\n');
    expect(text).toContain('circuit_breaker_state{agent_id="a"} 2\n');
    expect(text).toContain('gateway_rejections_total{agent_id="a",reason="rate_limited"} 3\n');
    expect(text).not.toContain("rate_limit_remaining{");
    expect(text).toContain('agent_up{agent_id="b"} 0\n');
    expect(text).toContain('gateway_metrics_scrape_errors{agent_id="b"} 1\n');
    expect(text).toContain('gateway_build_info{version="1.2.3"} 1\n');
    expect(text).not.toContain('circuit_breaker_state{agent_id="b"}');
  });
});

describe("request records", () => {
  const attempt = (agent: string, n: number, admission: string, status = 500) =>
    ({ agent, attempt: n, status, admission, latency_ms: 1, backoff_ms: 0 }) as never;

  it("the routed agent gets the outcome; retries and refusals count where they happened; untried fallbacks get nothing", () => {
    const records = requestRecords(
      {
        agent: "demo",
        task: "echo",
        attempts: [
          attempt("demo", 1, "admitted"),
          attempt("demo", 2, "admitted"),
          attempt("demo", 3, "retry_budget", 0),
          attempt("custom", 1, "admitted", 200),
        ],
      },
      200,
      1234,
    );
    expect(Object.fromEntries(records)).toEqual({
      demo: { capability: "echo", outcome: { status: 200, durationMs: 1234 }, retries: 1, rejection: "retry_budget" },
    });
    expect(requestRecords({ attempts: [] }, 400, 1).size).toBe(0);
    const refusedFallback = requestRecords(
      {
        agent: "demo",
        task: "echo",
        attempts: [attempt("demo", 1, "circuit_open", 0), attempt("custom", 1, "rate_limited", 0)],
      },
      503,
      2,
    );
    expect(refusedFallback.get("custom")).toEqual({ capability: "echo", retries: 0, rejection: "rate_limited" });
    expect(refusedFallback.get("demo")?.rejection).toBe("circuit_open");
  });
});
