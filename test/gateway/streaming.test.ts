/**
 * Streaming end to end, in workerd: a caller asking `Accept: text/event-stream` gets agent-demo's `summarize`
 * streamed from the OpenAI-compatible double through the real agent and the gateway. Specified here: the events,
 * what happens before and after the first byte, every broken stream ending in one clean `error` event, the
 * caller leaving, and what the guard, the request log and the double saw at the end.
 */
import { SELF, createExecutionContext, env, runInDurableObject } from "cloudflare:test";
import type { UpstreamGuard } from "../../durable-objects/upstream-guard/src";
import { describe, expect, it } from "vitest";
import worker from "../../workers/gateway/src/index";
import type { RequestRow } from "../../workers/gateway/src/request-log/rows";
import { SseParser } from "../../workers/shared/http/sse";
import { configOf, guardOf } from "./guards";
import { BASE, KEY, expectError, pollUntil } from "./helpers";

type Event = { event: string; data: Record<string, unknown> };

function streamRequest(
  task: string,
  parameters: Record<string, unknown>,
  requestId = `stream-${crypto.randomUUID()}`,
): Request {
  return new Request(`${BASE}/agents/agent-demo/execute`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-API-Key": KEY,
      Accept: "text/event-stream",
      "X-Request-Id": requestId,
    },
    body: JSON.stringify({ task, parameters }),
  });
}

/** Reads a streamed answer to its end (or `limit` events), recording when each event arrived. */
async function events(
  res: Response,
  limit = Infinity,
): Promise<{ events: Event[]; at: number[]; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const parser = new SseParser();
  const out: Event[] = [];
  const at: number[] = [];
  const decoder = new TextDecoder();
  while (out.length < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const e of parser.push(decoder.decode(value, { stream: true }))) {
      out.push({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> });
      at.push(Date.now());
    }
  }
  return { events: out, at, reader };
}

/** The request-log row of `requestId` (written when the stream ended). */
function loggedRow(requestId: string): Promise<RequestRow | undefined> {
  return pollUntil(
    async () =>
      (await env.REQUEST_LOG.prepare("SELECT * FROM requests WHERE request_id = ?")
        .bind(requestId)
        .first<RequestRow>()) ?? undefined,
    (row) => row !== undefined,
    200,
    50,
  );
}

/** How the double's streams went. */
async function streamStats(): Promise<Record<string, number>> {
  return (await (await fetch(`${env.TEST_LLM_URL}/v1/__stream_stats__`)).json()) as Record<string, number>;
}

const summarize = (text: string) => ({ text });

describe("streaming: the contract", () => {
  it("deltas arrive as the provider sends them; done carries the assembled result, usage, served_by and the request id", async () => {
    const id = `stream-ok-${crypto.randomUUID()}`;
    const res = await SELF.fetch(streamRequest("summarize", summarize("__stream_slow__ Zahara runs agents."), id));
    expect(res.headers.get("X-Request-Id")).toBe(id);
    const { events: got, at } = await events(res);
    const deltas = got.filter((e) => e.event === "delta");
    expect(deltas.length).toBeGreaterThan(3);
    expect(got.map((e) => e.event).slice(-1)).toEqual(["done"]);
    const done = got.at(-1)!.data;
    // The pieces are the model's answer as it streamed; done has it assembled and checked against the schema.
    expect(JSON.parse(deltas.map((d) => d.data.text).join(""))).toEqual(done.result);
    expect(done).toMatchObject({
      agent: "agent-demo",
      served_by: "agent-demo",
      task: "summarize",
      request_id: id,
      usage: { total_tokens: 59 },
    });
    // Tokens one by one: the double sends a piece every 100 ms, and they are not held back until the end.
    expect(at.at(-1)! - at[0]!).toBeGreaterThan(300);
    const row = await loggedRow(id);
    expect(row).toMatchObject({ status: 200, code: null, protocol: "http", tokens: 59, task: "summarize" });
    expect(row!.ttfb_ms).toBeGreaterThan(0);
    expect(row!.bytes_out).toBeGreaterThan(100);
  });

  it("a capability that cannot stream answers a streaming caller with one done event", async () => {
    const { events: got } = await events(await SELF.fetch(streamRequest("echo", { hello: "stream" })));
    expect(got).toEqual([
      { event: "done", data: expect.objectContaining({ result: { hello: "stream" }, served_by: "agent-demo" }) },
    ]);
  });

  it("a failure before the first event is an ordinary error answer (status, JSON), retried as usual", async () => {
    await expectError(
      await SELF.fetch(streamRequest("chaos", { fail_status: 404 })),
      404,
      "CHAOS_INJECTED",
      "agent-demo",
    );
    await expectError(await SELF.fetch(streamRequest("summarize", {})), 400, "INVALID_PARAMETERS", "agent-demo");
  });
});

describe("streaming: broken streams end in one error event", () => {
  it("a provider stream that breaks mid-way: an error event, counted against the breaker", async () => {
    const snapshot = () => guardOf("agent-demo").snapshot(configOf("agent-demo"));
    const before = (await snapshot()).breaker.consecutiveFailures;
    const id = `stream-broken-${crypto.randomUUID()}`;
    const { events: got } = await events(
      await SELF.fetch(streamRequest("summarize", summarize("__stream_malformed__"), id)),
    );
    expect(got.map((e) => e.event)).toEqual(["delta", "error"]);
    expect(got[1]!.data).toMatchObject({
      code: "UPSTREAM_FAILED",
      request_id: id,
      service: "gateway",
      details: { agent_code: "LLM_PROVIDER_ERROR" },
    });
    await pollUntil(snapshot, (s) => s.breaker.consecutiveFailures > before, 100, 50);
    expect(await loggedRow(id)).toMatchObject({ status: 502, code: "UPSTREAM_FAILED" });
    await guardOf("agent-demo").resetAll();
  });

  it("a stalled stream ends after STREAM_IDLE_TIMEOUT_MS with a 504 error event, and the abort reaches the provider", async () => {
    const closed = (await streamStats()).stalls_closed ?? 0;
    const started = Date.now();
    const id = `stream-stall-${crypto.randomUUID()}`;
    const { events: got } = await events(
      await SELF.fetch(streamRequest("summarize", summarize("__stream_stall__"), id)),
    );
    expect(got.map((e) => e.event)).toEqual(["delta", "error"]);
    expect(got[1]!.data).toMatchObject({ code: "UPSTREAM_TIMEOUT", details: { idle_timeout_ms: 1500 } });
    expect(Date.now() - started).toBeLessThan(5000);
    await pollUntil(streamStats, (s) => (s.stalls_closed ?? 0) > closed, 100, 50);
    expect(await loggedRow(id)).toMatchObject({ status: 504, code: "UPSTREAM_TIMEOUT" });
    await guardOf("agent-demo").resetAll();
  });

  it("a stream over MAX_RESPONSE_BYTES ends in an error event naming the cap; the provider's stream is cut", async () => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      streamRequest("summarize", summarize("__stream_huge__")),
      { ...env, MAX_RESPONSE_BYTES: "65536" },
      ctx,
    );
    const { events: got } = await events(res);
    expect(got.at(-1)).toMatchObject({
      event: "error",
      data: { code: "UPSTREAM_FAILED", details: { max_response_bytes: 65536 } },
    });
    expect(got.filter((e) => e.event === "error")).toHaveLength(1);
    await pollUntil(streamStats, (s) => (s.huge_cut ?? 0) > 0, 100, 50);
    await guardOf("agent-demo").resetAll();
  });
});

describe("streaming: the caller leaves", () => {
  it("cancelling mid-stream aborts the agent and its provider call; the call is logged 499 and settled", async () => {
    const cut = (await streamStats()).slow_cut ?? 0;
    const id = `stream-gone-${crypto.randomUUID()}`;
    const { reader } = await events(
      await SELF.fetch(streamRequest("summarize", summarize("__stream_slow__ bye"), id)),
      2,
    );
    await reader.cancel();
    await pollUntil(streamStats, (s) => (s.slow_cut ?? 0) > cut, 100, 50);
    expect(await loggedRow(id)).toMatchObject({ status: 499 });
    // Settled: nothing of this call is held by the agent's guard.
    await pollUntil(
      () => guardOf("agent-demo").snapshot(configOf("agent-demo")),
      (s) => s.breaker.consecutiveFailures === 0,
      20,
      50,
    );
  });
});

describe("streaming: side systems failing mid-stream", () => {
  it("the guard throwing and the trace collector down while a stream runs: the caller still gets every piece and done", async () => {
    const control = (env as unknown as { TEST_OTLP_CONTROL_URL: string }).TEST_OTLP_CONTROL_URL;
    const id = `stream-faults-${crypto.randomUUID()}`;
    const res = await SELF.fetch(streamRequest("summarize", summarize("__stream_slow__ faults"), id));
    const first = await events(res, 1);
    // Mid-stream: the agent's guard starts throwing (overloaded) and the collector refuses connections.
    let original: unknown;
    await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
      const proto = Object.getPrototypeOf(instance) as { exchange: unknown };
      original = proto.exchange;
      proto.exchange = async () => {
        throw Object.assign(new Error("Durable Object is overloaded"), { overloaded: true });
      };
    });
    await (await fetch(`${control}/mode/down`, { method: "PUT" })).arrayBuffer();
    try {
      const parser = new SseParser();
      const rest: string[] = [];
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await first.reader.read();
        if (done) break;
        for (const e of parser.push(decoder.decode(value, { stream: true }))) rest.push(e.event);
      }
      expect(rest.at(-1)).toBe("done");
      expect(rest.filter((e) => e === "error")).toEqual([]);
      expect(await loggedRow(id)).toMatchObject({ status: 200, tokens: 59 });
    } finally {
      await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
        (Object.getPrototypeOf(instance) as { exchange: unknown }).exchange = original;
      });
      await (await fetch(`${control}/mode/ok`, { method: "PUT" })).arrayBuffer();
    }
  });
});
