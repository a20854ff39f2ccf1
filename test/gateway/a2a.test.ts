/**
 * A2A through the gateway, with the real @a2a-js/sdk client (1.0, and its 0.3
 * transport) against the real gateway, agents and D1: the public agent card,
 * a message as a call (completed or failed task, never a JSON-RPC error for a
 * failed call), tasks read back by their sender only, and the request log.
 * Bodies the client never sends are in a2a-protocol.test.ts.
 */
import { SELF } from "cloudflare:test";
import { Role, TaskState, type AgentCard, type Message, type Part, type Task } from "@a2a-js/sdk";
import { Client, ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory } from "@a2a-js/sdk/client";
import { LegacyJsonRpcTransport } from "@a2a-js/sdk/compat/v0_3/client";
import {
  ContentTypeNotSupportedError,
  TaskNotCancelableError,
  TaskNotFoundError,
  UnsupportedOperationError,
} from "@a2a-js/sdk/errors";
import { describe, expect, it } from "vitest";
import type { AgentInfo } from "../../workers/shared/agents";
import { callOf, textCapabilityOf } from "../../workers/gateway/src/protocols/a2a/messages";
import { ADMIN_KEY, BASE, KEY, admin, expectError, get, pollUntil, post } from "./helpers";

/** A fetch for the SDK that goes to the gateway under test with `headers` (a credential) added. */
function gatewayFetch(headers: Record<string, string>): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    for (const [name, value] of Object.entries(headers)) request.headers.set(name, value);
    return SELF.fetch(request);
  };
}

/** The SDK's client for `agent`, built as a peer would: from the card at its base URL. */
async function clientFor(
  agent = "agent-demo",
  headers: Record<string, string> = { "X-API-Key": KEY },
): Promise<Client> {
  const fetchImpl = gatewayFetch(headers);
  const factory = new ClientFactory({
    transports: [new JsonRpcTransportFactory({ fetchImpl })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
  });
  // The card is `.well-known/agent-card.json` relative to the base URL: hence the trailing slash.
  return factory.createFromUrl(`${BASE}/agents/${agent}/`);
}

const dataPart = (value: unknown): Part => ({
  content: { $case: "data", value },
  mediaType: "application/json",
  filename: "",
  metadata: undefined,
});
const textPart = (text: string): Part => ({
  content: { $case: "text", value: text },
  mediaType: "text/plain",
  filename: "",
  metadata: undefined,
});

function message(parts: Part[], extra: Partial<Message> = {}): Message {
  return {
    messageId: crypto.randomUUID(),
    contextId: "",
    taskId: "",
    role: Role.ROLE_USER,
    parts,
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
    ...extra,
  };
}

/** Sends `msg` and returns the task answered (the gateway always answers a task). */
async function send(client: Client, msg: Message, headers: Record<string, string> = {}): Promise<Task> {
  const result = await client.sendMessage(
    { tenant: "", message: msg, configuration: undefined, metadata: undefined },
    { serviceParameters: headers },
  );
  expect("status" in result, JSON.stringify(result)).toBe(true);
  return result as Task;
}

/** The data of a task's artifact, or of its status message (a failed task's error). */
const artifactData = (task: Task): unknown => {
  const content = task.artifacts[0]?.parts[0]?.content;
  return content?.$case === "data" ? content.value : undefined;
};
const errorData = (task: Task): Record<string, unknown> | undefined => {
  const part = task.status?.message?.parts.find((p) => p.content?.$case === "data");
  return part?.content?.$case === "data" ? (part.content.value as Record<string, unknown>) : undefined;
};
const zaharaOf = (task: Task) => (task.metadata as { zahara: Record<string, unknown> }).zahara;

/** A managed key with `scopes`; its secret. */
async function keyWith(scopes: string[]): Promise<string> {
  const res = await admin("POST", "/v1/keys", { name: "a2a-test", scopes });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { secret: string }).secret;
}

/** POSTs a hand-written body to an agent's A2A endpoint. */
function rpc(body: string, headers: Record<string, string> = {}, agent = "agent-demo"): Promise<Response> {
  return post(`/agents/${agent}/a2a`, body, headers);
}

type RpcAnswer = {
  jsonrpc: string;
  id: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
};

const card = (agent: string, headers: Record<string, string> = {}) =>
  SELF.fetch(`${BASE}/agents/${agent}/.well-known/agent-card.json`, { headers });

describe("A2A agent card", () => {
  it("is public and, for A2A-Version 1.0, the 1.0 card: one skill per capability, JSON-RPC interface, either credential", async () => {
    const res = await card("agent-demo", { "A2A-Version": "1.0" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(res.headers.get("Vary")).toMatch(/A2A-Version/);
    const body = (await res.json()) as Record<string, unknown> & {
      skills: { id: string; inputModes: string[]; outputModes: string[] }[];
    };
    const listed = (
      (await (await get("/agents")).json()) as { agents: { name: string; capabilities: { name: string }[] }[] }
    ).agents.find((a) => a.name === "agent-demo")!;
    expect(body).toMatchObject({
      name: "Zahara Demo Agent",
      version: "1.0.0",
      supportedInterfaces: [
        { url: `${BASE}/agents/agent-demo/a2a`, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
        { url: `${BASE}/agents/agent-demo/a2a`, protocolBinding: "JSONRPC", protocolVersion: "0.3" },
      ],
      capabilities: { streaming: false, pushNotifications: false },
      securitySchemes: {
        apiKey: { apiKeySecurityScheme: { location: "header", name: "X-API-Key" } },
        bearer: { httpAuthSecurityScheme: { scheme: "Bearer" } },
      },
      securityRequirements: [{ schemes: { apiKey: { list: [] } } }, { schemes: { bearer: { list: [] } } }],
      defaultInputModes: ["application/json"],
      defaultOutputModes: ["application/json"],
    });
    expect(body.description).toMatch(/Demo agent/);
    expect(body.skills.map((s) => s.id)).toEqual(listed.capabilities.map((c) => c.name));
    for (const skill of body.skills)
      expect([skill.inputModes, skill.outputModes]).toEqual([["application/json"], ["application/json"]]);
  });

  it("is what the SDK's ClientFactory.createFromUrl reads to pick the 1.0 JSON-RPC interface", async () => {
    const client = await clientFor();
    expect(client.protocolVersion).toBe("1.0");
    const read = await client.getAgentCard();
    expect(read.skills.map((s) => s.id)).toEqual(expect.arrayContaining(["echo", "chaos", "summarize"]));
  });

  it("without A2A-Version (a 0.3 peer), is the 0.3 card, listing the 1.0 interfaces too", async () => {
    const body = (await (await card("agent-demo")).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      protocolVersion: "0.3.0",
      url: `${BASE}/agents/agent-demo/a2a`,
      preferredTransport: "JSONRPC",
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        bearer: { type: "http", scheme: "bearer" },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
      supportedInterfaces: [{ protocolVersion: "1.0" }, { protocolVersion: "0.3" }],
    });
  });

  it("offers text/plain on the agent's one capability that takes a single string, and nowhere else", async () => {
    const custom = (await (await card("agent-custom", { "A2A-Version": "1.0" })).json()) as {
      skills: { id: string; inputModes: string[]; examples: string[] }[];
      defaultInputModes: string[];
    };
    expect(Object.fromEntries(custom.skills.map((s) => [s.id, s.inputModes]))).toEqual({
      echo: ["application/json"],
      classify: ["application/json", "text/plain"],
    });
    expect(custom.skills.find((s) => s.id === "classify")).toMatchObject({
      examples: ['{"task":"classify","parameters":{"ticket":"<string>"}}'],
    });
    expect(custom.defaultInputModes).toEqual(["application/json", "text/plain"]);
    const demo = await (await card("agent-demo", { "A2A-Version": "1.0" })).text();
    expect(demo).not.toContain("text/plain");
  });

  it("is the only public path under /agents: the listing, execute, the A2A endpoint and any other method still need a credential", async () => {
    const paths = [
      ["GET", "/agents"],
      ["POST", "/agents/agent-demo/execute"],
      ["POST", "/agents/agent-demo/a2a"],
      ["POST", "/agents/agent-demo/.well-known/agent-card.json"],
      ["GET", "/agents/agent-demo/.well-known/other.json"],
    ];
    for (const [method, path] of paths)
      await expectError(await SELF.fetch(`${BASE}${path}`, { method }), 401, "UNAUTHORIZED");
  });

  it("for an unknown agent is a 404 in Zahara's error shape, naming no agent", async () => {
    const body = await expectError(await card("agent-nope"), 404, "AGENT_NOT_FOUND");
    expect(body.details).toEqual({ available: [] });
  });
});

describe("A2A SendMessage", () => {
  it("runs a data part {task, parameters} as a call: a completed task whose artifact is what /execute answers", async () => {
    const client = await clientFor();
    const executed = (await (
      await post("/agents/agent-demo/execute", { task: "echo", parameters: { message: "hi" } })
    ).json()) as { result: unknown };
    const requestId = `a2a-send-${crypto.randomUUID()}`;
    const task = await send(
      client,
      message([dataPart({ task: "echo", parameters: { message: "hi" } })], { contextId: "ctx-1" }),
      { "X-Request-Id": requestId },
    );
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(task.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(task.contextId).toBe("ctx-1");
    expect(artifactData(task)).toEqual(executed.result);
    expect(zaharaOf(task)).toMatchObject({
      request_id: requestId,
      agent: "agent-demo",
      task: "echo",
      served_by: "agent-demo",
    });
  });

  it("gives a message without contextId a new context", async () => {
    const task = await send(await clientFor(), message([dataPart({ task: "echo", parameters: {} })]));
    expect(task.contextId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("turns text into the call of the agent's one text capability (agent-custom: classify)", async () => {
    const task = await send(
      await clientFor("agent-custom"),
      message([textPart("I was charged twice for my subscription")]),
    );
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(zaharaOf(task)).toMatchObject({ task: "classify" });
    expect(artifactData(task)).toMatchObject({ category: expect.any(String) });
  });

  it("refuses text for an agent with no text capability: ContentTypeNotSupported, no call", async () => {
    await expect(send(await clientFor(), message([textPart("hello")]))).rejects.toBeInstanceOf(
      ContentTypeNotSupportedError,
    );
  });

  it("answers a failing call with a failed task carrying Zahara's code and request id, not a JSON-RPC error", async () => {
    const requestId = `a2a-fail-${crypto.randomUUID()}`;
    const task = await send(
      await clientFor(),
      message([dataPart({ task: "chaos", parameters: { fail_status: 404 } })]),
      { "X-Request-Id": requestId },
    );
    expect(task.status?.state).toBe(TaskState.TASK_STATE_FAILED);
    expect(task.artifacts).toEqual([]);
    expect(errorData(task)).toMatchObject({
      code: "CHAOS_INJECTED",
      status: 404,
      service: "agent-demo",
      request_id: requestId,
    });
    const text = task.status?.message?.parts.find((p) => p.content?.$case === "text")?.content;
    expect(text?.$case === "text" && text.value).toMatch(/^CHAOS_INJECTED: /);
  });

  it("answers an unknown task name with a failed task TASK_NOT_FOUND listing the agent's tasks", async () => {
    const task = await send(await clientFor(), message([dataPart({ task: "nope", parameters: {} })]));
    expect(task.status?.state).toBe(TaskState.TASK_STATE_FAILED);
    expect(errorData(task)).toMatchObject({
      code: "TASK_NOT_FOUND",
      status: 404,
      details: { agent: "agent-demo", available: expect.arrayContaining(["echo"]) },
    });
  });

  it("keeps scopes: a key for agent-demo:echo may echo, and chaos is a failed task FORBIDDEN", async () => {
    const client = await clientFor("agent-demo", { "X-API-Key": await keyWith(["agent-demo:echo"]) });
    expect((await send(client, message([dataPart({ task: "echo", parameters: {} })]))).status?.state).toBe(
      TaskState.TASK_STATE_COMPLETED,
    );
    const refused = await send(client, message([dataPart({ task: "chaos", parameters: {} })]));
    expect(refused.status?.state).toBe(TaskState.TASK_STATE_FAILED);
    expect(errorData(refused)).toMatchObject({ code: "FORBIDDEN", status: 403 });
  });

  it("honours Idempotency-Key: the same key and message replay the agent's answer", async () => {
    const client = await clientFor();
    const headers = { "Idempotency-Key": `a2a-${crypto.randomUUID()}` };
    const call = () => send(client, message([dataPart({ task: "echo", parameters: { n: 1 } })]), headers);
    const first = await call();
    const second = await call();
    expect(zaharaOf(first).replayed).toBeUndefined();
    expect(zaharaOf(second).replayed).toBe(true);
    expect(artifactData(second)).toEqual(artifactData(first));
  });

  it("refuses a wrong or missing credential with 401 in Zahara's shape (the SDK client rejects); Bearer works", async () => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "x" } });
    await expectError(await rpc(body, { "X-API-Key": "wrong-key-0000" }), 401, "UNAUTHORIZED");
    const anonymous = await SELF.fetch(`${BASE}/agents/agent-demo/a2a`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    });
    await expectError(anonymous, 401, "UNAUTHORIZED");
    const wrong = await clientFor("agent-demo", { "X-API-Key": "wrong-key-0000" });
    await expect(send(wrong, message([dataPart({ task: "echo", parameters: {} })]))).rejects.toThrow(/401/);
    const bearer = await clientFor("agent-demo", { Authorization: `Bearer ${KEY}` });
    expect((await send(bearer, message([dataPart({ task: "echo", parameters: {} })]))).status?.state).toBe(
      TaskState.TASK_STATE_COMPLETED,
    );
  });
});

describe("A2A tasks: GetTask, CancelTask", () => {
  it("gives a task back to its sender only: another principal, another agent or an unknown id get TaskNotFound", async () => {
    const client = await clientFor();
    const sent = await send(client, message([dataPart({ task: "echo", parameters: { keep: "me" } })]));
    const got = await client.getTask({ tenant: "", id: sent.id, historyLength: undefined });
    expect(got).toEqual(sent);
    const other = await clientFor("agent-demo", { "X-API-Key": await keyWith(["*"]) });
    await expect(other.getTask({ tenant: "", id: sent.id, historyLength: undefined })).rejects.toBeInstanceOf(
      TaskNotFoundError,
    );
    const elsewhere = await clientFor("agent-custom");
    await expect(elsewhere.getTask({ tenant: "", id: sent.id, historyLength: undefined })).rejects.toBeInstanceOf(
      TaskNotFoundError,
    );
    await expect(
      client.getTask({ tenant: "", id: crypto.randomUUID(), historyLength: undefined }),
    ).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it("keeps failed tasks too", async () => {
    const client = await clientFor();
    const sent = await send(client, message([dataPart({ task: "chaos", parameters: { fail_status: 404 } })]));
    expect(await client.getTask({ tenant: "", id: sent.id, historyLength: undefined })).toEqual(sent);
  });

  it("cannot cancel or continue a finished task", async () => {
    const client = await clientFor();
    const sent = await send(client, message([dataPart({ task: "echo", parameters: {} })]));
    await expect(client.cancelTask({ tenant: "", id: sent.id, metadata: undefined })).rejects.toBeInstanceOf(
      TaskNotCancelableError,
    );
    await expect(
      client.cancelTask({ tenant: "", id: crypto.randomUUID(), metadata: undefined }),
    ).rejects.toBeInstanceOf(TaskNotFoundError);
    const followUp = message([dataPart({ task: "echo", parameters: {} })], {
      taskId: sent.id,
      contextId: sent.contextId,
    });
    await expect(send(client, followUp)).rejects.toBeInstanceOf(UnsupportedOperationError);
  });
});

describe("A2A 0.3 compatibility", () => {
  it("serves the SDK's 0.3 transport: message/send and tasks/get with 0.3 shapes, on the same endpoint", async () => {
    const legacyCard = (await (await card("agent-demo")).json()) as { url: string };
    const fetchImpl = gatewayFetch({ "X-API-Key": KEY });
    const client = new Client(new LegacyJsonRpcTransport({ endpoint: legacyCard.url, fetchImpl }), {} as AgentCard);
    expect(client.protocolVersion).toBe("0.3");
    const task = await send(client, message([dataPart({ task: "echo", parameters: { v: "0.3" } })]));
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(artifactData(task)).toMatchObject({ v: "0.3" });
    const got = await client.getTask({ tenant: "", id: task.id, historyLength: undefined });
    expect(artifactData(got)).toEqual(artifactData(task));
    const raw = (await (
      await rpc(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tasks/get", params: { id: task.id } }), {
        "A2A-Version": "0.3",
      })
    ).json()) as RpcAnswer;
    expect(raw.result).toMatchObject({
      kind: "task",
      id: task.id,
      status: { state: "completed" },
      artifacts: [{ parts: [{ kind: "data" }] }],
    });
  });

  it("answers a failed call in 0.3 with a failed task carrying Zahara's error", async () => {
    const params = {
      message: {
        kind: "message",
        messageId: "m-1",
        role: "user",
        parts: [{ kind: "data", data: { task: "chaos", parameters: { fail_status: 404 } } }],
      },
    };
    const raw = (await (
      await rpc(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "message/send", params }))
    ).json()) as RpcAnswer;
    expect(raw.result).toMatchObject({
      kind: "task",
      status: {
        state: "failed",
        message: { role: "agent", parts: [{ kind: "text" }, { kind: "data", data: { code: "CHAOS_INJECTED" } }] },
      },
    });
  });
});

describe("A2A in the request log", () => {
  it("logs each A2A call with protocol a2a, its task, and the status /execute would answer", async () => {
    const client = await clientFor();
    const ok = `a2a-log-ok-${crypto.randomUUID()}`;
    const failed = `a2a-log-fail-${crypto.randomUUID()}`;
    await send(client, message([dataPart({ task: "echo", parameters: {} })]), { "X-Request-Id": ok });
    await send(client, message([dataPart({ task: "chaos", parameters: { fail_status: 404 } })]), {
      "X-Request-Id": failed,
    });
    type Row = {
      protocol: string | null;
      task: string | null;
      agent: string | null;
      path: string;
      status: number;
      code: string | null;
    };
    const rowOf = (id: string) =>
      pollUntil(
        async () =>
          ((await (await get(`/v1/requests/${id}`, { "X-API-Key": ADMIN_KEY })).json()) as { requests?: Row[] })
            .requests ?? [],
        (rows) => rows.length > 0,
        200,
        50,
      );
    expect((await rowOf(ok))[0]).toMatchObject({
      protocol: "a2a",
      task: "echo",
      agent: "agent-demo",
      path: "/agents/agent-demo/a2a",
      status: 200,
      code: null,
    });
    expect((await rowOf(failed))[0]).toMatchObject({
      protocol: "a2a",
      task: "chaos",
      status: 404,
      code: "CHAOS_INJECTED",
    });
  });
});

describe("A2A text capability (pure)", () => {
  const agent = (caps: AgentInfo["capabilities"]): AgentInfo => ({
    name: "one",
    display_name: "One",
    binding: "ONE",
    capabilities: caps,
  });
  const stringInput = { type: "object", required: ["q"], properties: { q: { type: "string" } } };

  it("takes text for an agent whose only capability has a single required string input", () => {
    const one = agent([{ name: "ask", input_schema: stringInput }]);
    expect(textCapabilityOf(one)).toEqual({ task: "ask", property: "q" });
    expect(
      callOf(one, {
        messageId: "m",
        parts: [
          { kind: "text", text: "a" },
          { kind: "text", text: "b" },
        ],
      }),
    ).toEqual({ task: "ask", parameters: { q: "a\nb" } });
  });

  it("takes no text when the input is optional, not a string, has more properties, or two capabilities could take it", () => {
    const optional = { ...stringInput, required: [] };
    const number = { ...stringInput, properties: { q: { type: "number" } } };
    const two = { ...stringInput, properties: { q: { type: "string" }, n: { type: "integer" } } };
    for (const input_schema of [optional, number, two])
      expect(textCapabilityOf(agent([{ name: "ask", input_schema }]))).toBeUndefined();
    expect(
      textCapabilityOf(
        agent([
          { name: "a", input_schema: stringInput },
          { name: "b", input_schema: stringInput },
        ]),
      ),
    ).toBeUndefined();
  });
});
