/** The agent's own spans in `Server-Timing`: what each step took, on success, failure and replay. */
import { describe, expect, it } from "vitest";
import { Timings } from "../../workers/agent-runtime/src/timings";
import { type TimingEntry, parseServerTiming } from "../../workers/shared/observability/server-timing";
import { agentFrom, demoManifest } from "./helpers";

const chaosOn = () => demoManifest((m) => void (m.extensions.zahara.chaos = { enabled: true, max_delay_ms: 1000 }));
const spansOf = (res: Response) => parseServerTiming(res.headers.get("Server-Timing"));
const named = (spans: TimingEntry[], name: string) => spans.filter((s) => s.name === name);

describe("agent spans in Server-Timing", () => {
  it("an LLM capability lists the capability and the LLM call inside it, with model and tokens", async () => {
    const res = await agentFrom(demoManifest()).run("summarize", { text: "hello" });
    expect(res.status).toBe(200);
    const spans = spansOf(res);
    const [capability] = named(spans, "capability");
    const [llm] = named(spans, "llm");
    expect(capability).toMatchObject({ desc: "summarize (llm)" });
    expect(llm?.desc).toMatch(/^openai .+, 59 tokens$/);
    // The LLM call lies within the capability, which lies within the total.
    const total = named(spans, "total")[0]!;
    expect(llm!.start).toBeGreaterThanOrEqual(capability!.start);
    expect(llm!.start + llm!.dur).toBeLessThanOrEqual(capability!.start + capability!.dur);
    expect(capability!.start + capability!.dur).toBeLessThanOrEqual(total.dur);
  });

  it("a delay shows its real duration; a failure is marked failed", async () => {
    const agent = agentFrom(chaosOn());
    const slow = spansOf(await agent.run("chaos", { delay_ms: 120 }));
    expect(named(slow, "chaos")[0]).toMatchObject({ desc: "injected delay of 120 ms" });
    expect(named(slow, "chaos")[0]!.dur).toBeGreaterThanOrEqual(100);
    const failed = await agent.run("chaos", { fail_status: 503 });
    expect(failed.status).toBe(503);
    expect(named(spansOf(failed), "capability")[0]).toMatchObject({ desc: "chaos (code), failed" });
  });

  it("a slow LLM is a failed llm span as long as the timeout", async () => {
    const res = await agentFrom(demoManifest(), {}, { LLM_TIMEOUT_MS: "150" }).run("summarize", { text: "__slow__" });
    expect(res.status).toBe(504);
    const llm = named(spansOf(res), "llm")[0]!;
    expect(llm.desc).toMatch(/failed$/);
    expect(llm.dur).toBeGreaterThanOrEqual(140);
  });

  it("idempotency store calls are spans: begin then record outcome; a replay shows only the lookup", async () => {
    const agent = agentFrom(demoManifest());
    const key = { "Idempotency-Key": `st-${crypto.randomUUID()}` };
    const first = spansOf(await agent.run("echo", { n: 1 }, key));
    expect(named(first, "idempotency").map((s) => s.desc)).toEqual(["begin: new", "record outcome"]);
    const again = await agent.run("echo", { n: 1 }, key);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    const replayed = spansOf(again);
    expect(named(replayed, "idempotency").map((s) => s.desc)).toEqual(["begin: replay"]);
    expect(named(replayed, "capability")).toEqual([]);
  });

  it("custom handlers add their own steps through context.timings", async () => {
    const agent = agentFrom(
      demoManifest(
        (m) => void m.spec.tools?.push({ type: "function", name: "lookup", input_schema: { type: "object" } }),
      ),
      {
        lookup: async (_p, { timings }) => {
          await timings.measure("db", () => new Promise((r) => setTimeout(r, 30)), { desc: "orders by id" });
          return { result: { found: true } };
        },
      },
    );
    const spans = spansOf(await agent.run("lookup"));
    expect(named(spans, "db")[0]).toMatchObject({ desc: "orders by id" });
    expect(named(spans, "db")[0]!.dur).toBeGreaterThanOrEqual(25);
  });
});

describe("Timings", () => {
  it("records start and duration from its origin, sorted by start, also when the step throws", async () => {
    let t = 1000;
    const timings = new Timings(() => t);
    await timings.measure("b", async () => void (t += 5), { desc: "second" });
    timings.record("a", 1000, 2);
    await expect(timings.measure("c", async () => ((t += 3), Promise.reject(new Error("x"))))).rejects.toThrow("x");
    expect(timings.entries()).toEqual([
      { name: "b", start: 0, dur: 5, desc: "second" },
      { name: "a", start: 0, dur: 2 },
      { name: "c", start: 5, dur: 3, desc: "failed" },
    ]);
    expect(timings.elapsed()).toBe(8);
  });
});
