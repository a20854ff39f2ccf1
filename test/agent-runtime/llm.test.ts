/** LLM-backed capabilities against the local OpenAI-compatible server; configuration and provider failures. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WorkersAiBinding } from "../../workers/agent-runtime/src";
import { resolveEnvRef } from "../../workers/agent-runtime/src/llm/config";
import { expectError, pollUntil } from "../gateway/helpers";
import { agentFrom, demoManifest } from "./helpers";

describe("LLM capability", () => {
  it("returns the schema-checked answer with token usage", async () => {
    const res = await agentFrom(demoManifest()).run("summarize", { text: "hello" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      result: { summary: "stub", key_points: ["stub"] },
      usage: { total_tokens: 59 },
    });
  });

  it("not configured → 503 LLM_NOT_CONFIGURED, not a crash", async () => {
    const agent = agentFrom(demoManifest(), {}, { LLM_BASE_URL: "", LLM_API_KEY: undefined });
    const res = await agent.run("summarize", { text: "hi" });
    // A setting, not a transient fault: the gateway neither retries it nor counts it against the breaker.
    expect(res.headers.get("X-Zahara-Fault")).toBe("permanent");
    const body = await expectError(res, 503, "LLM_NOT_CONFIGURED", "agent-demo");
    expect(body.error).toMatch(/LLM_BASE_URL/);
  });

  it("rejected credentials → 502 LLM_PROVIDER_ERROR without the key or the provider's text", async () => {
    const agent = agentFrom(demoManifest(), {}, { LLM_API_KEY: "sk-wrong-key-for-test" });
    const res = await agent.run("summarize", { text: "hi" });
    const text = await res.clone().text();
    expect(res.headers.get("X-Zahara-Fault")).toBe("permanent");
    const body = await expectError(res, 502, "LLM_PROVIDER_ERROR", "agent-demo");
    expect(body.error).toMatch(/rejected the credentials \(HTTP 401\)/);
    expect(text).not.toContain("sk-wrong");
    expect(text).not.toContain("Incorrect API key");
  });

  it("an unreachable provider → 502 LLM_PROVIDER_ERROR, the agent's fault (no X-Zahara-Fault)", async () => {
    const agent = agentFrom(demoManifest(), {}, { LLM_BASE_URL: "http://127.0.0.1:9/v1" });
    const res = await agent.run("summarize", { text: "hi" });
    expect(res.headers.get("X-Zahara-Fault")).toBeNull();
    await expectError(res, 502, "LLM_PROVIDER_ERROR", "agent-demo");
  });

  it("output the input drove off the schema → 502 LLM_BAD_OUTPUT marked as the caller's fault", async () => {
    const res = await agentFrom(demoManifest()).run("summarize", { text: "__wrong_shape__" });
    expect(res.headers.get("X-Zahara-Fault")).toBe("caller");
    await expectError(res, 502, "LLM_BAD_OUTPUT", "agent-demo");
  });

  it("a slow provider → 504 LLM_TIMEOUT after LLM_TIMEOUT_MS", async () => {
    const agent = agentFrom(demoManifest(), {}, { LLM_TIMEOUT_MS: "200" });
    await expectError(await agent.run("summarize", { text: "__slow__" }), 504, "LLM_TIMEOUT", "agent-demo");
  });

  it("a provider answer over LLM_MAX_RESPONSE_BYTES → 502 LLM_PROVIDER_ERROR, read no further than the cap", async () => {
    const stats = async () =>
      (await (await fetch(`${env.LLM_BASE_URL}/__huge_stats__`)).json()) as {
        started: number;
        cut: number;
        completed: number;
        max_bytes_sent: number;
      };
    const before = await stats();
    const agent = agentFrom(demoManifest(), {}, { LLM_MAX_RESPONSE_BYTES: "65536" });
    const res = await agent.run("summarize", { text: "__huge__" });
    const text = await res.clone().text();
    const body = await expectError(res, 502, "LLM_PROVIDER_ERROR", "agent-demo");
    expect(body.error).toMatch(/sent a response over 65536 bytes$/);
    expect(body.details).toEqual({ max_response_bytes: 65536 });
    // The provider's body is never relayed.
    expect(text).not.toContain("xxxx");
    // The double (64 MiB offered, written as fast as it is read) saw the connection cut before the end.
    const after = await pollUntil(stats, (s) => s.cut > before.cut);
    expect(after.started).toBe(before.started + 1);
    expect(after.cut).toBe(before.cut + 1);
    expect(after.completed).toBe(before.completed);
    expect(after.max_bytes_sent).toBeLessThan(64 * 1024 * 1024);
  });

  it("a capability without output schema returns the text", async () => {
    const manifest = demoManifest(
      (m) => void m.spec.tools?.push({ type: "function", name: "chat", input_schema: { type: "object" } }),
    );
    const res = await agentFrom(manifest).run("chat", { q: "hi" });
    expect(await res.json()).toMatchObject({ result: { text: 'text answer for: {"q":"hi"}' } });
  });

  it("runs on Workers AI when LLM_BACKEND=workers-ai and an AI binding is present", async () => {
    const calls: { model: string; inputs: Record<string, unknown> }[] = [];
    const AI: WorkersAiBinding = {
      async run(model, inputs) {
        calls.push({ model, inputs });
        return {
          response: { summary: "from workers ai" },
          usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
        };
      },
    };
    const res = await agentFrom(demoManifest(), {}, { LLM_BACKEND: "workers-ai", AI }).run("summarize", { text: "x" });
    expect(await res.json()).toMatchObject({ result: { summary: "from workers ai" }, usage: { total_tokens: 7 } });
    expect(calls[0]?.model).toBe("@cf/meta/llama-3.1-8b-instruct");
    const noBinding = agentFrom(demoManifest(), {}, { LLM_BACKEND: "workers-ai", AI: undefined });
    await expectError(await noBinding.run("summarize", { text: "x" }), 503, "LLM_NOT_CONFIGURED", "agent-demo");
  });

  it("resolves ${VAR:-default} manifest references from the env", () => {
    expect(resolveEnvRef("${LLM_MODEL:-gpt-4o-mini}", {})).toBe("gpt-4o-mini");
    expect(resolveEnvRef("${LLM_MODEL:-gpt-4o-mini}", { LLM_MODEL: "llama3" })).toBe("llama3");
    expect(resolveEnvRef("plain", { plain: "x" })).toBe("plain");
  });
});
