/** Every gateway status code, each in the exact error shape. */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { onError } from "../../workers/shared/http/error-handler";
import { requestContext } from "../../workers/shared/http/request-context";
import worker from "../../workers/gateway/src/index";
import { BASE, expectError, get, post } from "./helpers";

describe("400 bad request", () => {
  it("rejects a body that is not JSON (INVALID_JSON)", async () => {
    await expectError(await post("/execute", "{not json"), 400, "INVALID_JSON");
  });

  it("rejects an empty body", async () => {
    const body = await expectError(await post("/execute", ""), 400, "INVALID_JSON");
    expect(body.error).toMatch(/empty/);
  });

  it("names each bad field in details.fields", async () => {
    const body = await expectError(
      await post("/execute", { task: 7, parameters: [1], extra: true }),
      400,
      "INVALID_REQUEST",
    );
    const fields = (body.details?.fields as { field: string }[]).map((f) => f.field).sort();
    expect(fields).toEqual(["extra", "parameters", "task"]);
  });

  it("requires a task", async () => {
    const body = await expectError(await post("/execute", { parameters: {} }), 400, "INVALID_REQUEST");
    expect(body.details?.fields).toEqual([{ field: "task", message: expect.any(String) }]);
  });

  it("rejects a malformed X-Timeout-Ms", async () => {
    await expectError(await post("/execute", { task: "chaos" }, { "X-Timeout-Ms": "soon" }), 400, "INVALID_HEADER");
  });

  it("relays the agent's parameter validation, naming each field (service = agent)", async () => {
    const res = await post("/execute", { task: "summarize", parameters: { text: 5, max_sentences: 99 } });
    const body = await expectError(res, 400, "INVALID_PARAMETERS", "agent-demo");
    const fields = (body.details?.fields as { field: string }[]).map((f) => f.field).sort();
    expect(fields).toEqual(["parameters.max_sentences", "parameters.text"]);
  });
});

describe("401 unauthorized", () => {
  it("rejects a missing key", async () => {
    const res = await SELF.fetch(`${BASE}/execute`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    const body = await expectError(res, 401, "UNAUTHORIZED");
    expect(body.error).toMatch(/X-API-Key/);
  });

  it("rejects a wrong key without echoing it", async () => {
    const res = await post("/execute", { task: "echo" }, { "X-API-Key": "wrong-key-abc123" });
    const body = await expectError(res, 401, "UNAUTHORIZED");
    expect(JSON.stringify(body)).not.toContain("wrong-key-abc123");
  });
});

describe("404 not found", () => {
  it("unknown route", async () => {
    await expectError(await get("/nope"), 404, "NOT_FOUND");
  });

  it("unknown agent in the path", async () => {
    await expectError(await post("/agents/ghost/execute", { task: "echo" }), 404, "AGENT_NOT_FOUND");
  });

  it("unknown agent in the body", async () => {
    await expectError(await post("/execute", { task: "echo", agent: "ghost" }), 404, "AGENT_NOT_FOUND");
  });

  it("task no agent offers", async () => {
    const body = await expectError(await post("/execute", { task: "fly" }), 404, "TASK_NOT_FOUND");
    expect(body.details?.available).toEqual(expect.arrayContaining(["echo", "chaos", "summarize", "classify"]));
  });

  it("task the named agent does not offer", async () => {
    await expectError(await post("/agents/agent-custom/execute", { task: "chaos" }), 404, "TASK_NOT_FOUND");
  });
});

describe("405 method not allowed", () => {
  it("GET /execute lists the allowed methods", async () => {
    const res = await get("/execute");
    expect(res.headers.get("Allow")).toBe("OPTIONS, POST");
    await expectError(res, 405, "METHOD_NOT_ALLOWED");
  });

  it("DELETE /health", async () => {
    const res = await SELF.fetch(`${BASE}/health`, { method: "DELETE" });
    expect(res.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    await expectError(res, 405, "METHOD_NOT_ALLOWED");
  });
});

describe("415 unsupported media type", () => {
  it("rejects a non-JSON content type", async () => {
    await expectError(
      await post("/execute", "task=echo", { "Content-Type": "application/x-www-form-urlencoded" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
  });

  it("rejects a missing content type", async () => {
    const res = await SELF.fetch(`${BASE}/execute`, {
      method: "POST",
      headers: { "X-API-Key": "test-key-primary" },
      body: new Blob(["{}"]),
    });
    await expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("accepts application/json with a charset and +json types", async () => {
    expect(
      (await post("/execute", { task: "chaos" }, { "Content-Type": "application/json; charset=utf-8" })).status,
    ).toBe(200);
    expect((await post("/execute", { task: "chaos" }, { "Content-Type": "application/vnd.api+json" })).status).toBe(
      200,
    );
  });
});

describe("500 internal error", () => {
  it("an unexpected exception becomes 500 INTERNAL_ERROR with no stack and no secret", async () => {
    // The gateway's own onError, on an app wired like the gateway, with a handler that crashes.
    const app = new Hono();
    const lines: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
    app.use(requestContext({ service: "gateway", secrets: () => ["test-key-primary"] }));
    app.get("/crash", () => {
      throw new TypeError(`boom with ${env.GATEWAY_API_KEYS}`);
    });
    app.onError(onError);
    const res = await app.request("/crash", { headers: { "X-Request-Id": "crash-1" } });
    const body = await expectError(res, 500, "INTERNAL_ERROR");
    expect(body.request_id).toBe("crash-1");
    expect(JSON.stringify(body)).not.toContain("boom");
    expect(JSON.stringify(body)).not.toContain("test-key-primary");
    spy.mockRestore();
    // The cause is logged server-side, with the secret redacted.
    expect(lines.join("\n")).toContain("boom with [REDACTED]");
    expect(lines.join("\n")).not.toContain("test-key-primary");
  });

  it("a service binding that throws is 502 UPSTREAM_UNREACHABLE, not a leaked exception", async () => {
    const brokenEnv = {
      ...env,
      AGENT_DEMO: {
        fetch: () => {
          throw new TypeError(`boom ${env.GATEWAY_API_KEYS}`);
        },
      },
    };
    const ctx = createExecutionContext();
    const req = new Request(`${BASE}/execute`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": "test-key-primary" },
      body: JSON.stringify({ task: "chaos" }),
    });
    const res = await worker.fetch(req, brokenEnv as unknown as Env, ctx);
    const body = await expectError(res, 502, "UPSTREAM_UNREACHABLE");
    expect(JSON.stringify(body)).not.toContain("test-key-primary");
    expect(JSON.stringify(body)).not.toContain("boom");
  });
});
