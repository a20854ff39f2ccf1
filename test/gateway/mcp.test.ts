/**
 * The MCP server, driven by the official MCP client (`@modelcontextprotocol/sdk`'s `Client` over its Streamable HTTP
 * transport) against the gateway in workerd, with the real agent bundles behind it: discovery filtered by scopes,
 * calls through the same path as /execute (guard, request log), agent failures as tool errors, protocol mistakes as
 * JSON-RPC errors.
 */
import { SELF, env } from "cloudflare:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LATEST_PROTOCOL_VERSION, McpError } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import type { RequestRow } from "../../workers/gateway/src/request-log/rows";
import { ADMIN_KEY, BASE, KEY, admin, pollUntil, post } from "./helpers";

/** A connected MCP client on `path` with `headers` (the test key by default). */
async function connect(path = "/mcp", headers: Record<string, string> = { "X-API-Key": KEY }) {
  const transport = new StreamableHTTPClientTransport(new URL(`${BASE}${path}`), {
    fetch: (url, init) => SELF.fetch(url, init),
    requestInit: { headers },
  });
  const client = new Client({ name: "zahara-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

/** A managed key with `scopes`; its secret. */
async function keyWith(scopes: string[]): Promise<string> {
  const res = await admin("POST", "/v1/keys", { name: "mcp-test", scopes });
  expect(res.status).toBe(201);
  return ((await res.json()) as { secret: string }).secret;
}

type ToolResult = Awaited<ReturnType<Client["callTool"]>>;

describe("MCP: discovery", () => {
  it("initializes on the newest revision, stateless (no session id), offering tools only", async () => {
    const { client, transport } = await connect();
    expect(transport.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
    expect(transport.sessionId).toBeUndefined();
    expect(client.getServerVersion()).toMatchObject({ name: "zahara-gateway" });
    expect(client.getServerCapabilities()).toEqual({ tools: { listChanged: false } });
    expect(await client.ping()).toEqual({});
    await client.close();
  });

  it("lists one tool per capability, <agent>__<capability>, with the manifest's schemas", async () => {
    const { client } = await connect();
    const { tools } = await client.listTools();
    const listed = (await (await SELF.fetch(`${BASE}/agents`, { headers: { "X-API-Key": KEY } })).json()) as {
      agents: { name: string; capabilities: { name: string; input_schema?: object; output_schema?: object }[] }[];
    };
    const expected = listed.agents.flatMap((a) => a.capabilities.map((c) => `${a.name}__${c.name}`));
    expect(tools.map((t) => t.name)).toEqual(expected);
    const summarize = tools.find((t) => t.name === "agent-demo__summarize")!;
    const manifest = listed.agents
      .find((a) => a.name === "agent-demo")!
      .capabilities.find((c) => c.name === "summarize")!;
    expect(summarize.inputSchema).toEqual(manifest.input_schema);
    expect(summarize.outputSchema).toEqual(manifest.output_schema);
    expect(summarize.description).toMatch(/Summarizes a text/);
    // chaos has no output schema in its manifest: none is announced.
    expect(tools.find((t) => t.name === "agent-demo__chaos")!.outputSchema).toBeUndefined();
  });

  it("lists only what the key's scopes allow; /agents/:agent/mcp lists one agent's tools by capability name", async () => {
    const secret = await keyWith(["agent-demo:echo", "agent-custom:*"]);
    const { client } = await connect("/mcp", { "X-API-Key": secret });
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([
      "agent-custom__classify",
      "agent-custom__echo",
      "agent-demo__echo",
    ]);
    const one = await connect("/agents/agent-demo/mcp", { Authorization: `Bearer ${secret}` });
    expect(one.client.getServerVersion()).toMatchObject({ name: "zahara-agent-demo" });
    expect((await one.client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
  });
});

describe("MCP: tools/call is a call like /execute", () => {
  it("a served call returns structuredContent (the /execute result) and the same JSON as text", async () => {
    const { client } = await connect();
    const result: ToolResult = await client.callTool({ name: "agent-demo__echo", arguments: { message: "hi", n: 1 } });
    const direct = (await (
      await post("/agents/agent-demo/execute", { task: "echo", parameters: { message: "hi", n: 1 } })
    ).json()) as { result: unknown };
    expect(result.isError).toBe(false);
    expect(result.structuredContent).toEqual(direct.result);
    expect(result.content).toEqual([{ type: "text", text: JSON.stringify(direct.result) }]);
    expect(result._meta).toMatchObject({ "zahara/agent": "agent-demo", "zahara/served_by": "agent-demo" });
    expect(result._meta?.["zahara/request_id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("an LLM capability's structured answer passes the client's own output-schema check", async () => {
    const { client } = await connect("/agents/agent-demo/mcp");
    await client.listTools(); // the client learns the output schemas it then checks results against
    const result = await client.callTool({ name: "summarize", arguments: { text: "Zahara runs agents at the edge." } });
    expect(result.isError).toBe(false);
    expect(result.structuredContent).toMatchObject({ summary: expect.any(String) });
    expect(result._meta?.["zahara/usage"]).toBeDefined();
  });

  it("an agent failure is a tool result with isError and Zahara's error, not a JSON-RPC error", async () => {
    const { client } = await connect();
    const result = await client.callTool({ name: "agent-demo__chaos", arguments: { fail_status: 404 } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    const error = result._meta?.["zahara/error"] as { code: string; status: number; request_id: string };
    expect(error).toMatchObject({ code: "CHAOS_INJECTED", status: 404 });
    expect(error.request_id).toBe(result._meta?.["zahara/request_id"]);
    const [text] = result.content as { type: string; text: string }[];
    expect(text!.text).toContain("CHAOS_INJECTED");
    expect(text!.text).toContain(error.request_id);
  });

  it("bad arguments are the agent's 400 as a tool error; an unknown tool or bad params are JSON-RPC errors", async () => {
    const { client } = await connect();
    const bad = await client.callTool({ name: "agent-demo__chaos", arguments: { fail_status: "soon" } });
    expect(bad.isError).toBe(true);
    expect((bad._meta?.["zahara/error"] as { status: number }).status).toBe(400);
    const unknown = await client.callTool({ name: "agent-demo__nope" }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(McpError);
    expect((unknown as McpError).code).toBe(-32602);
    expect((unknown as McpError).message).toMatch(/Unknown tool: agent-demo__nope/);
  });

  it("a tool outside the key's scopes is a JSON-RPC error naming the missing scope; the agent is not called", async () => {
    const secret = await keyWith(["agent-demo:echo"]);
    const { client } = await connect("/mcp", { "X-API-Key": secret });
    const refused = await client
      .callTool({ name: "agent-demo__chaos", arguments: { fail_status: 500 } })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(McpError);
    expect((refused as McpError).code).toBe(-32003);
    expect((refused as McpError).message).toMatch(/"agent-demo:chaos"/);
    expect((refused as McpError).data).toMatchObject({ code: "FORBIDDEN", status: 403, scope: "agent-demo:chaos" });
  });

  it("a missing or wrong key is a 401 with WWW-Authenticate, before any JSON-RPC", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { "X-API-Key": "not-a-key" },
      { Authorization: "Bearer not-a-key" },
    ];
    for (const headers of attempts) {
      const failed = await connect("/mcp", headers).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(StreamableHTTPError);
      expect((failed as StreamableHTTPError).code).toBe(401);
    }
    const res = await SELF.fetch(`${BASE}/mcp`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="zahara"');
  });

  it("the request log shows each MCP call like any other, with the protocol named and the call's own status", async () => {
    const { client } = await connect();
    const served = await client.callTool({ name: "agent-demo__echo", arguments: { logged: true } });
    const failed = await client.callTool({ name: "agent-demo__chaos", arguments: { fail_status: 404 } });
    const ids = [served._meta?.["zahara/request_id"], failed._meta?.["zahara/request_id"]] as string[];
    const rows = await pollUntil(
      async () =>
        (
          await env.REQUEST_LOG.prepare("SELECT * FROM requests WHERE request_id IN (?, ?)")
            .bind(...ids)
            .all<RequestRow>()
        ).results,
      (r) => r.length === 2,
      200,
      50,
    );
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect(byId.get(ids[0]!)).toMatchObject({
      protocol: "mcp",
      path: "/mcp",
      agent: "agent-demo",
      task: "echo",
      status: 200,
      code: null,
    });
    expect(byId.get(ids[1]!)).toMatchObject({
      protocol: "mcp",
      agent: "agent-demo",
      task: "chaos",
      status: 404,
      code: "CHAOS_INJECTED",
    });
    const listed = await SELF.fetch(`${BASE}/v1/requests?agent=agent-demo&limit=50`, {
      headers: { "X-API-Key": ADMIN_KEY },
    });
    const page = (await listed.json()) as { requests: { request_id: string; protocol: string | null }[] };
    expect(page.requests.find((r) => r.request_id === ids[1])?.protocol).toBe("mcp");
  });
});
