/**
 * The gateway proxy, /api/gw/*, against the real gateway: which key each path
 * gets (seen in the gateway's own request log), what passes in each
 * direction (the browser's address included, for the audit log; a hosted
 * agent's PUT with its media type and If-Match, its ETag back; DELETE), and that
 * no server-held key or session id ever reaches the browser or a log line.
 */
import { SELF } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createDashboardApp } from "../../dashboard/functions/_lib/app";
import { redactEvents } from "../../dashboard/functions/_lib/routes/gateway-proxy";
import { SseParser } from "../../workers/shared/http/sse";
import { keyIdOf, sha256 } from "../../workers/gateway/src/auth/api-keys";
import {
  ADMIN_KEY,
  CALLER_KEY,
  SESSION_SECRET,
  type DashboardApp,
  claimsOf,
  dashEnv,
  expectError,
  gatewayAdmin,
  json,
  pollUntil,
  send,
  signIn,
} from "./helpers";

afterEach(() => vi.restoreAllMocks());

let app: DashboardApp;
let cookie: string;
let adminId: string;
let callerId: string;
beforeAll(async () => {
  app = createDashboardApp();
  cookie = await signIn(app);
  adminId = keyIdOf(await sha256(ADMIN_KEY));
  callerId = keyIdOf(await sha256(CALLER_KEY));
});

const signedIn = (init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), Cookie: cookie },
});

/** The gateway's request-log row for `id` (written after its response, so polled). */
async function logged(id: string): Promise<{ key_id: string; path: string; status: number }> {
  const res = await pollUntil(
    () => gatewayAdmin(`/v1/requests/${id}`),
    (r) => r.status === 200,
  );
  expect(res.status).toBe(200);
  const { requests } = (await res.json()) as { requests: { key_id: string; path: string; status: number }[] };
  expect(requests).toHaveLength(1);
  return requests[0]!;
}

describe("signed out", () => {
  it("every /api/gw path is 401 in the gateway's error shape and nothing reaches the gateway", async () => {
    for (const [method, path] of [
      ["GET", "/api/gw/v1/stats"],
      ["GET", "/api/gw/agents"],
      ["POST", "/api/gw/execute"],
      ["GET", "/api/gw/nope"],
    ] as const) {
      const res = await send(app, path, { method, headers: { "X-Request-Id": `dash-anon-${method}-${path.length}` } });
      const body = await expectError(res, 401, "UNAUTHORIZED");
      expect(body.details).toEqual({ auth_mode: "login" });
    }
    const never = await pollUntil(
      () => gatewayAdmin("/v1/requests/dash-anon-GET-15"),
      (r) => r.status === 200,
      5,
    );
    expect(never.status).toBe(404);
  });

  it("a key the browser sends is no credential for the dashboard", async () => {
    await expectError(
      await send(app, "/api/gw/v1/stats", {
        headers: { "X-API-Key": ADMIN_KEY, Authorization: `Bearer ${ADMIN_KEY}` },
      }),
      401,
      "UNAUTHORIZED",
    );
  });
});

describe("admin paths get GATEWAY_ADMIN_KEY", () => {
  it("GET /api/gw/v1/stats answers the gateway's stats; the gateway logged the admin key's principal", async () => {
    const res = await send(app, "/api/gw/v1/stats", signedIn({ headers: { "X-Request-Id": "dash-stats-1" } }));
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get("X-Request-Id")).toBe("dash-stats-1");
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = JSON.parse(text) as { agents: Record<string, unknown>; generated_at: string };
    expect(Object.keys(body.agents).sort()).toEqual(["agent-custom", "agent-demo"]);
    expect(await logged("dash-stats-1")).toMatchObject({ key_id: adminId, path: "/v1/stats", status: 200 });
  });

  it("the browser's own X-API-Key is dropped, not forwarded", async () => {
    const res = await send(
      app,
      "/api/gw/v1/stats",
      signedIn({
        headers: { "X-Request-Id": "dash-stats-2", "X-API-Key": CALLER_KEY, Authorization: `Bearer ${CALLER_KEY}` },
      }),
    );
    expect(res.status).toBe(200);
    expect((await logged("dash-stats-2")).key_id).toBe(adminId);
  });

  it("GET /api/gw/metrics passes the Prometheus text through", async () => {
    const res = await send(app, "/api/gw/metrics", signedIn());
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/plain/);
    expect(await res.text()).toContain("gateway_build_info");
  });

  it("POST and PATCH reach the key API with the body; the audit log names the signed-in person, not what the browser claims", async () => {
    const created = await send(
      app,
      "/api/gw/v1/keys",
      signedIn(
        json("POST", { name: "from-dashboard", scopes: ["agent-demo:echo"] }, { "X-Zahara-On-Behalf-Of": "mallory" }),
      ),
    );
    const body = (await created.json()) as { key: { id: string; name: string }; secret: string };
    expect(created.status).toBe(201);
    // The new key's secret is shown once, as the gateway answers it: that is the point of creating one.
    expect(body.secret).toMatch(/^zk_/);
    const patched = await send(app, `/api/gw/v1/keys/${body.key.id}`, signedIn(json("PATCH", { name: "renamed" })));
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { key: { name: string } }).key.name).toBe("renamed");
    const audit = (await (await send(app, `/api/gw/v1/audit?target=${body.key.id}`, signedIn())).json()) as {
      entries: { action: string; actor: string; details: Record<string, unknown> }[];
    };
    expect(audit.entries.map((e) => [e.action, e.actor, e.details.on_behalf_of])).toEqual([
      ["key.update", adminId, adminId],
      ["key.create", adminId, adminId],
    ]);
  });

  it("admin actions through the dashboard are audited with the browser's address", async () => {
    const from = { "CF-Connecting-IP": "203.0.113.77" };
    const body = { name: "audited-address", scopes: ["agent-demo:echo"] };
    const created = await send(app, "/api/gw/v1/keys", signedIn(json("POST", body, from)));
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: { id: string } };
    const revoked = await send(app, `/api/gw/v1/keys/${key.id}/revoke`, signedIn({ method: "POST", headers: from }));
    expect(revoked.status).toBe(200);
    const page = await gatewayAdmin(`/v1/audit?target=${key.id}`);
    const audit = (await page.json()) as { entries: { action: string; client_ip: string | null }[] };
    expect(audit.entries.map((e) => [e.action, e.client_ip])).toEqual([
      ["key.revoke", "203.0.113.77"],
      ["key.create", "203.0.113.77"],
    ]);
  });

  it("passes the gateway's errors, status and Retry-After through (an isolated agent: 503 CIRCUIT_OPEN)", async () => {
    const opened = await send(
      app,
      "/api/gw/v1/agents/agent-demo/breaker/open",
      signedIn(json("POST", { reason: "dashboard test" })),
    );
    expect(opened.status).toBe(200);
    // chaos: agent-demo is the only agent offering it, so no fallback answers instead.
    const res = await send(
      app,
      "/api/gw/agents/agent-demo/execute",
      signedIn(json("POST", { task: "chaos", parameters: {} })),
    );
    const body = await expectError(res, 503, "CIRCUIT_OPEN", "gateway");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(body.request_id).toBe(res.headers.get("X-Request-Id"));
    await expectError(
      await send(app, "/api/gw/v1/requests/no-such-id", signedIn()),
      404,
      "REQUEST_NOT_FOUND",
      "gateway",
    );
  });
});

describe("PUT and DELETE (hosted agents)", () => {
  /** A GATEWAY that records what reaches it (sessions still go to the real gateway, for the guard). */
  function recorder(answer: () => Response) {
    const seen: { method: string; path: string; headers: Headers; body: string }[] = [];
    const binding = {
      async fetch(input: RequestInfo | URL, init?: RequestInit) {
        const req = new Request(input, init);
        const url = new URL(req.url);
        if (url.pathname.startsWith("/v1/sessions/")) return SELF.fetch(req);
        const body = new TextDecoder().decode(await req.arrayBuffer());
        seen.push({ method: req.method, path: url.pathname, headers: req.headers, body });
        return answer();
      },
    } as unknown as Fetcher;
    return { seen, env: dashEnv({ GATEWAY: binding }) };
  }
  const yaml = "apiVersion: ossa/v0.3.1\nkind: Agent\n";

  it("PUT passes the YAML body, its Content-Type, If-Match and If-None-Match; the answer's ETag comes back", async () => {
    const gw = recorder(
      () =>
        new Response(JSON.stringify({ created: false }), {
          headers: { "Content-Type": "application/json", ETag: '"4"' },
        }),
    );
    const headers = { "Content-Type": "application/yaml", "If-Match": '"3"', "X-Request-Id": "dash-put-1" };
    const res = await send(
      app,
      "/api/gw/v1/agents/hosted-one",
      signedIn({ method: "PUT", headers, body: yaml }),
      gw.env,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('"4"');
    expect(gw.seen).toHaveLength(1);
    const [put] = gw.seen;
    expect(put).toMatchObject({ method: "PUT", path: "/v1/agents/hosted-one", body: yaml });
    expect(put!.headers.get("Content-Type")).toBe("application/yaml");
    expect(put!.headers.get("If-Match")).toBe('"3"');
    expect(put!.headers.get("X-API-Key")).toBe(ADMIN_KEY);
    expect(put!.headers.get("X-Zahara-On-Behalf-Of")).toBe(adminId);
    const created = await send(
      app,
      "/api/gw/v1/agents/hosted-one",
      signedIn({ method: "PUT", headers: { "Content-Type": "application/json", "If-None-Match": "*" }, body: "{}" }),
      gw.env,
    );
    expect(created.status).toBe(200);
    expect(gw.seen[1]!.headers.get("If-None-Match")).toBe("*");
    expect(gw.seen[1]!.headers.get("Content-Type")).toBe("application/json");
  });

  it("DELETE reaches the gateway with the admin key; a cross-origin PUT or DELETE is refused before it", async () => {
    const gw = recorder(() => Response.json({ deleted: "hosted-one" }));
    const res = await send(app, "/api/gw/v1/agents/hosted-one", signedIn({ method: "DELETE" }), gw.env);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: "hosted-one" });
    expect(gw.seen.map((s) => [s.method, s.path, s.headers.get("X-API-Key")])).toEqual([
      ["DELETE", "/v1/agents/hosted-one", ADMIN_KEY],
    ]);
    for (const method of ["PUT", "DELETE"]) {
      const cross = signedIn({ method, headers: { Origin: "https://evil.test", "Content-Type": "application/yaml" } });
      if (method === "PUT") cross.body = yaml;
      await expectError(await send(app, "/api/gw/v1/agents/hosted-one", cross, gw.env), 403, "FORBIDDEN");
    }
    expect(gw.seen).toHaveLength(1);
  });

  it("against the real gateway: create, a conditional update, a stale If-Match (412), delete", async (ctx) => {
    // Skipped (not failed) while the gateway in this tree has no working hosted-agent store.
    const probe = await gatewayAdmin("/v1/agents");
    await probe.body?.cancel();
    if (probe.status !== 200) ctx.skip(`the gateway's GET /v1/agents answers ${probe.status}`);
    const name = "dash-proxy-hosted";
    const manifest = (description: string) =>
      [
        "apiVersion: ossa/v0.3.1",
        "kind: Agent",
        "metadata:",
        `  name: ${name}`,
        "  version: 1.0.0",
        `  description: ${description}`,
        "spec:",
        "  role: You summarise text.",
        "  llm: { provider: openai, model: gpt-4o-mini }",
        "  tools:",
        "    - type: function",
        "      name: summarize",
        "      description: Summarises a text.",
        "      input_schema: { type: object, required: [text], properties: { text: { type: string } } }",
        "      output_schema: { type: object, required: [summary], properties: { summary: { type: string } } }",
        "",
      ].join("\n");
    const put = (body: string, headers: Record<string, string>) =>
      send(
        app,
        `/api/gw/v1/agents/${name}`,
        signedIn({ method: "PUT", headers: { "Content-Type": "application/yaml", ...headers }, body }),
      );
    const created = await put(manifest("First."), { "If-None-Match": "*" });
    expect(created.status, await created.clone().text()).toBe(201);
    expect(created.headers.get("ETag")).toBe('"1"');
    const updated = await put(manifest("Second."), { "If-Match": '"1"' });
    expect(updated.status, await updated.clone().text()).toBe(200);
    expect(updated.headers.get("ETag")).toBe('"2"');
    const stale = await expectError(
      await put(manifest("Third."), { "If-Match": '"1"' }),
      412,
      "VERSION_CONFLICT",
      "gateway",
    );
    expect(stale.details).toMatchObject({ current_version: 2 });
    const source = await send(app, `/api/gw/v1/agents/${name}/versions/2`, signedIn());
    expect(((await source.json()) as { source: string }).source).toBe(manifest("Second."));
    const deleted = await send(app, `/api/gw/v1/agents/${name}`, signedIn({ method: "DELETE" }));
    expect(deleted.status).toBe(200);
    await expectError(
      await send(app, `/api/gw/v1/agents/${name}/versions`, signedIn()),
      404,
      "AGENT_NOT_FOUND",
      "gateway",
    );
  });
});

describe("caller paths get GATEWAY_CALLER_KEY", () => {
  it("GET /api/gw/agents lists the agents; the gateway logged the caller key's principal", async () => {
    const res = await send(app, "/api/gw/agents", signedIn({ headers: { "X-Request-Id": "dash-agents-1" } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { agents: { name: string }[] };
    expect(body.agents.map((a) => a.name).sort()).toEqual(["agent-custom", "agent-demo"]);
    expect(await logged("dash-agents-1")).toMatchObject({ key_id: callerId, path: "/agents" });
  });

  it("POST /api/gw/execute runs a capability on the real agent, keeping the request id", async () => {
    const res = await send(
      app,
      "/api/gw/execute",
      signedIn(
        json(
          "POST",
          { task: "echo", agent: "agent-demo", parameters: { hello: "dashboard" } },
          { "X-Request-Id": "dash-exec-1" },
        ),
      ),
    );
    const body = (await res.json()) as { result: unknown; agent: string; request_id: string };
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ agent: "agent-demo", request_id: "dash-exec-1" });
    expect(JSON.stringify(body.result)).toContain("dashboard");
    expect(res.headers.get("X-Request-Id")).toBe("dash-exec-1");
    expect((await logged("dash-exec-1")).key_id).toBe(callerId);
  });

  it("forwards Accept: text/event-stream and passes the gateway's events through as they come", async () => {
    const init = json(
      "POST",
      { task: "echo", parameters: { hello: "stream" } },
      { "X-Request-Id": "dash-stream-1", Accept: "text/event-stream" },
    );
    const res = await send(app, "/api/gw/agents/agent-demo/execute", signedIn(init));
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/event-stream/);
    const events = new SseParser().push(await res.text());
    expect(events.at(-1)).toMatchObject({ event: "done" });
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({
      result: { hello: "stream" },
      request_id: "dash-stream-1",
      served_by: "agent-demo",
    });
  });

  it("redacts a server-held secret in an event stream even when it is split across chunks", async () => {
    const secret = "server-held-secret-value";
    const text = `event: delta\ndata: {"text":"${secret}"}\n\nevent: done\ndata: {"result":"${secret}"}\n\n`;
    const encoder = new TextEncoder();
    for (const cut of [5, 30, 38, 50, text.length - 3]) {
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(text.slice(0, cut)));
          controller.enqueue(encoder.encode(text.slice(cut)));
          controller.close();
        },
      });
      const out = await new Response(source.pipeThrough(redactEvents([secret]))).text();
      expect(out).not.toContain(secret);
      expect(new SseParser().push(out).map((e) => e.event)).toEqual(["delta", "done"]);
    }
  });

  it("forwards X-Timeout-Ms (a slow capability under a 300 ms deadline: 504)", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await send(
      app,
      "/api/gw/execute",
      signedIn(
        json("POST", { task: "chaos", agent: "agent-demo", parameters: { delay_ms: 3000 } }, { "X-Timeout-Ms": "300" }),
      ),
    );
    await expectError(res, 504, "UPSTREAM_TIMEOUT", "gateway");
  });

  it("GET /api/gw/health answers the gateway's health", async () => {
    const res = await send(app, "/api/gw/health", signedIn());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", agents: { "agent-demo": { status: "ok" } } });
  });
});

describe("what the proxy refuses", () => {
  it("methods other than GET, POST, PUT, PATCH, DELETE: 405 with Allow", async () => {
    for (const method of ["OPTIONS", "PROPFIND"]) {
      const res = await send(app, "/api/gw/v1/keys", signedIn({ method }));
      await expectError(res, 405, "METHOD_NOT_ALLOWED");
      expect(res.headers.get("Allow")).toMatch(/DELETE.*GET.*PATCH.*POST.*PUT/);
    }
  });

  it("paths outside the gateway's API, and encoded separators: 404 from the dashboard", async () => {
    for (const path of [
      "/api/gw",
      "/api/gw/",
      "/api/gw/admin",
      "/api/gw/v1x/stats",
      "/api/gw/agentsx",
      "/api/gw/agents%2F..%2Fv1%2Fstats",
      "/api/gw/agents/%2E%2Fx",
      "/api/gw/health/../v1/stats/.x",
      "/api/gw//v1/stats",
    ]) {
      const res = await send(app, path, signedIn());
      if (res.status === 200) throw new Error(`${path} was proxied`);
      await expectError(res, 404, "NOT_FOUND");
    }
  });

  it("a missing server key is a 500 (logged), never a call without a key", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const res = await send(
      app,
      "/api/gw/v1/stats",
      signedIn({ headers: { "X-Request-Id": "dash-nokey-1" } }),
      dashEnv({ GATEWAY_ADMIN_KEY: "" }),
    );
    await expectError(res, 500, "INTERNAL_ERROR");
    expect(lines.join("\n")).toContain("GATEWAY_ADMIN_KEY is not set");
    expect(
      (
        await pollUntil(
          () => gatewayAdmin("/v1/requests/dash-nokey-1"),
          (r) => r.status === 200,
          5,
        )
      ).status,
    ).toBe(404);
  });

  it("a gateway that cannot be reached is 502 UPSTREAM_UNREACHABLE", async () => {
    // The session check still reaches the gateway (a gateway that cannot check sessions is sessions.test.ts's 503).
    const broken = {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (url.pathname.startsWith("/v1/sessions/")) return SELF.fetch(input, init);
        return Promise.reject(new Error("connection refused"));
      },
    } as unknown as Fetcher;
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await send(createDashboardApp(), "/api/gw/v1/stats", signedIn(), dashEnv({ GATEWAY: broken }));
    await expectError(res, 502, "UPSTREAM_UNREACHABLE");
  });
});

describe("secrecy", () => {
  it("no server-held key or session secret appears in any answer or any log line, even at debug level", async () => {
    const lines: string[] = [];
    for (const m of ["log", "info", "warn", "error", "debug"] as const)
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const env = dashEnv({ LOG_LEVEL: "debug" });
    const answers: string[] = [];
    const record = async (res: Response) =>
      answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
    await record(await send(app, "/api/login", json("POST", { admin_key: ADMIN_KEY }), env));
    await record(await send(app, "/api/login", json("POST", { admin_key: CALLER_KEY }), env));
    for (const path of [
      "/api/session",
      "/api/gw/v1/stats",
      "/api/gw/agents",
      "/api/gw/health",
      "/api/gw/v1/keys",
      "/api/gw/v1/audit",
      "/api/gw/nope",
      "/api/gw/v1/requests?limit=5",
    ]) {
      await record(await send(app, path, signedIn(), env));
    }
    await record(
      await send(
        app,
        "/api/gw/execute",
        signedIn(json("POST", { task: "echo", agent: "agent-demo", parameters: {} })),
        env,
      ),
    );
    expect(lines.some((l) => l.includes('"service":"dashboard"') && l.includes("request completed"))).toBe(true);
    const sessionValue = cookie.split("=")[1] as string;
    for (const secret of [ADMIN_KEY, CALLER_KEY, SESSION_SECRET, sessionValue, claimsOf(cookie).sid]) {
      expect(answers.join("\n")).not.toContain(secret);
      expect(lines.join("\n")).not.toContain(secret);
    }
  });
});
