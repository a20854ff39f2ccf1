/**
 * Traces, end to end: the gateway and the agent Workers export real OTLP/HTTP
 * to local receivers (test/doubles/otlp-receiver.ts; agent-demo to the one no
 * test breaks). One trace per request from gateway to agent, with admission,
 * attempts and backoffs; and a collector that is down, slow or failing costs
 * callers nothing. What is sampled: tracing-sampling.test.ts.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { ReceivedSpan } from "../doubles/otlp-receiver";
import { configOf } from "./guards";
import { ADMIN_KEY, get, pollUntil, post } from "./helpers";
import { allSpans, descends, hex, keptAtHalf } from "./tracing-helpers";

const control = (env as unknown as { TEST_OTLP_CONTROL_URL: string }).TEST_OTLP_CONTROL_URL;

async function setMode(mode: "ok" | "fail" | "slow" | "down") {
  const res = await fetch(`${control}/mode/${mode}`, { method: "PUT" });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

/** Polls the receivers (exports happen after responses) until `done` holds for the spans of `requestId`'s trace. */
async function traceOf(requestId: string, done: (trace: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  const read = async () => {
    const all = await allSpans();
    const root = all.find((s) => s.attributes["zahara.request_id"] === requestId && s.service === "zahara-gateway");
    return root ? all.filter((s) => s.traceId === root.traceId) : [];
  };
  return pollUntil(read, (trace) => trace.length > 0 && done(trace), 150);
}

afterEach(async () => {
  await setMode("ok");
});

describe("tracing", () => {
  it("one trace per request: gateway span → admission → attempt → the agent's span, one trace id", async () => {
    const id = `trace-ok-${crypto.randomUUID()}`;
    // agent-demo keeps ordinary traces at ratio 0.5 here (vitest.config.ts), and exports to the steady receiver:
    // a trace id its ratio keeps, from the caller.
    const caller = { traceId: keptAtHalf(), spanId: hex(8) };
    const traceparent = `00-${caller.traceId}-${caller.spanId}-01`;
    const body = { task: "echo", parameters: { a: 1 } };
    const res = await post("/agents/agent-demo/execute", body, { "X-Request-Id": id, traceparent });
    expect(res.status).toBe(200);
    const trace = await traceOf(id, (t) =>
      t.some((s) => s.service === "zahara-agent-demo" && s.attributes["zahara.request_id"] === id),
    );
    const services = new Set(trace.map((s) => s.service));
    expect(services).toEqual(new Set(["zahara-gateway", "zahara-agent-demo"]));
    expect(new Set(trace.map((s) => s.traceId)).size).toBe(1);
    const root = trace.find((s) => s.service === "zahara-gateway" && !trace.some((p) => p.spanId === s.parentSpanId))!;
    expect(root.attributes).toMatchObject({ "zahara.request_id": id, "agent.id": "agent-demo", capability: "echo" });
    // The gateway continued the caller's trace.
    expect(root.traceId).toBe(caller.traceId);
    expect(root.parentSpanId).toBe(caller.spanId);
    const admission = trace.find((s) => s.name === "upstream.admission")!;
    const attempt = trace.find((s) => s.name === "upstream.attempt")!;
    expect(admission.attributes).toMatchObject({
      "agent.id": "agent-demo",
      attempt: 1,
      "admission.decision": "admitted",
      "breaker.state": "closed",
    });
    expect(attempt.attributes).toMatchObject({
      "agent.id": "agent-demo",
      attempt: 1,
      "http.response.status_code": 200,
      outcome: "success",
    });
    expect(descends(trace, admission, root)).toBe(true);
    expect(descends(trace, attempt, root)).toBe(true);
    const agentRoot = trace.find((s) => s.service === "zahara-agent-demo" && s.attributes["zahara.request_id"] === id)!;
    expect(agentRoot.attributes).toMatchObject({ "agent.id": "agent-demo", capability: "echo" });
    // The agent continued the trace from the traceparent it got over the service binding.
    expect(descends(trace, agentRoot, attempt)).toBe(true);
    // The request log row names the same trace (written after the response: poll).
    const readLogged = async (): Promise<{ trace_id?: string | null }> => {
      const r = await get(`/v1/requests/${id}`, { "X-API-Key": ADMIN_KEY });
      return r.status === 200
        ? ((await r.json()) as { requests: { trace_id?: string | null }[] }).requests[0]!
        : (await r.arrayBuffer(), {});
    };
    const logged = await pollUntil(readLogged, (l) => Boolean(l.trace_id));
    expect(logged.trace_id).toBe(root.traceId);
  });

  it("an MCP tools/call is traced like /execute, with the protocol named on the gateway's span", async () => {
    const id = `trace-mcp-${crypto.randomUUID()}`;
    const body = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "agent-custom__echo", arguments: { a: 1 } },
    };
    const res = await post("/mcp", body, { "X-Request-Id": id, Accept: "application/json, text/event-stream" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { isError: boolean } }).result.isError).toBe(false);
    const trace = await traceOf(id, (t) => t.some((s) => s.name === "upstream.attempt"));
    const root = trace.find((s) => s.service === "zahara-gateway" && !trace.some((p) => p.spanId === s.parentSpanId))!;
    expect(root.attributes).toMatchObject({
      "zahara.request_id": id,
      "agent.id": "agent-custom",
      capability: "echo",
      "zahara.protocol": "mcp",
    });
    const attempt = trace.find((s) => s.name === "upstream.attempt")!;
    expect(attempt.attributes).toMatchObject({ "agent.id": "agent-custom", outcome: "success" });
    expect(descends(trace, attempt, root)).toBe(true);
  });

  it("a streamed answer's span covers the whole stream and says how it ended", async () => {
    const id = `trace-stream-${crypto.randomUUID()}`;
    const headers = { "X-Request-Id": id, Accept: "text/event-stream" };
    const res = await post(
      "/agents/agent-custom/execute",
      { task: "classify", parameters: { ticket: "__stream_slow__ printer" } },
      headers,
    );
    expect(res.headers.get("Content-Type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text).toContain("event: done");
    const trace = await traceOf(id, (t) => t.some((s) => s.attributes["zahara.stream.end"] !== undefined));
    const root = trace.find((s) => s.service === "zahara-gateway" && s.attributes["zahara.stream.end"] !== undefined)!;
    expect(root.attributes).toMatchObject({ "zahara.stream.end": "done", "gen_ai.usage.total_tokens": 59 });
    expect(Number(root.attributes["zahara.stream.bytes"])).toBe(new TextEncoder().encode(text).byteLength);
  });

  it("failed attempts and backoffs are spans with status ERROR and their attributes", async () => {
    const id = `trace-fail-${crypto.randomUUID()}`;
    const res = await post(
      "/agents/agent-demo/execute",
      { task: "chaos", parameters: { fail_status: 503 } },
      { "X-Request-Id": id, "X-Timeout-Ms": "2500" },
    );
    expect(res.status).toBe(502);
    const trace = await traceOf(id, (t) => t.filter((s) => s.name === "upstream.attempt").length >= 2);
    const attempts = trace
      .filter((s) => s.name === "upstream.attempt")
      .sort((a, b) => Number(a.attributes.attempt) - Number(b.attributes.attempt));
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    for (const a of attempts) {
      expect(a.status?.code).toBe(2); // STATUS_CODE_ERROR
      expect(a.attributes).toMatchObject({
        "http.response.status_code": 503,
        outcome: "failure",
        "failure.kind": "http",
      });
    }
    const backoffs = trace.filter((s) => s.name === "upstream.backoff");
    expect(backoffs.length).toBe(attempts.length - 1);
    for (const b of backoffs) expect(Number(b.attributes["backoff.ms"])).toBeGreaterThanOrEqual(0);
  });

  for (const fault of ["down", "slow", "fail"] as const) {
    it(`a collector that is ${fault === "down" ? "down" : fault === "slow" ? "slow (> 10 s)" : "answering 500"} costs callers nothing`, async () => {
      await setMode(fault);
      const started = Date.now();
      // As many at once as a key's burst on agent-custom (its rate limit would refuse more, which is not what this tests).
      const burst = configOf("agent-custom").keyRateLimit?.burst ?? 20;
      const ids = Array.from({ length: burst }, (_, i) => `fault-${fault}-${i}-${crypto.randomUUID().slice(0, 8)}`);
      const results = await Promise.all(
        ids.map(async (id) => {
          const t0 = Date.now();
          const r = await post(
            "/agents/agent-custom/execute",
            { task: "echo", parameters: { id } },
            { "X-Request-Id": id },
          );
          const body = (await r.json()) as { request_id?: string };
          return {
            status: r.status,
            header: r.headers.get("X-Request-Id"),
            bodyId: body.request_id,
            ms: Date.now() - t0,
          };
        }),
      );
      // Every request answered, in full, promptly: none failed, hung or waited on the collector.
      expect(results.map((r) => r.status)).toEqual(ids.map(() => 200));
      expect(results.map((r) => r.header)).toEqual(ids);
      expect(results.map((r) => r.bodyId)).toEqual(ids);
      expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(3000);
      expect(Date.now() - started).toBeLessThan(5000);
      // And the next requests, once the collector is back, are traced again.
      await setMode("ok");
      const id = `after-${fault}-${crypto.randomUUID()}`;
      expect(
        (await post("/agents/agent-demo/execute", { task: "echo", parameters: {} }, { "X-Request-Id": id })).status,
      ).toBe(200);
      expect((await traceOf(id, (t) => t.length > 0)).length).toBeGreaterThan(0);
    }, 30_000);
  }
});
