/** POST /run: request-id echo, input and output schemas from the manifest, the error shape. */
import { SELF, createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../workers/agent-demo/src/index";
import { expectError } from "../gateway/helpers";
import { agentFrom, demoManifest } from "./helpers";

function run(task: string, parameters: unknown, headers: Record<string, string> = {}) {
  return SELF.fetch("https://agent.test/run", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ task, parameters }),
  });
}

describe("agent runtime /run", () => {
  it("runs echo and echoes X-Request-Id in header and body", async () => {
    const res = await run("echo", { a: 1 }, { "X-Request-Id": "agent-req-1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Request-Id")).toBe("agent-req-1");
    expect(await res.json()).toMatchObject({ result: { a: 1 }, task: "echo", request_id: "agent-req-1" });
  });

  it("GET /health answers with the agent's capabilities", async () => {
    const res = await SELF.fetch("https://agent.test/health");
    expect(await res.json()).toMatchObject({
      status: "ok",
      agent: "agent-demo",
      capabilities: ["echo", "chaos", "summarize"],
    });
  });

  it("validates parameters against the capability's input schema, naming each field", async () => {
    const body = await expectError(
      await run("summarize", { text: "", extra: 1 }),
      400,
      "INVALID_PARAMETERS",
      "agent-demo",
    );
    const fields = (body.details?.fields as { field: string }[]).map((f) => f.field).sort();
    expect(fields).toEqual(["parameters.extra", "parameters.text"]);
  });

  it("unknown task is 404 TASK_NOT_FOUND listing what exists", async () => {
    const body = await expectError(await run("nope", {}), 404, "TASK_NOT_FOUND", "agent-demo");
    expect(body.details).toEqual({ available: ["echo", "chaos", "summarize"] });
  });

  it("parameters must be an object", async () => {
    await expectError(await run("echo", [1, 2]), 400, "INVALID_REQUEST", "agent-demo");
  });

  it("415 and 413 and 405 in the same shape", async () => {
    const text = await SELF.fetch("https://agent.test/run", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "x",
    });
    await expectError(text, 415, "UNSUPPORTED_MEDIA_TYPE", "agent-demo");
    const big = await run("echo", { big: "x".repeat(5000) });
    await expectError(big, 413, "PAYLOAD_TOO_LARGE", "agent-demo");
    const get = await SELF.fetch("https://agent.test/run");
    await expectError(get, 405, "METHOD_NOT_ALLOWED", "agent-demo");
  });

  it("checks a code handler's result against the output schema (500 INVALID_OUTPUT)", async () => {
    const manifest = demoManifest((m) => {
      m.spec.tools?.push({
        type: "function",
        name: "broken",
        input_schema: { type: "object" },
        output_schema: { type: "object", required: ["n"], properties: { n: { type: "integer" } } },
      });
    });
    const agent = agentFrom(manifest, { broken: () => ({ result: { n: "not a number" } }) });
    const body = await expectError(await agent.run("broken"), 500, "INVALID_OUTPUT", "agent-demo");
    expect(body.details).toEqual({ fields: [{ field: "result.n", message: expect.any(String) }] });
  });

  it("refuses to build a Worker whose capability has no handler and no LLM", () => {
    const manifest = demoManifest((m) => {
      delete m.spec.llm;
    });
    expect(() => agentFrom(manifest)).toThrow(/summarize.*no handler/);
  });

  it("refuses a handler for a capability the manifest does not declare", () => {
    expect(() => agentFrom(demoManifest(), { undeclared: () => ({ result: 1 }) })).toThrow(/undeclared/);
  });
});

describe("agent runtime in local development", () => {
  it("answers only loopback and internal host names (DNS rebinding), any host once deployed", async () => {
    const dev = { ZAHARA_ENV: "development", DEV_ALLOWED_HOSTS: "" };
    const call = (url: string, vars: Record<string, string>) =>
      worker.fetch!(new Request(url), { ...env, ...vars } as never, createExecutionContext());
    await expectError(await call("http://evil.example:3001/health", dev), 403, "FORBIDDEN", "agent-demo");
    for (const ok of [
      "http://localhost:3001/health",
      "http://127.0.0.1:3001/health",
      "https://agent-demo.agent.internal/health",
    ]) {
      expect((await call(ok, dev)).status).toBe(200);
    }
    expect((await call("http://evil.example:3001/health", { ZAHARA_ENV: "production" })).status).toBe(200);
  });
});
