/**
 * The OpenAPI document (workers/gateway/src/openapi/): docs/openapi.json is
 * what the routes' schemas generate now (else `npm run openapi`), the gateway
 * serves it at `GET /openapi.json`, every route the app registers is in it,
 * and real answers of the gateway, recorded here through `SELF`, match the
 * schema the document gives for their route and status (validated with
 * @cfworker/json-schema, which needs no eval, so it runs in workerd). The
 * document itself is checked with an OpenAPI 3.1 validator in Node
 * (test/docs/openapi.test.ts).
 */
import { SELF } from "cloudflare:test";
import { type Schema, Validator } from "@cfworker/json-schema";
import { describe, expect, it } from "vitest";
import committed from "../../docs/openapi.json";
import { BUILD_INFO, MANIFESTS } from "../../workers/generated";
import { createGatewayApp } from "../../workers/gateway/src/app";
import {
  type JsonSchema,
  type OpenApiDocument,
  type ResponseObject,
  buildOpenApiDocument,
  openApiPath,
} from "../../workers/gateway/src/openapi/document";
import { ADMIN_KEY, BASE, KEY, pollUntil } from "./helpers";
import { hostedManifest, uniqueName } from "./hosted-helpers";

const document = buildOpenApiDocument(BUILD_INFO.version);

/** The document's path template a concrete path falls under (a literal segment wins over a parameter). */
function templateOf(url: string): string | undefined {
  const path = url.split("?")[0] ?? "";
  const matches = Object.keys(document.paths).filter((t) =>
    new RegExp(`^${t.replace(/\./g, "\\.").replace(/\{\w+\}/g, "[^/]+")}$`).test(path),
  );
  return matches.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

/** The JSON schema the document gives for `method path` answering `status`; fails when it documents no such answer. */
function answerSchema(method: string, path: string, status: number): JsonSchema | undefined {
  const template = templateOf(path);
  const operation = template ? document.paths[template]?.[method.toLowerCase()] : undefined;
  expect(operation, `${method} ${path} is not in the document`).toBeDefined();
  let answer = operation?.responses[status];
  expect(answer, `${method} ${path}: status ${status} is not documented`).toBeDefined();
  if (answer && "$ref" in answer) answer = document.components.responses[answer.$ref.split("/").pop() ?? ""];
  return (answer as ResponseObject | undefined)?.content?.["application/json"]?.schema;
}

/** Validates `body` against `schema`, resolving references into the document's components. */
function expectMatches(body: unknown, schema: JsonSchema, what: string): void {
  // A copy: the validator marks the schemas it reads.
  const root = structuredClone({ ...schema, components: document.components }) as Schema;
  const result = new Validator(root, "2020-12", false).validate(body);
  expect(
    result.errors.map((e) => `${e.instanceLocation}: ${e.error}`),
    `${what}: ${JSON.stringify(body).slice(0, 500)}`,
  ).toEqual([]);
}

/** No credential at all. */
const NONE = "";

/** Sends a request (with `key`, the caller key by default) and checks its answer against the document; returns its status and JSON body. */
async function recorded(
  method: string,
  path: string,
  {
    key = KEY,
    body = undefined as unknown,
    headers = {} as Record<string, string>,
    yaml = undefined as string | undefined,
  } = {},
) {
  const res = await SELF.fetch(`${BASE}${path}`, {
    method,
    headers: {
      ...(key ? { "X-API-Key": key } : {}),
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...(yaml !== undefined ? { "Content-Type": "application/yaml" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(yaml !== undefined ? { body: yaml } : {}),
  });
  const schema = answerSchema(method, path, res.status);
  const text = await res.text();
  if (!schema) {
    expect(res.headers.get("Content-Type") ?? "", `${method} ${path} ${res.status}`).not.toMatch(/json/);
    return { status: res.status, json: undefined };
  }
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  const json: unknown = JSON.parse(text);
  expectMatches(json, schema, `${method} ${path} ${res.status}`);
  return { status: res.status, json: json as Record<string, unknown> };
}

describe("the OpenAPI document", () => {
  it("docs/openapi.json is what the routes' schemas generate (else run `npm run openapi`)", () => {
    expect(committed as unknown as OpenApiDocument).toEqual(document);
  });

  it("is served at GET /openapi.json, public and cacheable", async () => {
    const res = await SELF.fetch(`${BASE}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(await res.json()).toEqual(document);
  });

  it("describes every route the app registers, and nothing else", () => {
    const app = createGatewayApp({ manifests: MANIFESTS, version: BUILD_INFO.version });
    const registered = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && r.method !== "OPTIONS")
        .map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect([...documented].sort()).toEqual([...registered].sort());
  });
});

describe("recorded answers match the document", () => {
  it("calls: health, agents, execute (success and errors), MCP, A2A", async () => {
    expect((await recorded("GET", "/health", { key: NONE })).status).toBe(200);
    expect((await recorded("GET", "/agents")).status).toBe(200);
    expect((await recorded("GET", "/agents/agent-demo/.well-known/agent-card.json", { key: NONE })).status).toBe(200);
    expect(
      (await recorded("POST", "/execute", { body: { task: "echo", agent: "agent-demo", parameters: { a: 1 } } }))
        .status,
    ).toBe(200);
    expect(
      (
        await recorded("POST", "/agents/agent-custom/execute", {
          body: { task: "classify", parameters: { ticket: "charged twice" } },
        })
      ).status,
    ).toBe(200);
    expect((await recorded("POST", "/execute", { body: { task: "echo" } })).status).toBe(400);
    expect((await recorded("POST", "/execute", { body: { task: "no-such-task" } })).status).toBe(404);
    expect((await recorded("POST", "/execute", { body: "x", headers: { "Content-Type": "text/plain" } })).status).toBe(
      415,
    );
    expect((await recorded("POST", "/execute", { key: NONE, body: { task: "echo" } })).status).toBe(401);
    expect((await recorded("POST", "/agents/no-such-agent/execute", { body: { task: "echo" } })).status).toBe(404);
    expect((await recorded("POST", "/mcp", { body: { jsonrpc: "2.0", id: 1, method: "tools/list" } })).status).toBe(
      200,
    );
    expect(
      (await recorded("POST", "/mcp", { body: { jsonrpc: "2.0", method: "notifications/initialized" } })).status,
    ).toBe(202);
    expect(
      (
        await recorded("POST", "/agents/agent-demo/a2a", {
          body: { jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "nope" } },
        })
      ).status,
    ).toBe(200);
  });

  it("runs: 202, the run, the list, an unknown run", async () => {
    const accepted = await recorded("POST", "/agents/agent-demo/execute", {
      body: { task: "echo", parameters: {} },
      headers: { Prefer: "respond-async" },
    });
    expect(accepted.status).toBe(202);
    const id = String(accepted.json?.run_id);
    const run = await pollUntil(
      () => recorded("GET", `/v1/runs/${id}`),
      (r) => r.json?.status === "succeeded",
      50,
      100,
    );
    expect(run.json).toMatchObject({ run_id: id, status: "succeeded" });
    expect((await recorded("GET", "/v1/runs?limit=5")).status).toBe(200);
    expect((await recorded("POST", `/v1/runs/${id}/cancel`)).status).toBe(409);
    expect((await recorded("GET", `/v1/runs/run_${"0".repeat(32)}`)).status).toBe(404);
    expect((await recorded("GET", "/v1/runs?status=lost")).status).toBe(400);
  });

  it("admin: keys, sessions, guard, stats, request log, audit; 403 for a caller key", async () => {
    const created = await recorded("POST", "/v1/keys", {
      key: ADMIN_KEY,
      body: { name: "openapi", scopes: ["agent-demo:echo"] },
    });
    expect(created.status).toBe(201);
    const keyId = String((created.json?.key as { id: string }).id);
    for (const path of ["/v1/keys?limit=5", `/v1/keys/${keyId}`, `/v1/keys/${keyId}/usage`])
      expect((await recorded("GET", path, { key: ADMIN_KEY })).status).toBe(200);
    expect(
      (await recorded("POST", `/v1/keys/${keyId}/rotate`, { key: ADMIN_KEY, body: { grace_seconds: 60 } })).status,
    ).toBe(200);
    expect((await recorded("POST", `/v1/keys/${keyId}/revoke`, { key: ADMIN_KEY })).status).toBe(200);
    expect((await recorded("PATCH", `/v1/keys/${keyId}`, { key: ADMIN_KEY, body: { name: "late" } })).status).toBe(409);
    expect((await recorded("GET", "/v1/keys/key_0000000000000000", { key: ADMIN_KEY })).status).toBe(404);

    const session = await recorded("POST", "/v1/sessions", { key: ADMIN_KEY, body: {} });
    expect(session.status).toBe(201);
    expect((await recorded("GET", `/v1/sessions/${String(session.json?.session_id)}`, { key: ADMIN_KEY })).status).toBe(
      200,
    );
    expect(
      (await recorded("DELETE", `/v1/sessions/${String(session.json?.session_id)}`, { key: ADMIN_KEY })).status,
    ).toBe(204);

    expect((await recorded("GET", "/v1/agents/agent-demo/guard", { key: ADMIN_KEY })).status).toBe(200);
    expect(
      (
        await recorded("POST", "/v1/agents/agent-demo/breaker/open", {
          key: ADMIN_KEY,
          body: { reason: "openapi test" },
        })
      ).status,
    ).toBe(200);
    expect((await recorded("POST", "/v1/agents/agent-demo/breaker/close", { key: ADMIN_KEY })).status).toBe(200);
    expect((await recorded("DELETE", "/v1/agents/agent-demo/guard", { key: ADMIN_KEY })).status).toBe(200);
    expect((await recorded("GET", "/v1/stats", { key: ADMIN_KEY })).status).toBe(200);
    expect((await recorded("GET", "/v1/audit?limit=5", { key: ADMIN_KEY })).status).toBe(200);
    expect((await recorded("GET", "/v1/stats")).status).toBe(403);

    // The request log is written after the answer (a queue): read a call back once it is there.
    const call = await SELF.fetch(`${BASE}/execute`, {
      method: "POST",
      headers: { "X-API-Key": KEY, "Content-Type": "application/json", "X-Request-Id": "openapi-logged" },
      body: JSON.stringify({ task: "echo", agent: "agent-demo" }),
    });
    await call.body?.cancel();
    const logged = await pollUntil(
      () => recorded("GET", "/v1/requests/openapi-logged", { key: ADMIN_KEY }),
      (r) => r.status === 200,
      100,
      50,
    );
    expect(logged.status).toBe(200);
    expect((await recorded("GET", "/v1/requests?limit=5&kind=calls", { key: ADMIN_KEY })).status).toBe(200);
    expect((await recorded("GET", "/v1/requests?limit=0", { key: ADMIN_KEY })).status).toBe(400);
  });

  it("an unknown route (404) and a known path with another method (405) answer the one error shape", async () => {
    for (const [method, path, status] of [
      ["GET", "/no-such-route", 404],
      ["GET", "/execute", 405],
    ] as const) {
      const res = await SELF.fetch(`${BASE}${path}`, { method, headers: { "X-API-Key": KEY } });
      expect(res.status).toBe(status);
      expectMatches(await res.json(), { $ref: "#/components/schemas/ErrorBody" }, `${method} ${path}`);
    }
  });

  it("hosted agents: deploy, list, versions, one version, rollback, delete, a bad manifest", async () => {
    const name = uniqueName("openapi");
    const as = { key: ADMIN_KEY };
    expect((await recorded("PUT", `/v1/agents/${name}`, { ...as, yaml: hostedManifest(name) })).status).toBe(201);
    expect((await recorded("PUT", `/v1/agents/${name}`, { ...as, yaml: hostedManifest(name) })).status).toBe(200);
    expect((await recorded("PUT", `/v1/agents/${name}`, { ...as, yaml: "kind: [" })).status).toBe(400);
    const stale = { ...as, yaml: hostedManifest(name), headers: { "If-Match": '"1"' } };
    expect((await recorded("PUT", `/v1/agents/${name}`, stale)).status).toBe(412);
    expect((await recorded("GET", "/v1/agents", as)).status).toBe(200);
    expect((await recorded("GET", `/v1/agents/${name}/versions`, as)).status).toBe(200);
    expect((await recorded("GET", `/v1/agents/${name}/versions/1`, as)).status).toBe(200);
    expect((await recorded("GET", `/v1/agents/${name}/versions/9`, as)).status).toBe(404);
    expect((await recorded("POST", `/v1/agents/${name}/rollback`, { ...as, body: { version: 1 } })).status).toBe(200);
    expect((await recorded("GET", "/agents")).status).toBe(200);
    expect((await recorded("DELETE", `/v1/agents/${name}`, as)).status).toBe(200);
  });
});
