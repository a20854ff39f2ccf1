/** LLM-backed capabilities through the gateway, against the local OpenAI-compatible server. */
import { describe, expect, it } from "vitest";
import { expectError, post } from "./helpers";

describe("LLM capabilities end to end", () => {
  it("summarize returns the schema-valid answer and token usage", async () => {
    const res = await post("/execute", { task: "summarize", parameters: { text: "Zahara runs agents at the edge." } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { summary: string }; usage: unknown; agent: string };
    expect(body.agent).toBe("agent-demo");
    expect(typeof body.result.summary).toBe("string");
    expect(body.usage).toEqual({ prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 });
  });

  it("uses the manifest's role as the system prompt", async () => {
    const res = await post("/execute", { task: "classify", parameters: { ticket: "__echo_prompt__" } });
    const body = (await res.json()) as { result: { reason: string } };
    expect(body.result.reason).toContain("support-ticket triage assistant");
    expect(body.result.reason).toContain('"classify"');
  });

  it("a malformed model answer is the agent's own 502 LLM_BAD_OUTPUT (marked the caller's: relayed, not wrapped)", async () => {
    await expectError(
      await post("/execute", { task: "summarize", parameters: { text: "__malformed__" } }),
      502,
      "LLM_BAD_OUTPUT",
      "agent-demo",
    );
  });

  it("an answer missing required fields fails the output schema", async () => {
    const body = await expectError(
      await post("/execute", { task: "summarize", parameters: { text: "__wrong_shape__" } }),
      502,
      "LLM_BAD_OUTPUT",
      "agent-demo",
    );
    expect(JSON.stringify(body.details)).toContain("result.summary");
  });

  it("a provider 500 is a 502 with LLM_PROVIDER_ERROR", async () => {
    const body = await expectError(
      await post("/execute", { task: "summarize", parameters: { text: "__provider_500__" } }),
      502,
      "UPSTREAM_FAILED",
    );
    expect(body.details).toMatchObject({ agent_code: "LLM_PROVIDER_ERROR", agent_details: { provider_status: 500 } });
  });

  it("a provider 429 is relayed as 429 with its Retry-After", async () => {
    const res = await post("/execute", { task: "summarize", parameters: { text: "__provider_429__" } });
    expect(res.headers.get("Retry-After")).toBe("7");
    await expectError(res, 429, "RATE_LIMITED", "agent-demo");
  });
});
