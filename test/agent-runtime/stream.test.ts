/**
 * `POST /run` as server-sent events (Accept: text/event-stream): deltas as the
 * provider streams, one `done` or one `error` last; failures before the first
 * piece are ordinary JSON errors; every broken provider stream ends in an
 * error; the caller's deadline and its going away stop the provider call; a
 * JSON caller is unchanged; idempotent replay works across both kinds.
 */
import { describe, expect, it } from "vitest";
import type { WorkersAiBinding } from "../../workers/agent-runtime/src";
import { ZaharaError } from "../../workers/shared/errors";
import { DEADLINE_HEADER, MAX_DEADLINE_MS, parseDeadlineMs } from "../../workers/shared/deadline-header";
import { expectError, pollUntil } from "../gateway/helpers";
import { agentFrom, demoManifest } from "./helpers";
import {
  STREAM,
  deltaText,
  expectDone,
  expectErrorEvent,
  expectFailure,
  expectStreamHeaders,
  readEvents,
  streamStats,
} from "./stream-helpers";

const SUMMARY = { summary: "stub", key_points: ["stub"] };

/** agent-demo plus an LLM `chat` capability without output schema. */
const withChat = () =>
  demoManifest((m) => void m.spec.tools?.push({ type: "function", name: "chat", input_schema: { type: "object" } }));

describe("streamed LLM answers", () => {
  it("relays the provider's pieces in order, then done with the assembled result and the provider's usage", async () => {
    const res = await agentFrom(demoManifest()).run("summarize", { text: "hello" }, STREAM);
    expectStreamHeaders(res);
    const events = await readEvents(res);
    const deltas = events.filter((e) => e.event === "delta");
    // The double cuts the content into 4-character pieces; they arrive as they were sent.
    expect(deltas.length).toBeGreaterThan(5);
    for (const d of deltas) expect(Object.keys(d.data)).toEqual(["text"]);
    expect(deltaText(events)).toBe(JSON.stringify(SUMMARY));
    const done = expectDone(events);
    expect(done).toMatchObject({
      result: SUMMARY,
      task: "summarize",
      usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
    });
    expect(done.request_id).toBe(res.headers.get("X-Request-Id"));
    expect(typeof done.duration_ms).toBe("number");
    expect(done.server_timing).toMatch(/capability;.*desc="summarize \(llm\)"/);
    expect(done.server_timing).toMatch(/llm;.*desc="openai [^"]+, streamed, 59 tokens"/);
  });

  it("a provider that reports no usage → usage estimated from characters and marked estimated", async () => {
    const res = await agentFrom(withChat()).run("chat", { q: "__stream_no_usage__" }, STREAM);
    const events = await readEvents(res);
    const text = 'text answer for: {"q":"__stream_no_usage__"}';
    expect(deltaText(events)).toBe(text);
    const done = expectDone(events);
    expect(done.result).toEqual({ text });
    const usage = done.usage as {
      prompt_tokens: number;
      completion_tokens: number;
      total_tokens: number;
      estimated: boolean;
    };
    expect(usage.estimated).toBe(true);
    expect(usage.completion_tokens).toBe(Math.ceil(text.length / 4));
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it("pieces arrive as the provider sends them, not all at the end", async () => {
    const res = await agentFrom(demoManifest()).run("summarize", { text: "__stream_slow__" }, STREAM);
    const events = await readEvents(res);
    const first = events.find((e) => e.event === "delta")!;
    const done = expectDone(events);
    expect(done.result).toEqual(SUMMARY);
    // 13 writes 100 ms apart: the first piece is read long before the last.
    expect(events.at(-1)!.at - first.at).toBeGreaterThan(600);
  });

  it("runs on Workers AI with stream: true, relaying its response pieces", async () => {
    const calls: { inputs: Record<string, unknown>; options?: Record<string, unknown> }[] = [];
    const sse = (lines: string[]) => new Blob(lines.map((l) => `data: ${l}\n\n`)).stream();
    const AI: WorkersAiBinding = {
      async run(_model, inputs, options) {
        calls.push({ inputs, ...(options ? { options } : {}) });
        return sse([
          '{"response":"{\\"summary\\":"}',
          '{"response":"\\"from ai\\"}"}',
          '{"response":"","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}',
          "[DONE]",
        ]);
      },
    };
    const events = await readEvents(
      await agentFrom(demoManifest(), {}, { LLM_BACKEND: "workers-ai", AI }).run("summarize", { text: "x" }, STREAM),
    );
    expect(events.filter((e) => e.event === "delta").map((e) => e.data.text)).toEqual(['{"summary":', '"from ai"}']);
    expect(expectDone(events)).toMatchObject({ result: { summary: "from ai" }, usage: { total_tokens: 7 } });
    expect(calls[0]?.inputs.stream).toBe(true);
    expect(calls[0]?.options?.signal).toBeInstanceOf(AbortSignal);

    // Without [DONE] the answer is incomplete: an error after the pieces.
    const cut: WorkersAiBinding = { run: async () => sse(['{"response":"{\\"summary\\":"}']) };
    const res = await agentFrom(demoManifest(), {}, { LLM_BACKEND: "workers-ai", AI: cut }).run(
      "summarize",
      { text: "x" },
      STREAM,
    );
    expectErrorEvent(await readEvents(res), "LLM_PROVIDER_ERROR", 502);
  });
});

describe("failures before the first piece are JSON errors, with status and fault", () => {
  it("LLM not configured → 503 LLM_NOT_CONFIGURED, permanent", async () => {
    const res = await agentFrom(demoManifest(), {}, { LLM_BASE_URL: "", LLM_API_KEY: undefined }).run(
      "summarize",
      { text: "hi" },
      STREAM,
    );
    expect(res.headers.get("X-Zahara-Fault")).toBe("permanent");
    await expectError(res, 503, "LLM_NOT_CONFIGURED", "agent-demo");
  });

  it("provider 500 → 502 LLM_PROVIDER_ERROR (the agent's fault); 429 → 429 RATE_LIMITED with Retry-After", async () => {
    const agent = agentFrom(demoManifest());
    const failed = await agent.run("summarize", { text: "__provider_500__" }, STREAM);
    expect(failed.headers.get("X-Zahara-Fault")).toBeNull();
    await expectError(failed, 502, "LLM_PROVIDER_ERROR", "agent-demo");
    const limited = await agent.run("summarize", { text: "__provider_429__" }, STREAM);
    expect(limited.headers.get("Retry-After")).toBe("7");
    await expectError(limited, 429, "RATE_LIMITED", "agent-demo");
  });

  it("parameters against the input schema → 400 INVALID_PARAMETERS; an unknown task → 404", async () => {
    const agent = agentFrom(demoManifest());
    await expectError(await agent.run("summarize", { text: "" }, STREAM), 400, "INVALID_PARAMETERS", "agent-demo");
    await expectError(await agent.run("nope", {}, STREAM), 404, "TASK_NOT_FOUND", "agent-demo");
  });

  it("a provider that sends nothing before the timeout → 504 LLM_TIMEOUT; a code capability failing → its own status", async () => {
    const slow = await agentFrom(demoManifest(), {}, { LLM_TIMEOUT_MS: "200" }).run(
      "summarize",
      { text: "__slow__" },
      STREAM,
    );
    await expectError(slow, 504, "LLM_TIMEOUT", "agent-demo");
    await expectError(
      await agentFrom(demoManifest()).run("chaos", { fail_status: 503 }, STREAM),
      503,
      "CHAOS_INJECTED",
      "agent-demo",
    );
  });
});

describe("broken provider streams end in an error event", () => {
  it("a stall longer than LLM_TIMEOUT_MS after the first piece → LLM_TIMEOUT, and the provider connection is closed", async () => {
    const before = await streamStats();
    const res = await agentFrom(demoManifest(), {}, { LLM_TIMEOUT_MS: "300" }).run(
      "summarize",
      { text: "__stream_stall__" },
      STREAM,
    );
    expectStreamHeaders(res);
    const events = await readEvents(res);
    expect(events[0]?.event).toBe("delta");
    expectErrorEvent(events, "LLM_TIMEOUT", 504);
    expect((await pollUntil(streamStats, (s) => s.stalls_closed > before.stalls_closed)).stalls_closed).toBe(
      before.stalls_closed + 1,
    );
  });

  it("a chunk that is not JSON → LLM_PROVIDER_ERROR", async () => {
    const events = await readEvents(
      await agentFrom(demoManifest()).run("summarize", { text: "__stream_malformed__" }, STREAM),
    );
    expect(events[0]?.event).toBe("delta");
    const error = expectErrorEvent(events, "LLM_PROVIDER_ERROR", 502);
    expect(error.error).toMatch(/not JSON/);
    expect(error.fault).toBeUndefined();
  });

  it("a stream that closes without finish_reason or [DONE] → LLM_PROVIDER_ERROR", async () => {
    const events = await readEvents(
      await agentFrom(demoManifest()).run("summarize", { text: "__stream_no_done__" }, STREAM),
    );
    expect(deltaText(events)).toBe(JSON.stringify(SUMMARY));
    expect(expectErrorEvent(events, "LLM_PROVIDER_ERROR", 502).error).toMatch(/before the answer was complete/);
  });

  it("a stream over LLM_MAX_RESPONSE_BYTES → LLM_PROVIDER_ERROR, read no further than the cap", async () => {
    const before = await streamStats();
    const res = await agentFrom(demoManifest(), {}, { LLM_MAX_RESPONSE_BYTES: "65536" }).run(
      "summarize",
      { text: "__stream_huge__" },
      STREAM,
    );
    await expectFailure(res, "LLM_PROVIDER_ERROR", 502);
    const after = await pollUntil(streamStats, (s) => s.huge_cut > before.huge_cut);
    expect(after.huge_cut).toBe(before.huge_cut + 1);
    expect(after.huge_max_bytes_sent).toBeLessThan(64 * 1024 * 1024);
  });

  it("LLM output off the output schema → an LLM_BAD_OUTPUT error event, the caller's fault", async () => {
    const events = await readEvents(
      await agentFrom(demoManifest()).run("summarize", { text: "__wrong_shape__" }, STREAM),
    );
    expect(deltaText(events)).toBe('{"unexpected":true}');
    const error = expectErrorEvent(events, "LLM_BAD_OUTPUT", 502);
    expect(error.fault).toBe("caller");
    expect(error.details).toMatchObject({ fields: [{ field: "result.summary" }] });
  });
});

describe("code capabilities and plain callers", () => {
  const withTool = (name: string) =>
    demoManifest((m) => void m.spec.tools?.push({ type: "function", name, input_schema: { type: "object" } }));

  it("a capability that emits nothing (echo) → a 200 stream with a single done", async () => {
    const res = await agentFrom(demoManifest()).run("echo", { a: 1 }, STREAM);
    expectStreamHeaders(res);
    const events = await readEvents(res);
    expect(events).toHaveLength(1);
    expect(expectDone(events)).toMatchObject({ result: { a: 1 }, task: "echo" });
  });

  it("a code capability may emit text and data pieces; its result comes from its return value", async () => {
    const agent = agentFrom(withTool("steps"), {
      steps: (_p, { emit }) => {
        emit?.({ data: { step: 1 } });
        emit?.({ text: "" }); // carries nothing: not sent
        emit?.({ text: "half way" });
        return { result: { steps: 2 } };
      },
    });
    const events = await readEvents(await agent.run("steps", {}, STREAM));
    expect(events.map((e) => [e.event, e.data.text ?? e.data.data ?? e.data.result])).toEqual([
      ["delta", { step: 1 }],
      ["delta", "half way"],
      ["done", { steps: 2 }],
    ]);
  });

  it("a code capability's output off its schema → an INVALID_OUTPUT error event; a throw after a piece → its error event", async () => {
    const agent = agentFrom(
      demoManifest((m) => {
        const output_schema = { type: "object", required: ["n"], properties: { n: { type: "integer" } } };
        m.spec.tools?.push({ type: "function", name: "bad", input_schema: { type: "object" }, output_schema });
        m.spec.tools?.push({ type: "function", name: "late", input_schema: { type: "object" } });
      }),
      {
        bad: () => ({ result: { n: "not a number" } }),
        late: (_p, { emit }) => {
          emit?.({ text: "partial" });
          throw new ZaharaError("RATE_LIMITED", { headers: { "Retry-After": "3" } });
        },
      },
    );
    const invalid = expectErrorEvent(await readEvents(await agent.run("bad", {}, STREAM)), "INVALID_OUTPUT", 500);
    expect(invalid.details).toEqual({ fields: [{ field: "result.n", message: expect.any(String) }] });
    expect(invalid.fault).toBeUndefined();
    const events = await readEvents(await agent.run("late", {}, STREAM));
    expect(deltaText(events)).toBe("partial");
    expectErrorEvent(events, "RATE_LIMITED", 429);
  });

  it("a JSON caller (no Accept, or JSON preferred) is answered exactly as before", async () => {
    const agent = agentFrom(demoManifest());
    for (const accept of [
      undefined,
      "application/json",
      "application/json, text/event-stream",
      "text/event-stream;q=0.5, application/json",
    ]) {
      const res = await agent.run("summarize", { text: "__stream_slow__" }, accept ? { Accept: accept } : {});
      expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ result: SUMMARY, task: "summarize", usage: { total_tokens: 59 } });
    }
  });
});

describe("the caller's deadline (X-Zahara-Deadline-Ms)", () => {
  it("parses a positive integer of ms, caps it, and ignores anything else", () => {
    expect(DEADLINE_HEADER).toBe("X-Zahara-Deadline-Ms");
    expect(parseDeadlineMs("8500")).toBe(8500);
    expect(parseDeadlineMs(" 250 ")).toBe(250);
    expect(parseDeadlineMs("99999999999")).toBe(MAX_DEADLINE_MS);
    for (const bad of [undefined, null, "", "0", "-5", "1.5", "1e3", "soon", "0x10"])
      expect(parseDeadlineMs(bad)).toBeUndefined();
  });

  it("stops a slow stream at the deadline: an LLM_TIMEOUT error event long before the stream would end, the provider call aborted", async () => {
    const before = await streamStats();
    const started = Date.now();
    const res = await agentFrom(demoManifest()).run(
      "summarize",
      { text: "__stream_slow__" },
      { ...STREAM, [DEADLINE_HEADER]: "400" },
    );
    const events = await readEvents(res);
    const elapsed = Date.now() - started;
    expect(events[0]?.event).toBe("delta");
    expect(expectErrorEvent(events, "LLM_TIMEOUT", 504).error).toMatch(/deadline/);
    // The whole stream takes 1.3 s (13 writes 100 ms apart).
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(900);
    expect((await pollUntil(streamStats, (s) => s.slow_cut > before.slow_cut)).slow_cut).toBe(before.slow_cut + 1);
  });

  it("bounds a JSON caller's LLM call too: min(LLM_TIMEOUT_MS, deadline)", async () => {
    const started = Date.now();
    const res = await agentFrom(demoManifest()).run("summarize", { text: "__slow__" }, { [DEADLINE_HEADER]: "250" });
    await expectError(res, 504, "LLM_TIMEOUT", "agent-demo");
    expect(Date.now() - started).toBeLessThan(1500);
    // An invalid header is ignored: the LLM's own timeout applies.
    const ignored = await agentFrom(demoManifest(), {}, { LLM_TIMEOUT_MS: "150" }).run(
      "summarize",
      { text: "__slow__" },
      { [DEADLINE_HEADER]: "later" },
    );
    await expectError(ignored, 504, "LLM_TIMEOUT", "agent-demo");
  });

  it("a caller that goes away mid-stream aborts the provider call", async () => {
    const before = await streamStats();
    const res = await agentFrom(demoManifest()).run("summarize", { text: "__stream_stall__" }, STREAM);
    const events = await readEvents(res, (e) => e.event === "delta");
    expect(events).toHaveLength(1);
    // The LLM timeout is 30 s: only the cancelled stream can have closed the provider's connection this soon.
    expect((await pollUntil(streamStats, (s) => s.stalls_closed > before.stalls_closed)).stalls_closed).toBe(
      before.stalls_closed + 1,
    );
  });
});
