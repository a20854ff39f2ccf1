/**
 * Idempotency-Key on a streamed `/run`: a stored answer replays as a stream of
 * one `done` event (and as JSON to a JSON caller, whichever kind stored it);
 * an `error` event is recorded as the error response would be (5xx: not kept,
 * a retry runs again); a caller that goes away gives the key back.
 */
import { describe, expect, it } from "vitest";
import type { CapabilityHandler } from "../../workers/agent-runtime/src";
import { ZaharaError } from "../../workers/shared/errors";
import { pollUntil } from "../gateway/helpers";
import { agentFrom, demoManifest } from "./helpers";
import { STREAM, expectDone, expectErrorEvent, expectStreamHeaders, readEvents } from "./stream-helpers";

const key = (label: string) => ({ "Idempotency-Key": `${label}-${crypto.randomUUID()}` });

/** agent-demo plus a `count` capability: `handler` gets the call number. */
function counting(handler: (calls: number, emit: ((p: { text: string }) => void) | undefined) => unknown) {
  const state = { calls: 0 };
  const count: CapabilityHandler = (_p, { emit }) => ({ result: handler(++state.calls, emit) });
  const manifest = demoManifest(
    (m) => void m.spec.tools?.push({ type: "function", name: "count", input_schema: { type: "object" } }),
  );
  return { state, agent: agentFrom(manifest, { count }) };
}

describe("idempotent streamed /run", () => {
  it("a streamed answer is stored; a retry replays it as one done event, a JSON retry as the JSON answer", async () => {
    const { state, agent } = counting((calls, emit) => {
      emit?.({ text: "working" });
      return { calls };
    });
    const k = key("stream-store");
    const first = await agent.run("count", {}, { ...STREAM, ...k });
    expectStreamHeaders(first);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const firstDone = expectDone(await readEvents(first));
    const { server_timing, ...answer } = firstDone;
    expect(server_timing).toMatch(/idempotency;.*desc="record outcome"/);

    const again = await agent.run("count", {}, { ...STREAM, ...k });
    expectStreamHeaders(again);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    const replayed = await readEvents(again);
    expect(replayed).toHaveLength(1);
    expect(expectDone(replayed)).toEqual(answer);

    const json = await agent.run("count", {}, k);
    expect(json.headers.get("Idempotent-Replayed")).toBe("true");
    expect(json.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await json.json()).toEqual(answer);
    expect(state.calls).toBe(1);
  });

  it("a JSON answer is replayed to a streaming caller as one done event", async () => {
    const { state, agent } = counting((calls) => ({ calls }));
    const k = key("json-store");
    const first = await agent.run("count", {}, k);
    const body = (await first.json()) as Record<string, unknown>;
    const replayed = await readEvents(await agent.run("count", {}, { ...STREAM, ...k }));
    expect(replayed).toHaveLength(1);
    expect(expectDone(replayed)).toEqual(body);
    expect(state.calls).toBe(1);
  });

  it("an error event with a 5xx is not stored: the retry runs again", async () => {
    const { state, agent } = counting((calls, emit) => {
      emit?.({ text: "partial" });
      if (calls === 1) throw new ZaharaError("UPSTREAM_FAILED");
      return { calls };
    });
    const k = key("stream-5xx");
    expectErrorEvent(await readEvents(await agent.run("count", {}, { ...STREAM, ...k })), "UPSTREAM_FAILED", 502);
    const retry = await agent.run("count", {}, { ...STREAM, ...k });
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    expect(expectDone(await readEvents(retry))).toMatchObject({ result: { calls: 2 } });
    expect(state.calls).toBe(2);
  });

  it("an error event with a storable 4xx is stored and replayed as that JSON error", async () => {
    const { state, agent } = counting((_calls, emit) => {
      emit?.({ text: "partial" });
      throw new ZaharaError("INVALID_PARAMETERS", { message: "n is odd" });
    });
    const k = key("stream-4xx");
    const error = expectErrorEvent(
      await readEvents(await agent.run("count", {}, { ...STREAM, ...k })),
      "INVALID_PARAMETERS",
      400,
    );
    const retry = await agent.run("count", {}, { ...STREAM, ...k });
    expect(retry.status).toBe(400);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    const { status: _status, fault: _fault, ...shape } = error;
    expect(await retry.json()).toEqual(shape);
    expect(state.calls).toBe(1);
  });

  it("a caller that goes away mid-stream gives the key back: the retry runs", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const manifest = demoManifest(
      (m) => void m.spec.tools?.push({ type: "function", name: "wait", input_schema: { type: "object" } }),
    );
    const state = { calls: 0 };
    const agent = agentFrom(manifest, {
      wait: async (_p, { emit, signal }) => {
        state.calls++;
        emit?.({ text: "started" });
        await Promise.race([gate, new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }))]);
        return { result: { calls: state.calls } };
      },
    });
    const k = key("stream-gone");
    const first = await agent.run("wait", {}, { ...STREAM, ...k });
    await readEvents(first, (e) => e.event === "delta");
    release();
    // The key is given back by a store call behind the cancel: a retry that beats it is told 409, as any duplicate.
    const retry = await pollUntil(
      async () => agent.run("wait", {}, { ...STREAM, ...k }),
      (r) => r.status !== 409,
    );
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    expect(expectDone(await readEvents(retry))).toMatchObject({ result: { calls: 2 } });
  });
});
