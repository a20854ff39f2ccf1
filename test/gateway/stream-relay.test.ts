/**
 * The gateway's stream relay (calls/stream-relay.ts) on its own, fed event streams as an agent sends them: what
 * the caller receives, how the attempt is settled (breaker outcome, tokens) and that the agent's call is aborted,
 * for every way a stream can end. End-to-end streaming through the real agents is in streaming.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { AttemptOutcome } from "../../durable-objects/upstream-guard/src/types";
import { type StreamEnd, relayStream } from "../../workers/gateway/src/calls/stream-relay";
import { SseParser, encodeEvent } from "../../workers/shared/http/sse";

const encoder = new TextEncoder();

/** An agent's body: `parts` (text, or a pause in ms), then closed unless `open`. */
function agentBody(
  parts: (string | number)[],
  open = false,
): { body: ReadableStream<Uint8Array>; pulls: () => number } {
  let i = 0;
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        pulls++;
        for (;;) {
          const part = parts[i++];
          if (part === undefined) {
            if (!open) controller.close();
            else await new Promise(() => {});
            return;
          }
          if (typeof part === "number") await new Promise((r) => setTimeout(r, part));
          else return controller.enqueue(encoder.encode(part));
        }
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulls: () => pulls };
}

/** Relays `parts`; returns the caller's events, how it ended, how it was settled and whether the agent was aborted. */
async function relay(
  parts: (string | number)[],
  opts: { open?: boolean; idleTimeoutMs?: number; maxBytes?: number; readEvents?: number } = {},
) {
  const { body, pulls } = agentBody(parts, opts.open);
  const settled: { outcome: AttemptOutcome; tokens: number }[] = [];
  let aborted = 0;
  let ended: StreamEnd | undefined;
  const out = relayStream({
    attempt: { body, abort: () => void aborted++, settle: (outcome, tokens) => void settled.push({ outcome, tokens }) },
    agent: "agent-demo",
    servedBy: "agent-demo",
    task: "summarize",
    requestId: "req-1",
    startedAt: Date.now(),
    idleTimeoutMs: opts.idleTimeoutMs ?? 2000,
    endsAt: Date.now() + 10_000,
    maxBytes: opts.maxBytes ?? 1 << 20,
    onEnd: (end) => void (ended = end),
  });
  const reader = out.getReader();
  const parser = new SseParser();
  const events: { event: string; data: Record<string, unknown> }[] = [];
  while (opts.readEvents === undefined || events.length < opts.readEvents) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const e of parser.push(new TextDecoder().decode(value)))
      events.push({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> });
  }
  return { events, ended: () => ended, settled, aborted: () => aborted, reader, pulls };
}

const delta = (text: string) => encodeEvent("delta", { text });
const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

describe("stream relay", () => {
  it("relays deltas as they come and a done with the gateway's fields; settles a success with the usage", async () => {
    const done = encodeEvent("done", { result: { summary: "ab" }, usage, request_id: "agent-side", duration_ms: 3 });
    const r = await relay([delta("a"), 5, delta("b") + ": comment\n\n" + done]);
    expect(r.events.map((e) => e.event)).toEqual(["delta", "delta", "done"]);
    expect(r.events[0]!.data).toEqual({ text: "a" });
    expect(r.events[2]!.data).toMatchObject({
      result: { summary: "ab" },
      usage,
      agent: "agent-demo",
      served_by: "agent-demo",
      task: "summarize",
      request_id: "req-1",
    });
    expect(r.settled).toEqual([{ outcome: "success", tokens: 15 }]);
    expect(r.ended()).toMatchObject({ reason: "done", status: 200, tokens: 15 });
    expect(r.ended()!.bytes).toBeGreaterThan(0);
    expect(r.ended()!.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(r.aborted()).toBe(1);
  });

  it("an agent's 5xx error event is UPSTREAM_FAILED and a failure; marked as the caller's or a setting's, neutral", async () => {
    const failed = await relay([
      delta("a"),
      encodeEvent("error", {
        error: "boom",
        code: "LLM_PROVIDER_ERROR",
        status: 502,
        request_id: "x",
        duration_ms: 1,
        service: "agent-demo",
      }),
    ]);
    expect(failed.events.at(-1)).toMatchObject({
      event: "error",
      data: {
        code: "UPSTREAM_FAILED",
        request_id: "req-1",
        service: "gateway",
        details: { agent_code: "LLM_PROVIDER_ERROR", agent_status: 502 },
      },
    });
    expect(failed.settled).toEqual([{ outcome: "failure", tokens: 0 }]);
    expect(failed.ended()).toMatchObject({ reason: "error", status: 502, code: "UPSTREAM_FAILED" });
    const caller = await relay([
      delta("a"),
      encodeEvent("error", {
        error: "bad",
        code: "LLM_BAD_OUTPUT",
        status: 502,
        fault: "caller",
        request_id: "x",
        duration_ms: 1,
        service: "agent-demo",
      }),
    ]);
    expect(caller.settled).toEqual([{ outcome: "neutral", tokens: 0 }]);
    const fourxx = await relay([
      encodeEvent("error", {
        error: "no",
        code: "INVALID_PARAMETERS",
        status: 400,
        request_id: "x",
        duration_ms: 1,
        service: "agent-demo",
      }),
    ]);
    expect(fourxx.events).toEqual([
      {
        event: "error",
        data: expect.objectContaining({ code: "INVALID_PARAMETERS", service: "agent-demo", request_id: "req-1" }),
      },
    ]);
    expect(fourxx.settled).toEqual([{ outcome: "neutral", tokens: 0 }]);
  });

  it("a stall past the idle timeout is a 504 error event, a failure, and the agent's call is aborted", async () => {
    const r = await relay([delta("a")], { open: true, idleTimeoutMs: 100 });
    expect(r.events.map((e) => e.event)).toEqual(["delta", "error"]);
    expect(r.events[1]!.data).toMatchObject({ code: "UPSTREAM_TIMEOUT", details: { idle_timeout_ms: 100 } });
    expect(r.settled).toEqual([{ outcome: "failure", tokens: 0 }]);
    expect(r.ended()).toMatchObject({ reason: "idle", status: 504 });
    expect(r.aborted()).toBe(1);
  });

  it("a stream that closes without done, sends a malformed event, or goes past the size cap ends in one error event", async () => {
    const truncated = await relay([delta("a")]);
    expect(truncated.events.at(-1)).toMatchObject({ event: "error", data: { code: "UPSTREAM_FAILED" } });
    expect(truncated.ended()!.reason).toBe("truncated");
    const malformed = await relay([delta("a"), "event: delta\ndata: {not json\n\n", delta("never")]);
    expect(malformed.events.map((e) => e.event)).toEqual(["delta", "error"]);
    expect(malformed.ended()!.reason).toBe("malformed");
    const huge = await relay([delta("x".repeat(600)), delta("y".repeat(600))], { maxBytes: 1000 });
    expect(huge.events.map((e) => e.event)).toEqual(["delta", "error"]);
    expect(huge.events[1]!.data).toMatchObject({ code: "UPSTREAM_FAILED", details: { max_response_bytes: 1000 } });
    for (const r of [truncated, malformed, huge]) expect(r.settled).toEqual([{ outcome: "failure", tokens: 0 }]);
  });

  it("a caller who leaves aborts the agent's call and settles it as neutral with status 499", async () => {
    const r = await relay([delta("a"), delta("b")], { open: true, readEvents: 1 });
    await r.reader.cancel();
    expect(r.aborted()).toBe(1);
    expect(r.settled).toEqual([{ outcome: "neutral", tokens: 0 }]);
    expect(r.ended()).toMatchObject({ reason: "cancelled", status: 499 });
  });

  it("reads the agent only as fast as the caller: one event taken, at most two chunks pulled of thousands", async () => {
    const parts = Array.from({ length: 5000 }, (_, i) => delta(`piece ${i} `));
    const r = await relay(parts, { readEvents: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.pulls()).toBeLessThanOrEqual(2);
    await r.reader.cancel();
  });
});
