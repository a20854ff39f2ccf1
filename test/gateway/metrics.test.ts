/**
 * GET /metrics end to end: real traffic through the gateway to the real
 * agents, counted by each agent's UpstreamGuard after the response, then
 * scraped in Prometheus text format. Also: access control, and one agent's
 * guard failing or hanging never fails the scrape. The last full scrape is
 * written to dist/metrics-sample.prom for `npm run check:prom` (promtool).
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { UpstreamGuard } from "../../durable-objects/upstream-guard/src";
import type { GuardMetrics } from "../../durable-objects/upstream-guard/src/types";
import { COLLECT_TIMEOUT_MS } from "../../workers/gateway/src/observability/collect";
import { configOf, forceOpen, guardOf } from "./guards";
import { ADMIN_KEY, BASE, KEY, expectError, pollUntil, post } from "./helpers";

const SCRAPE_TOKEN = "test-scrape-token";

/** The settings the gateway under test uses for `agent` (GATEWAY_TIMEOUT_MS is 5000 in tests). */

const scrape = (headers: Record<string, string> = { Authorization: `Bearer ${SCRAPE_TOKEN}` }) =>
  SELF.fetch(`${BASE}/metrics`, { headers });

/** Parses the text format into `name{labels}` → value (labels in the order rendered). */
function parse(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

const requestsOf = (m: GuardMetrics) =>
  Object.values(m.counters.requests).reduce((n, byStatus) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);

/** Records land after the response (waitUntil): polls the guard (up to 3 s) until it has counted `n` requests. */
async function untilRecorded(agent: string, n: number): Promise<GuardMetrics> {
  const m = await pollUntil(
    async () => (await guardOf(agent).metrics(configOf(agent))) as GuardMetrics,
    (v) => requestsOf(v) >= n,
    150,
  );
  expect(requestsOf(m), JSON.stringify(m.counters)).toBe(n);
  return m;
}

/** Hands the scrape to Node (dist/metrics-sample.prom), for promtool in `npm run check:prom`. */
async function saveSample(text: string) {
  const sink = (env as unknown as { TEST_FILE_SINK_URL?: string }).TEST_FILE_SINK_URL;
  if (!sink) return;
  const res = await fetch(`${sink}/metrics-sample.prom`, { method: "PUT", body: text });
  expect(res.status).toBe(204);
}

type Method = "metrics" | "recordRequest";
const originals = new Map<Method, unknown>();

/** Replaces an RPC method of the live class for one agent's guard only (the prototype is shared by every instance). */
async function inject(method: Method, agent: string, impl: () => Promise<unknown>) {
  await runInDurableObject(guardOf(agent), (instance: UpstreamGuard) => {
    const proto = Object.getPrototypeOf(instance) as Record<Method, (...args: unknown[]) => unknown>;
    if (!originals.has(method)) originals.set(method, proto[method]);
    const original = originals.get(method) as (...args: unknown[]) => unknown;
    proto[method] = function (this: UpstreamGuard, ...args: unknown[]) {
      const named = (args[0] as { agent?: string } | undefined)?.agent;
      return named === agent || (method === "recordRequest" && this === instance) ? impl() : original.apply(this, args);
    };
  });
}

afterEach(async () => {
  await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
    const proto = Object.getPrototypeOf(instance) as Record<Method, unknown>;
    for (const [method, original] of originals) proto[method] = original;
  });
  originals.clear();
});

describe("GET /metrics access", () => {
  it("401 without credentials or with a wrong token, 403 with a caller key, 200 with the scrape token or an admin key", async () => {
    await expectError(await scrape({}), 401, "UNAUTHORIZED");
    await expectError(await scrape({ Authorization: "Bearer not-the-token" }), 401, "UNAUTHORIZED");
    await expectError(await scrape({ "X-API-Key": "not-a-key" }), 401, "UNAUTHORIZED");
    await expectError(await scrape({ "X-API-Key": KEY }), 403, "FORBIDDEN");
    const allowed: Record<string, string>[] = [{ Authorization: `Bearer ${SCRAPE_TOKEN}` }, { "X-API-Key": ADMIN_KEY }];
    for (const headers of allowed) {
      const res = await scrape(headers);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(await res.text()).toContain("# TYPE agent_requests_total counter");
    }
  });
});

describe("GET /metrics after real traffic", () => {
  it("counts requests by capability and status, latency, retries, rejections, breaker state and transitions, tokens", async () => {
    for (let i = 0; i < 3; i++)
      expect((await post("/agents/agent-demo/execute", { task: "echo", parameters: { i } })).status).toBe(200);
    await expectError(
      await post("/agents/agent-demo/execute", { task: "chaos", parameters: { fail_status: 404 } }),
      404,
      "CHAOS_INJECTED",
      "agent-demo",
    );
    const failed = await expectError(
      await post("/agents/agent-demo/execute", { task: "chaos", parameters: { fail_status: 500 } }),
      502,
      "UPSTREAM_FAILED",
    );
    const attempts = (failed.details?.attempts as unknown[]).length;
    expect(attempts).toBeGreaterThanOrEqual(2);
    const summarized = await post("/agents/agent-demo/execute", {
      task: "summarize",
      parameters: { text: "Zahara runs agents at the edge." },
    });
    expect(summarized.status).toBe(200);
    await untilRecorded("agent-demo", 6);
    // Forced open: chaos (only agent-demo offers it) is refused; echo falls back to agent-custom.
    await forceOpen("agent-demo", "test: metrics");
    await expectError(await post("/agents/agent-demo/execute", { task: "chaos", parameters: {} }), 503, "CIRCUIT_OPEN");
    const viaFallback = await post("/agents/agent-demo/execute", { task: "echo", parameters: {} });
    expect(((await viaFallback.json()) as { served_by: string }).served_by).toBe("agent-custom");
    expect((await post("/agents/agent-custom/execute", { task: "echo", parameters: {} })).status).toBe(200);
    await untilRecorded("agent-demo", 8);
    await untilRecorded("agent-custom", 1);

    const res = await scrape();
    expect(res.status).toBe(200);
    const text = await res.text();
    const s = parse(text);
    const demo = 'agent_id="agent-demo"';
    const custom = 'agent_id="agent-custom"';
    expect(s.get(`agent_requests_total{${demo},capability="echo",status="200"}`)).toBe(4);
    expect(s.get(`agent_requests_total{${demo},capability="chaos",status="404"}`)).toBe(1);
    expect(s.get(`agent_requests_total{${demo},capability="chaos",status="502"}`)).toBe(1);
    expect(s.get(`agent_requests_total{${demo},capability="chaos",status="503"}`)).toBe(1);
    expect(s.get(`agent_requests_total{${demo},capability="summarize",status="200"}`)).toBe(1);
    expect(s.get(`agent_requests_total{${custom},capability="echo",status="200"}`)).toBe(1);
    // Histogram: cumulative buckets ending at +Inf = _count.
    expect(s.get(`agent_request_duration_seconds_count{${demo},capability="echo"}`)).toBe(4);
    expect(s.get(`agent_request_duration_seconds_bucket{${demo},capability="echo",le="+Inf"}`)).toBe(4);
    expect(s.get(`agent_request_duration_seconds_count{${demo},capability="chaos"}`)).toBe(3);
    const chaosBuckets = [...s]
      .filter(([k]) => k.startsWith(`agent_request_duration_seconds_bucket{${demo},capability="chaos"`))
      .map(([, v]) => v);
    expect(chaosBuckets).toHaveLength(14);
    expect(chaosBuckets).toEqual([...chaosBuckets].sort((a, b) => a - b));
    expect(s.get(`agent_request_duration_seconds_sum{${demo},capability="chaos"}`)).toBeGreaterThan(0);
    // Retries of the 500 (attempts − 1); refusals on agent-demo's guard; nothing on agent-custom's.
    expect(s.get(`gateway_retries_total{${demo}}`)).toBe(attempts - 1);
    expect(s.get(`gateway_retries_total{${custom}}`)).toBe(0);
    expect(s.get(`gateway_rejections_total{${demo},reason="circuit_open"}`)).toBe(2);
    expect([...s.keys()].some((k) => k.startsWith(`gateway_rejections_total{${custom}`))).toBe(false);
    expect(s.get(`circuit_breaker_state{${demo}}`)).toBe(2);
    expect(s.get(`circuit_breaker_state{${custom}}`)).toBe(0);
    expect(s.get(`circuit_breaker_transitions_total{${demo},to="isolated"}`)).toBe(1);
    expect(s.get(`agent_tokens_used_total{${demo}}`)).toBe(59);
    expect(s.get(`agent_tokens_used_total{${custom}}`)).toBe(0);
    const remaining = s.get(`rate_limit_remaining{${demo}}`)!;
    expect(remaining).toBeGreaterThanOrEqual(40);
    expect(remaining).toBeLessThanOrEqual(50);
    expect(s.get(`agent_up{${demo}}`)).toBe(1);
    expect(s.get(`agent_up{${custom}}`)).toBe(1);
    expect(s.get(`gateway_metrics_scrape_errors{${demo}}`)).toBe(0);
    expect(s.get(`gateway_metrics_scrape_errors{${custom}}`)).toBe(0);
    await saveSample(text);
  }, 30_000);

  it("a breaker opened by failures: state 2 and one transition to open", async () => {
    for (let i = 0; i < 5; i++)
      await expectError(
        await post("/agents/agent-demo/execute", { task: "chaos", parameters: { fail_status: 501 } }),
        502,
        "UPSTREAM_FAILED",
      );
    await untilRecorded("agent-demo", 5);
    const s = await pollUntil(
      async () => parse(await (await scrape()).text()),
      (v) => v.get('circuit_breaker_state{agent_id="agent-demo"}') === 2,
    );
    expect(s.get('circuit_breaker_state{agent_id="agent-demo"}')).toBe(2);
    expect(s.get('circuit_breaker_transitions_total{agent_id="agent-demo",to="open"}')).toBe(1);
    expect(s.get('agent_requests_total{agent_id="agent-demo",capability="chaos",status="502"}')).toBe(5);
    expect(s.get('gateway_retries_total{agent_id="agent-demo"}')).toBe(0);
  });

  it("counters survive the guard being rebuilt from SQLite", async () => {
    expect((await post("/agents/agent-demo/execute", { task: "echo", parameters: {} })).status).toBe(200);
    await untilRecorded("agent-demo", 1);
    await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
      // Drop the in-memory state as an eviction would; the next call restores from storage.
      (instance as unknown as { counters: unknown }).counters = undefined;
    });
    const m = await untilRecorded("agent-demo", 1);
    expect(m.counters.latency.echo?.count).toBe(1);
  });
});

describe("GET /metrics when a guard fails", () => {
  it("an agent whose guard throws is skipped and flagged; the scrape still answers 200", async () => {
    expect((await post("/agents/agent-demo/execute", { task: "echo", parameters: {} })).status).toBe(200);
    await untilRecorded("agent-demo", 1);
    await inject("metrics", "agent-custom", async () => {
      throw new Error("storage unavailable");
    });
    const res = await scrape();
    expect(res.status).toBe(200);
    const s = parse(await res.text());
    expect(s.get('gateway_metrics_scrape_errors{agent_id="agent-custom"}')).toBe(1);
    expect(s.get('gateway_metrics_scrape_errors{agent_id="agent-demo"}')).toBe(0);
    expect(s.get('agent_requests_total{agent_id="agent-demo",capability="echo",status="200"}')).toBe(1);
    expect(
      [...s.keys()].some(
        (k) =>
          k.includes('agent_id="agent-custom"') &&
          !k.startsWith("gateway_metrics_scrape_errors") &&
          !k.startsWith("agent_up"),
      ),
    ).toBe(false);
  });

  it("an agent whose guard hangs is skipped after the collect timeout", async () => {
    await inject("metrics", "agent-custom", () => new Promise(() => {}));
    const started = Date.now();
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(COLLECT_TIMEOUT_MS + 1500);
    const s = parse(await res.text());
    expect(s.get('gateway_metrics_scrape_errors{agent_id="agent-custom"}')).toBe(1);
    expect(s.get('circuit_breaker_state{agent_id="agent-demo"}')).toBe(0);
  });

  it("a failing recordRequest never touches the response", async () => {
    await inject("recordRequest", "agent-demo", async () => {
      throw new Error("storage unavailable");
    });
    const res = await post("/agents/agent-demo/execute", { task: "echo", parameters: {} });
    expect(res.status).toBe(200);
  });
});
