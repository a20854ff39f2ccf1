/**
 * The A2A endpoint with hand-written and fuzzed bodies the official client never sends: protocol mistakes get
 * JSON-RPC errors with the standard and A2A codes, or a 4xx; never a 500, never a stack. The client-driven
 * specification is a2a.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FUZZ, FUZZ_TIMEOUT_MS, STACK, nastyStringArb, oddValueArb } from "./fuzz-arbitraries";
import { expectError, post } from "./helpers";

function rpc(body: string, headers: Record<string, string> = {}, agent = "agent-demo"): Promise<Response> {
  return post(`/agents/${agent}/a2a`, body, headers);
}

type RpcAnswer = {
  jsonrpc: string;
  id: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
};

const call = (method: string, params?: unknown, id: unknown = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, ...(params !== undefined ? { params } : {}) });
const sendWith = (msg: Record<string, unknown>) =>
  call("SendMessage", { message: { messageId: "m-1", role: "ROLE_USER", ...msg } });
const echoData = { data: { task: "echo", parameters: {} } };

describe("A2A protocol mistakes (hand-written bodies)", () => {
  const cases: [string, string, number, Record<string, string>?][] = [
    ["malformed JSON", "{", -32700],
    ["an empty body", "", -32700],
    ["a batch", `[${call("GetTask", { id: "x" })}]`, -32600],
    ["an empty batch", "[]", -32600],
    ["a notification (no id)", JSON.stringify({ jsonrpc: "2.0", method: "GetTask", params: { id: "x" } }), -32600],
    ["jsonrpc 1.0", JSON.stringify({ jsonrpc: "1.0", id: 1, method: "GetTask" }), -32600],
    ["a huge id", call("GetTask", { id: "x" }, "i".repeat(3000)), -32600],
    ["a fractional id", call("GetTask", { id: "x" }, 1.5), -32600],
    ["an object id", call("GetTask", { id: "x" }, { a: 1 }), -32600],
    ["a numeric method", JSON.stringify({ jsonrpc: "2.0", id: 1, method: 42 }), -32600],
    ["string params", call("GetTask", "x"), -32600],
    ["array params", call("GetTask", ["x"]), -32602],
    ["an unknown method", call("tasks/list", {}), -32601],
    ["a prototype key as method", call("__proto__", {}), -32601],
    ["toString as method", call("toString", {}), -32601],
    ["SendMessage without a message", call("SendMessage", {}), -32602],
    ["no parts", sendWith({ parts: [] }), -32602],
    ["a part with nothing", sendWith({ parts: [{}] }), -32602],
    ["a part with text and data", sendWith({ parts: [{ text: "a", data: {} }] }), -32602],
    ["numeric text", sendWith({ parts: [{ text: 1 }] }), -32602],
    ["an agent's role", sendWith({ role: "ROLE_AGENT", parts: [echoData] }), -32602],
    ["an empty messageId", sendWith({ messageId: "", parts: [echoData] }), -32602],
    ["a numeric task", sendWith({ parts: [{ data: { task: 5 } }] }), -32602],
    ["array parameters", sendWith({ parts: [{ data: { task: "echo", parameters: [] } }] }), -32602],
    ["an unknown data key", sendWith({ parts: [{ data: { task: "echo", agent: "x" } }] }), -32602],
    ["null data", sendWith({ parts: [{ data: null }] }), -32602],
    ["two data parts", sendWith({ parts: [echoData, echoData] }), -32602],
    ["a data part of another media type", sendWith({ parts: [{ ...echoData, mediaType: "image/png" }] }), -32005],
    ["a file part", sendWith({ parts: [{ url: "https://example.com/f.pdf" }] }), -32005],
    [
      "a 0.3 file part",
      call("message/send", {
        message: { messageId: "m", role: "user", parts: [{ kind: "file", file: { uri: "https://x" } }] },
      }),
      -32005,
    ],
    [
      "a 0.3 part of unknown kind",
      call("message/send", { message: { messageId: "m", role: "user", parts: [{ kind: "video" }] } }),
      -32602,
    ],
    ["GetTask with a numeric id", call("GetTask", { id: 5 }), -32602],
    ["GetTask with an empty id", call("GetTask", { id: "" }), -32602],
    ["GetTask of an unknown task", call("GetTask", { id: "nope" }), -32001],
    [
      "streaming",
      call("SendStreamingMessage", { message: { messageId: "m", role: "ROLE_USER", parts: [echoData] } }),
      -32004,
    ],
    ["0.3 streaming", call("message/stream", {}), -32004],
    ["a push notification config", call("CreateTaskPushNotificationConfig", {}), -32003],
    ["ListTasks", call("ListTasks", {}), -32004],
    ["the extended card", call("GetExtendedAgentCard", {}), -32007],
    ["an unsupported A2A-Version", call("GetTask", { id: "x" }), -32009, { "A2A-Version": "9.9" }],
  ];

  it.each(cases)(
    "answers %s with a JSON-RPC error (HTTP 200), never a 500 or a stack",
    async (_name, body, code, headers) => {
      const res = await rpc(body, headers);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(text).not.toMatch(STACK);
      const answer = JSON.parse(text) as RpcAnswer;
      expect(answer.jsonrpc).toBe("2.0");
      expect(answer.error?.code, text).toBe(code);
      expect(answer.error?.message.length).toBeGreaterThan(0);
    },
  );

  it("keeps the gateway's HTTP rules: JSON only (415), the body limit (413), an unknown agent (404)", async () => {
    await expectError(
      await rpc(call("GetTask", { id: "x" }), { "Content-Type": "text/plain" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    await expectError(await rpc(sendWith({ parts: [{ text: "x".repeat(5000) }] })), 413, "PAYLOAD_TOO_LARGE");
    await expectError(await rpc(call("GetTask", { id: "x" }), {}, "agent-nope"), 404, "AGENT_NOT_FOUND");
  });
});

/** A near-valid A2A request: odd ids, methods and params. */
const requestArb = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant("2.0"), oddValueArb),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 300 }), oddValueArb),
    method: fc.oneof(
      fc.constantFrom("SendMessage", "GetTask", "CancelTask", "message/send", "tasks/get", "tasks/cancel", "x"),
      nastyStringArb,
      oddValueArb,
    ),
    params: fc.oneof(
      fc.record({
        message: fc.oneof(
          fc.record(
            {
              messageId: fc.oneof(fc.string(), oddValueArb),
              role: fc.constantFrom("ROLE_USER", "user", 1, "x"),
              parts: fc.oneof(
                fc.array(
                  fc.oneof(
                    fc.constant(echoData),
                    fc.record({ text: oddValueArb }),
                    fc.record({ kind: fc.constantFrom("text", "data", "file"), data: oddValueArb }),
                    oddValueArb,
                  ),
                  { maxLength: 3 },
                ),
                oddValueArb,
              ),
            },
            { requiredKeys: [] },
          ),
          oddValueArb,
        ),
      }),
      fc.record({ id: fc.oneof(fc.uuid(), nastyStringArb, oddValueArb) }),
      oddValueArb,
    ),
  },
  { requiredKeys: [] },
);

describe("A2A fuzz", () => {
  it(
    "any body is a JSON-RPC answer (HTTP 200) or a 4xx: never a 500, never a stack",
    async () => {
      const bodyArb = fc.oneof(
        requestArb.map((r) => JSON.stringify(r)),
        fc.array(requestArb, { maxLength: 3 }).map((b) => JSON.stringify(b)),
        fc.string({ maxLength: 200 }),
      );
      await fc.assert(
        fc.asyncProperty(bodyArb, fc.constantFrom(undefined, "1.0", "0.3", "2"), async (body, version) => {
          const res = await rpc(body, version ? { "A2A-Version": version } : {});
          const text = await res.text();
          const context = `${res.status} ${text.slice(0, 300)}`;
          expect([200, 413, 429], context).toContain(res.status);
          expect(text, context).not.toMatch(STACK);
          const answer = JSON.parse(text) as RpcAnswer & { code?: string };
          if (res.status !== 200) {
            expect(typeof answer.code, context).toBe("string");
            return;
          }
          expect(answer.jsonrpc, context).toBe("2.0");
          expect("result" in answer !== "error" in answer, context).toBe(true);
          if (answer.error) expect(answer.error.code, context).not.toBe(-32603);
        }),
        { ...FUZZ, numRuns: 120 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
