/** Routing by task, by agent (body or path), unknown and ambiguous; the success shape. */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../workers/gateway/src/index";
import { expectError, get, post } from "./helpers";

interface Success {
  result: unknown;
  agent: string;
  task: string;
  request_id: string;
  duration_ms: number;
  usage?: unknown;
}

describe("routing", () => {
  it("routes by task to the one agent offering it, in the success shape", async () => {
    const res = await post("/execute", { task: "chaos", parameters: {} }, { "X-Request-Id": "route-1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Request-Id")).toBe("route-1");
    const body = (await res.json()) as Success;
    expect(Object.keys(body).sort()).toEqual(["agent", "duration_ms", "request_id", "result", "served_by", "task"]);
    expect(body).toMatchObject({ agent: "agent-demo", task: "chaos", request_id: "route-1" });
    expect(body.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("routes classify to agent-custom", async () => {
    const res = await post("/execute", { task: "classify", parameters: { ticket: "I was charged twice" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Success).agent).toBe("agent-custom");
  });

  it("a task offered by two agents is ambiguous without an agent (400)", async () => {
    const body = await expectError(await post("/execute", { task: "echo", parameters: {} }), 400, "AMBIGUOUS_TASK");
    expect(body.details).toEqual({ agents: ["agent-custom", "agent-demo"] });
  });

  it("the body's agent field picks among them", async () => {
    const res = await post("/execute", { task: "echo", agent: "agent-custom", parameters: { hello: "world" } });
    const body = (await res.json()) as Success;
    expect(body).toMatchObject({ agent: "agent-custom", result: { hello: "world" } });
  });

  it("POST /agents/:agent/execute routes to the named agent", async () => {
    const res = await post("/agents/agent-demo/execute", { task: "echo", parameters: { n: [1, 2, 3] } });
    expect(res.status).toBe(200);
    expect((await res.json()) as Success).toMatchObject({
      agent: "agent-demo",
      task: "echo",
      result: { n: [1, 2, 3] },
    });
  });

  it("the path route rejects an agent field in the body", async () => {
    await expectError(
      await post("/agents/agent-demo/execute", { task: "echo", agent: "agent-custom" }),
      400,
      "INVALID_REQUEST",
    );
  });

  it("parameters default to {}", async () => {
    const res = await post("/execute", { task: "echo", agent: "agent-demo" });
    expect(((await res.json()) as Success).result).toEqual({});
  });

  it("GET /agents lists agents, capabilities and input schemas from the manifests", async () => {
    const res = await get("/agents");
    expect(res.status).toBe(200);
    const { agents } = (await res.json()) as {
      agents: { name: string; display_name: string; capabilities: { name: string; input_schema?: unknown }[] }[];
    };
    expect(agents.map((a) => a.name).sort()).toEqual(["agent-custom", "agent-demo"]);
    const demo = agents.find((a) => a.name === "agent-demo");
    expect(demo?.display_name).toBe("Zahara Demo Agent");
    expect(demo?.capabilities.map((c) => c.name)).toEqual(["echo", "chaos", "summarize"]);
    expect(demo?.capabilities.find((c) => c.name === "summarize")?.input_schema).toMatchObject({ required: ["text"] });
    expect(JSON.stringify(agents)).not.toContain("AGENT_DEMO");
    // The LLM's ${VAR:-default} references show their defaults and name the agent settings that change them.
    expect((demo as { llm?: unknown }).llm).toEqual({
      provider: "openai",
      model: "gpt-4o-mini",
      settings: ["LLM_PROVIDER", "LLM_MODEL"],
    });
    expect(JSON.stringify(agents)).not.toContain("${");
  });
});

describe("health", () => {
  it("reports version and each agent binding's own health check", async () => {
    const res = await get("/health", { "X-API-Key": "" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      version: string;
      agents: Record<string, { status: string; http_status: number }>;
    };
    expect(body.status).toBe("ok");
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.agents["agent-demo"]).toMatchObject({ status: "ok", http_status: 200 });
    expect(body.agents["agent-custom"]).toMatchObject({ status: "ok", http_status: 200 });
  });
});

describe("health when an agent is missing", () => {
  it("is still 200 but degraded, naming the unbound agent", async () => {
    const ctx = createExecutionContext();
    const { AGENT_CUSTOM: _gone, ...rest } = env;
    const res = await worker.fetch(new Request("https://gateway.test/health"), rest as Env, ctx);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; agents: Record<string, { status: string }> };
    expect(body.status).toBe("degraded");
    expect(body.agents["agent-custom"]?.status).toBe("unbound");
    expect(body.agents["agent-demo"]?.status).toBe("ok");
  });
});
