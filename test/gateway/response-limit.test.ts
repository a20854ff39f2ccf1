/**
 * MAX_RESPONSE_BYTES: an agent's answer is read with a cap, while streaming.
 * The real gateway and agent-demo (its `echo` of ~1 KiB parameters) under a
 * 512-byte cap set per call as an env override, so other tests keep the default.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callAgent } from "../../workers/gateway/src/dispatch";
import worker from "../../workers/gateway/src/index";
import { MANIFESTS } from "../../workers/generated";
import { agentInfo } from "../../workers/shared/agents";
import { configOf, guardOf } from "./guards";
import { BASE, KEY, expectError, pollUntil } from "./helpers";

const CAP = 512;
const PAYLOAD = "z".repeat(1024);

function executeEcho(maxResponseBytes: string) {
  const ctx = createExecutionContext();
  const req = new Request(`${BASE}/agents/agent-demo/execute`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": KEY },
    body: JSON.stringify({ task: "echo", parameters: { payload: PAYLOAD } }),
  });
  return { ctx, res: worker.fetch(req, { ...env, MAX_RESPONSE_BYTES: maxResponseBytes }, ctx) };
}

describe("agent response limit", () => {
  it("an agent answer over MAX_RESPONSE_BYTES is a 502 UPSTREAM_FAILED after a single attempt, counted as a breaker failure", async () => {
    const snapshot = () => guardOf("agent-demo").snapshot(configOf("agent-demo"));
    const before = (await snapshot()).breaker.consecutiveFailures;
    const { ctx, res } = executeEcho(String(CAP));
    const response = await res;
    const text = await response.clone().text();
    const body = await expectError(response, 502, "UPSTREAM_FAILED");
    expect(body.error).toBe(`The response of agent "agent-demo" exceeded ${CAP} bytes`);
    expect(body.details).toMatchObject({ agent: "agent-demo", agent_status: 200, max_response_bytes: CAP });
    // Not retried and no fallback: one attempt, on agent-demo.
    const attempts = body.details?.attempts as { agent: string; attempt: number; code: string }[];
    expect(attempts).toEqual([expect.objectContaining({ agent: "agent-demo", attempt: 1, code: "UPSTREAM_FAILED" })]);
    // Nothing of the agent's answer is relayed.
    expect(text).not.toContain("zzzz");
    await waitOnExecutionContext(ctx);
    const after = await pollUntil(snapshot, (s) => s.breaker.consecutiveFailures > before);
    expect(after.breaker.consecutiveFailures).toBe(before + 1);
  });

  it("an agent answer within MAX_RESPONSE_BYTES is served", async () => {
    const { ctx, res } = executeEcho("8192");
    const response = await res;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { result: unknown }).result).toMatchObject({ payload: PAYLOAD });
    await waitOnExecutionContext(ctx);
  });

  it("stops reading an undeclared-length agent answer as soon as it passes the cap", async () => {
    // An agent answering a body of 1024 × 1 KiB without Content-Length; counts the chunks read.
    const state = { pulled: 0 };
    const chunk = new TextEncoder().encode("x".repeat(1024));
    const binding = {
      fetch: async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              if (state.pulled >= 1024) return controller.close();
              state.pulled++;
              controller.enqueue(chunk);
            },
          }),
          { status: 200, headers: { "Content-Type": "application/json" } },
        ),
    } as unknown as Fetcher;
    const manifest = MANIFESTS.find((m) => m.metadata.name === "agent-demo");
    if (!manifest) throw new Error("agent-demo missing");
    const agent = agentInfo(manifest);
    const result = await callAgent({
      agent,
      binding,
      task: "echo",
      parameters: {},
      requestId: "req-limit",
      attempt: 1,
      timeoutMs: 5000,
      maxResponseBytes: 4096,
    });
    expect(result).toMatchObject({ ok: false, kind: "oversize", status: 502 });
    if (result.ok) return;
    expect(result.error.code).toBe("UPSTREAM_FAILED");
    expect(result.error.details).toEqual({ agent: "agent-demo", agent_status: 200, max_response_bytes: 4096 });
    // The fifth 1 KiB chunk crosses 4 KiB; allow one chunk of read-ahead.
    expect(state.pulled).toBeLessThanOrEqual(4096 / 1024 + 2);
  });
});
