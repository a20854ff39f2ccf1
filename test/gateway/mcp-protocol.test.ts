/**
 * The MCP endpoint's transport rules, with hand-written requests (what the official client never sends): the
 * revision header, batches (2025-03-26 only), notifications, GET and DELETE, Origin, the body limit and Content-Type,
 * and a fuzz of malformed JSON-RPC. Whatever arrives: a JSON-RPC answer or a 4xx, never a 500, never a stack.
 */
import { SELF, env } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FUZZ, FUZZ_TIMEOUT_MS, STACK, nastyKeyArb, nastyStringArb, oddValueArb } from "./fuzz-arbitraries";
import { BASE, KEY, admin, expectError } from "./helpers";

/** POSTs `body` (text) to `path` as JSON with the test key and `headers`. */
function rpc(body: string, headers: Record<string, string> = {}, path = "/mcp"): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "X-API-Key": KEY,
      ...headers,
    },
    body,
  });
}

type RpcAnswer = {
  jsonrpc: string;
  id: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
};

async function answerOf(res: Response): Promise<RpcAnswer> {
  return (await res.json()) as RpcAnswer;
}

const call = (id: number, method: string, params?: unknown) => ({
  jsonrpc: "2.0",
  id,
  method,
  ...(params !== undefined ? { params } : {}),
});

describe("MCP transport", () => {
  it("negotiates: a supported revision is echoed, an unknown one gets the newest", async () => {
    for (const [asked, served] of [
      ["2024-11-05", "2024-11-05"],
      ["2025-03-26", "2025-03-26"],
      ["1999-01-01", "2025-11-25"],
    ]) {
      const res = await rpc(
        JSON.stringify(
          call(1, "initialize", { protocolVersion: asked, capabilities: {}, clientInfo: { name: "t", version: "1" } }),
        ),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get("Mcp-Session-Id")).toBeNull();
      expect((await answerOf(res)).result).toMatchObject({ protocolVersion: served, capabilities: { tools: {} } });
    }
  });

  it("refuses a request speaking an unsupported MCP-Protocol-Version with 400", async () => {
    const res = await rpc(JSON.stringify(call(1, "ping")), { "MCP-Protocol-Version": "2030-01-01" });
    expect(res.status).toBe(400);
    expect((await answerOf(res)).error).toMatchObject({ code: -32600, message: expect.stringContaining("2030-01-01") });
  });

  it("notifications and client responses are 202 with no body", async () => {
    for (const body of [
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 7, result: {} },
    ]) {
      const res = await rpc(JSON.stringify(body), { "MCP-Protocol-Version": "2025-11-25" });
      expect(res.status).toBe(202);
      expect(await res.text()).toBe("");
    }
  });

  it("serves batches on 2025-03-26 (calls in order, notifications unanswered) and refuses them on later revisions", async () => {
    const batch = [
      call(1, "tools/call", { name: "agent-demo__echo", arguments: { n: 1 } }),
      { jsonrpc: "2.0", method: "notifications/initialized" },
      call(2, "tools/call", { name: "agent-demo__chaos", arguments: { fail_status: 404 } }),
      call(3, "nope/nope"),
      call(4, "initialize", { protocolVersion: "2025-03-26" }),
    ];
    const res = await rpc(JSON.stringify(batch), { "MCP-Protocol-Version": "2025-03-26" });
    expect(res.status).toBe(200);
    const answers = (await res.json()) as RpcAnswer[];
    expect(answers.map((a) => a.id)).toEqual([1, 2, 3, 4]);
    expect(answers[0]!.result).toMatchObject({ isError: false, structuredContent: { n: 1 } });
    expect(answers[1]!.result).toMatchObject({ isError: true });
    expect(answers[2]!.error?.code).toBe(-32601);
    expect(answers[3]!.error).toMatchObject({ code: -32600, message: expect.stringMatching(/initialize/) });
    const later = await rpc(JSON.stringify([call(1, "ping")]), { "MCP-Protocol-Version": "2025-06-18" });
    expect(later.status).toBe(400);
    expect((await answerOf(later)).error?.code).toBe(-32600);
    expect((await rpc("[]")).status).toBe(400);
  });

  it("GET and DELETE are 405 with Allow: POST (no server-initiated stream, no session)", async () => {
    for (const method of ["GET", "DELETE"]) {
      for (const path of ["/mcp", "/agents/agent-demo/mcp"]) {
        const res = await SELF.fetch(`${BASE}${path}`, {
          method,
          headers: { "X-API-Key": KEY, Accept: "text/event-stream" },
        });
        await expectError(res, 405, "METHOD_NOT_ALLOWED");
        expect(res.headers.get("Allow")).toMatch(/^(OPTIONS, )?POST$/);
      }
    }
  });

  it("keeps the gateway's HTTP rules: Origin outside CORS_ORIGINS 403, JSON only 415, body limit 413, unknown agent 404", async () => {
    await expectError(await rpc(JSON.stringify(call(1, "ping")), { Origin: "https://evil.example" }), 403, "FORBIDDEN");
    expect((await rpc(JSON.stringify(call(1, "ping")), { Origin: "https://dash.example.com" })).status).toBe(200);
    await expectError(
      await rpc(JSON.stringify(call(1, "ping")), { "Content-Type": "text/plain" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    const huge = JSON.stringify(
      call(1, "tools/call", { name: "agent-demo__echo", arguments: { pad: "x".repeat(Number(env.MAX_BODY_BYTES)) } }),
    );
    await expectError(await rpc(huge), 413, "PAYLOAD_TOO_LARGE");
    await expectError(await rpc(JSON.stringify(call(1, "ping")), {}, "/agents/ghost/mcp"), 404, "AGENT_NOT_FOUND");
    // A scoped key learns only the agents it may call from the 404.
    const scoped = await admin("POST", "/v1/keys", { name: "mcp-404", scopes: ["agent-custom:echo"] });
    const { secret } = (await scoped.json()) as { secret: string };
    const body = await expectError(
      await rpc(JSON.stringify(call(1, "ping")), { "X-API-Key": secret }, "/agents/ghost/mcp"),
      404,
      "AGENT_NOT_FOUND",
    );
    expect(body.details).toEqual({ available: ["agent-custom"] });
  });

  it("answers malformed JSON-RPC with the standard codes", async () => {
    const cases: [string, number, number][] = [
      ["{not json", 400, -32700],
      ['"a string"', 400, -32600],
      ['{"jsonrpc":"1.0","id":1,"method":"ping"}', 400, -32600],
      [`{"jsonrpc":"2.0","id":"${"i".repeat(300)}","method":"ping"}`, 400, -32600],
      ['{"jsonrpc":"2.0","id":1.5,"method":"ping"}', 400, -32600],
      ['{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1]}', 200, -32602],
      ['{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"x"}}', 200, -32602],
      ['{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}', 200, -32602],
      [
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"agent-demo__echo","arguments":[]}}',
        200,
        -32602,
      ],
      ['{"jsonrpc":"2.0","id":1,"method":"resources/list"}', 200, -32601],
      ['{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}', 200, -32602],
    ];
    for (const [body, status, code] of cases) {
      const res = await rpc(body);
      expect(res.status, body.slice(0, 80)).toBe(status);
      expect((await answerOf(res)).error?.code, body.slice(0, 80)).toBe(code);
    }
  });
});

/** A near-valid JSON-RPC message: odd ids, methods and params. */
const messageArb = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant("2.0"), oddValueArb),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 300 }), fc.constant(2 ** 60), oddValueArb),
    method: fc.oneof(
      fc.constantFrom("initialize", "ping", "tools/list", "tools/call", "notifications/initialized", "x"),
      nastyStringArb,
      oddValueArb,
    ),
    params: fc.oneof(
      fc.record({
        name: fc.oneof(fc.constantFrom("agent-demo__echo", "agent-demo__chaos", "echo"), nastyStringArb, oddValueArb),
        arguments: fc.oneof(fc.dictionary(nastyKeyArb, oddValueArb), oddValueArb),
      }),
      fc.record({ protocolVersion: fc.oneof(fc.constantFrom("2025-11-25", "2024-11-05"), nastyStringArb) }),
      oddValueArb,
    ),
  },
  { requiredKeys: [] },
);

describe("MCP fuzz", () => {
  it(
    "any body (messages, batches, junk) is a JSON-RPC answer, a 202 or a 4xx: never a 500, never a stack",
    async () => {
      const bodyArb = fc.oneof(
        messageArb.map((m) => JSON.stringify(m)),
        fc.array(messageArb, { maxLength: 4 }).map((b) => JSON.stringify(b)),
        fc.string({ maxLength: 200 }),
      );
      const versionArb = fc.constantFrom(undefined, "2025-03-26", "2025-11-25");
      await fc.assert(
        fc.asyncProperty(
          bodyArb,
          versionArb,
          fc.constantFrom("/mcp", "/agents/agent-demo/mcp"),
          async (body, version, path) => {
            const res = await rpc(body, version ? { "MCP-Protocol-Version": version } : {}, path);
            const text = await res.text();
            const context = `${res.status} ${text.slice(0, 300)}`;
            expect([200, 202, 400, 413, 429], context).toContain(res.status);
            expect(text, context).not.toMatch(STACK);
            if (res.status === 202) {
              expect(text, context).toBe("");
              return;
            }
            const parsed = JSON.parse(text) as unknown;
            for (const answer of Array.isArray(parsed) ? parsed : [parsed]) {
              const a = answer as RpcAnswer & { code?: string };
              if (res.status === 413 || res.status === 429) expect(typeof a.code, context).toBe("string");
              else {
                expect(a.jsonrpc, context).toBe("2.0");
                expect("result" in a !== "error" in a, context).toBe(true);
                if (a.error)
                  expect(a.error.code === -32003 || (a.error.code <= -32600 && a.error.code >= -32700), context).toBe(
                    true,
                  );
              }
            }
          },
        ),
        { ...FUZZ, numRuns: 120 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
