/**
 * `spec.constraints.cost.maxTokensPerRequest` enforced on LLM calls, against the OpenAI-compatible double: the
 * provider's `max_tokens` is capped, and an ask over the limit (the `max_tokens` parameter, else the manifest's
 * `spec.llm.maxTokens`) is 400 TOKEN_LIMIT_EXCEEDED before the provider is called, streaming or not.
 */
import { describe, expect, it } from "vitest";
import type { ZaharaAgentManifest } from "../../workers/shared/manifest";
import { expectError } from "../gateway/helpers";
import { agentFrom, demoManifest, llmRequests } from "./helpers";
import { STREAM, readEvents } from "./stream-helpers";

/** agent-demo with a free-form `chat` capability, `maxTokensPerRequest: limit` and `spec.llm.maxTokens: llmMax`. */
function limitedAgent(limit: number, llmMax?: number) {
  return agentFrom(
    demoManifest((m: ZaharaAgentManifest) => {
      m.spec.tools?.push({ type: "function", name: "chat", input_schema: { type: "object" } });
      m.spec.constraints = { ...m.spec.constraints, cost: { ...m.spec.constraints?.cost, maxTokensPerRequest: limit } };
      if (m.spec.llm) {
        if (llmMax === undefined) delete m.spec.llm.maxTokens;
        else m.spec.llm.maxTokens = llmMax;
      }
    }),
  );
}

/** The `max_tokens` of each completion request the double received whose user message holds `marker`. */
async function sentMaxTokens(marker: string): Promise<(number | undefined)[]> {
  return (await llmRequests(marker)).map((r) => r.max_tokens);
}

const marker = () => `m-${crypto.randomUUID()}`;

describe("maxTokensPerRequest", () => {
  it("caps the provider's max_tokens when nothing asks", async () => {
    const m = marker();
    const res = await limitedAgent(100).run("chat", { q: m });
    expect(res.status).toBe(200);
    expect(await sentMaxTokens(m)).toEqual([100]);
  });

  it("sends the manifest's spec.llm.maxTokens when within the limit", async () => {
    const m = marker();
    expect((await limitedAgent(1000, 512).run("chat", { q: m })).status).toBe(200);
    expect(await sentMaxTokens(m)).toEqual([512]);
  });

  it("a max_tokens parameter within the limit is what the provider gets", async () => {
    const m = marker();
    expect((await limitedAgent(100, 80).run("chat", { q: m, max_tokens: 50 })).status).toBe(200);
    expect(await sentMaxTokens(m)).toEqual([50]);
  });

  it("a max_tokens parameter over the limit → 400 TOKEN_LIMIT_EXCEEDED; the provider is not called", async () => {
    const m = marker();
    const res = await limitedAgent(100).run("chat", { q: m, max_tokens: 500 });
    expect(res.headers.get("X-Zahara-Fault")).toBeNull();
    const body = await expectError(res, 400, "TOKEN_LIMIT_EXCEEDED", "agent-demo");
    expect(body.details).toEqual({ max_tokens: 500, max_tokens_per_request: 100, asked_by: "parameters" });
    expect(await sentMaxTokens(m)).toEqual([]);
  });

  it("a manifest whose spec.llm.maxTokens is over its own limit → 400, marked as a setting (permanent)", async () => {
    const m = marker();
    const res = await limitedAgent(100, 512).run("chat", { q: m });
    expect(res.headers.get("X-Zahara-Fault")).toBe("permanent");
    const body = await expectError(res, 400, "TOKEN_LIMIT_EXCEEDED", "agent-demo");
    expect(body.details).toMatchObject({ max_tokens: 512, asked_by: "manifest" });
    expect(await sentMaxTokens(m)).toEqual([]);
  });

  it("streaming: the cap is sent, and an ask over it is a JSON 400 before any event", async () => {
    const m = marker();
    const ok = await limitedAgent(100).run("chat", { q: m }, STREAM);
    expect((await readEvents(ok)).at(-1)?.event).toBe("done");
    expect(await sentMaxTokens(m)).toEqual([100]);
    const over = await limitedAgent(100).run("chat", { q: m, max_tokens: 101 }, STREAM);
    await expectError(over, 400, "TOKEN_LIMIT_EXCEEDED", "agent-demo");
  });

  it("Workers AI gets the same cap", async () => {
    const calls: Record<string, unknown>[] = [];
    const AI = {
      async run(_model: string, inputs: Record<string, unknown>) {
        calls.push(inputs);
        return { response: "ok" };
      },
    };
    const manifest = demoManifest((m) => {
      m.spec.tools?.push({ type: "function", name: "chat", input_schema: { type: "object" } });
      m.spec.constraints = { ...m.spec.constraints, cost: { maxTokensPerRequest: 64 } };
    });
    const agent = agentFrom(manifest, {}, { LLM_BACKEND: "workers-ai", AI });
    expect((await agent.run("chat", { q: "x", max_tokens: 32 })).status).toBe(200);
    expect(calls.at(-1)?.max_tokens).toBe(32);
    await expectError(await agent.run("chat", { q: "x" }), 400, "TOKEN_LIMIT_EXCEEDED", "agent-demo");
  });
});
