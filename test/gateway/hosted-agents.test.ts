/**
 * Hosted agents (docs/hosted-agents.md): a manifest uploaded with
 * `PUT /v1/agents/:name` is served through the gateway at once, by the one
 * hosted-agent Worker, with everything a compiled-in agent has; versions,
 * rollback and delete are audited. The LLM is the OpenAI-compatible double.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, KEY, admin, expectError, get, pollUntil, post } from "./helpers";
import { deploy, hostedManifest, uniqueName, upload } from "./hosted-helpers";

interface Deployed {
  agent: { name: string; version: number; display_name: string; digest: string };
  created: boolean;
  warnings: { message: string; severity: string }[];
}

const summarize = (name: string, text = "Zahara runs agents.") =>
  post(`/agents/${name}/execute`, { task: "summarize", parameters: { text } });

describe("uploading a manifest-only agent", () => {
  it("serves it at once: callable, listed in GET /agents and GET /v1/agents, with its own guard", async () => {
    const name = uniqueName();
    const res = await upload(name, hostedManifest(name));
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get("ETag")).toBe('"1"');
    const body = (await res.json()) as Deployed;
    expect(body).toMatchObject({ created: true, agent: { name, version: 1, display_name: `Hosted ${name}` } });
    expect(body.agent.digest).toMatch(/^[0-9a-f]{64}$/);

    const call = await summarize(name);
    const answer = (await call.json()) as { result: unknown; agent: string; usage: unknown };
    expect(call.status, JSON.stringify(answer)).toBe(200);
    expect(answer).toMatchObject({ agent: name, result: { summary: "stub" } });
    expect(answer.usage).toEqual({ prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 });
    const echo = await post(`/agents/${name}/execute`, { task: "echo", parameters: { a: 1 } });
    expect(await echo.json()).toMatchObject({ result: { a: 1 } });

    const listed = (await (await get("/agents")).json()) as {
      agents: { name: string; hosted?: { version: number } }[];
    };
    expect(listed.agents.find((a) => a.name === name)).toMatchObject({ hosted: { version: 1 } });
    const hosted = (await (await admin("GET", "/v1/agents")).json()) as { agents: { name: string }[]; limits: unknown };
    expect(hosted.agents.map((a) => a.name)).toContain(name);
    expect(hosted.limits).toEqual({ max_agents: 50, max_versions: 10, max_manifest_bytes: 65536 });

    const guard = (await (await admin("GET", `/v1/agents/${name}/guard`)).json()) as { guard: { agent: string } };
    expect(guard.guard.agent).toBe(name);
    // Its requests are counted by its guard, and /metrics names it (recorded after the answer: polled).
    const scraped = await pollUntil(
      async () => await (await admin("GET", "/metrics")).text(),
      (text) => text.includes(`agent_requests_total{agent_id="${name}",capability="summarize",status="200"}`),
      50,
      100,
    );
    expect(scraped).toContain(`agent_id="${name}"`);
  });

  it("takes JSON as well as YAML", async () => {
    const name = uniqueName();
    const { parse } = await import("yaml");
    const res = await upload(name, JSON.stringify(parse(hostedManifest(name))), { type: "application/json" });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await summarize(name)).status).toBe(200);
  });

  it("a second upload is version 2 (200), served at once; the first is kept", async () => {
    const name = uniqueName();
    await deploy(name);
    const res = await upload(name, hostedManifest(name, { description: "Summarizes text, version two." }));
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('"2"');
    expect(((await res.json()) as Deployed).created).toBe(false);
    const versions = (await (await admin("GET", `/v1/agents/${name}/versions`)).json()) as {
      current: number;
      versions: { version: number; current: boolean; created_by: string; size_bytes: number }[];
    };
    expect(versions.current).toBe(2);
    expect(versions.versions.map((v) => [v.version, v.current])).toEqual([
      [2, true],
      [1, false],
    ]);
    const v1 = (await (await admin("GET", `/v1/agents/${name}/versions/1`)).json()) as { source: string };
    expect(v1.source).toBe(hostedManifest(name));
    const card = (await (await SELF.fetch(`${BASE}/agents/${name}/.well-known/agent-card.json`)).json()) as {
      skills: { description: string }[];
    };
    expect(card.skills.map((s) => s.description)).toContain("Summarizes text, version two.");
  });

  it("rollback serves a kept version again; a version not kept is 404 VERSION_NOT_FOUND", async () => {
    const name = uniqueName();
    await deploy(name);
    await deploy(name, hostedManifest(name, { description: "Second." }));
    const res = await admin("POST", `/v1/agents/${name}/rollback`, { version: 1 });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ agent: { version: 1 }, rolled_back_from: 2 });
    const listed = (await (await get("/agents")).json()) as {
      agents: { name: string; description?: string; hosted?: { version: number } }[];
    };
    expect(listed.agents.find((a) => a.name === name)).toMatchObject({ hosted: { version: 1 } });
    const missing = await expectError(
      await admin("POST", `/v1/agents/${name}/rollback`, { version: 7 }),
      404,
      "VERSION_NOT_FOUND",
    );
    expect(missing.details).toEqual({ versions: [2, 1] });
    await expectError(
      await admin("POST", `/v1/agents/${uniqueName()}/rollback`, { version: 1 }),
      404,
      "AGENT_NOT_FOUND",
    );
    await expectError(await admin("POST", `/v1/agents/${name}/rollback`, { version: "1" }), 400, "INVALID_REQUEST");
  });

  it("delete stops serving it (404 AGENT_NOT_FOUND) and frees the name for a new version 1 history", async () => {
    const name = uniqueName();
    await deploy(name);
    await deploy(name);
    const res = await admin("DELETE", `/v1/agents/${name}`);
    expect(await res.json()).toMatchObject({ deleted: name });
    await expectError(await summarize(name), 404, "AGENT_NOT_FOUND");
    await expectError(await admin("GET", `/v1/agents/${name}/versions`), 404, "AGENT_NOT_FOUND");
    await expectError(await admin("DELETE", `/v1/agents/${name}`), 404, "AGENT_NOT_FOUND");
    // Version numbers never repeat (an isolate may still hold version 2 built): the next upload is 3.
    expect(await deploy(name)).toBe(3);
  });

  it("a call already on its way when the agent is deleted finishes with the version it was routed to", async () => {
    const name = uniqueName();
    await deploy(name);
    const slow = summarize(name, "__slow__");
    await new Promise((r) => setTimeout(r, 300));
    expect((await admin("DELETE", `/v1/agents/${name}`)).status).toBe(200);
    const res = await slow;
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ agent: name, result: { summary: "stub" } });
    await expectError(await summarize(name), 404, "AGENT_NOT_FOUND");
  });

  it("an Idempotency-Key replays per agent: two hosted agents never share a record", async () => {
    const [a, b] = [uniqueName(), uniqueName()];
    await deploy(a);
    await deploy(b);
    const key = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
    const call = (name: string) => post(`/agents/${name}/execute`, { task: "echo", parameters: { n: 1 } }, key);
    const first = await call(a);
    expect(await first.json()).toMatchObject({ agent: a });
    const again = await call(a);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    const other = await call(b);
    expect(other.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await other.json()).toMatchObject({ agent: b, result: { n: 1 } });
  });

  it("maxCostPerDay at the manifest's prices is a daily budget: spent, it is 429 COST_BUDGET_EXCEEDED", async () => {
    const name = uniqueName();
    // 0.0002 a day at 1 per million tokens (the dearer price) is 200 tokens; each call reserves 50 and uses 59 (the
    // double's usage): three calls pass (177 used), the fourth finds 23 left.
    const extra = "  constraints:\n    cost:\n      maxCostPerDay: 0.0002\n      currency: USD\n";
    const text = hostedManifest(name, { extra }).replace(
      "extensions:\n  zahara:\n",
      "extensions:\n  zahara:\n    pricing: { input_per_million: 0.5, output_per_million: 1 }\n" +
        "    resilience: { token_estimate: 50 }\n",
    );
    const res = await upload(name, text);
    const body = (await res.json()) as Deployed;
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.warnings.map((w) => w.message).join("\n")).not.toContain("maxCostPerDay");
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 6 && !refused; i++) {
      const call = await summarize(name);
      statuses.push(call.status);
      if (call.status === 429) refused = call;
      else await call.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const error = await expectError(refused!, 429, "COST_BUDGET_EXCEEDED");
    expect(error.error).toContain("maxCostPerDay");
    expect(Number(refused!.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("scopes name hosted agents like any other: a key for another agent is 403", async () => {
    const name = uniqueName();
    await deploy(name);
    const created = await admin("POST", "/v1/keys", { name: "scoped", scopes: [`${name}:echo`] });
    expect(created.status, await created.clone().text()).toBe(201);
    const { secret } = (await created.json()) as { secret: string };
    const as = (task: string) =>
      SELF.fetch(`${BASE}/agents/${name}/execute`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-API-Key": secret },
        body: JSON.stringify({ task, parameters: { text: "x" } }),
      });
    expect((await as("echo")).status).toBe(200);
    await expectError(await as("summarize"), 403, "FORBIDDEN");
  });

  it("MCP lists its capabilities as tools", async () => {
    const name = uniqueName();
    await deploy(name);
    const res = await SELF.fetch(`${BASE}/agents/${name}/mcp`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        "X-API-Key": KEY,
        "MCP-Protocol-Version": "2025-06-18",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(text).toContain("summarize");
  });

  it("each change and each refused one is audited", async () => {
    const name = uniqueName();
    await deploy(name);
    await deploy(name);
    await admin("POST", `/v1/agents/${name}/rollback`, { version: 1 });
    await upload(name, hostedManifest(name), { headers: { "If-Match": '"2"' } });
    await admin("DELETE", `/v1/agents/${name}`);
    const { entries } = (await (await admin("GET", `/v1/audit?target=${name}`)).json()) as {
      entries: { action: string; details: Record<string, unknown> }[];
    };
    expect(entries.map((e) => e.action)).toEqual([
      "agent.delete",
      "agent.deploy",
      "agent.rollback",
      "agent.deploy",
      "agent.deploy",
    ]);
    expect(entries[1]?.details).toMatchObject({ refused: "precondition" });
    expect(entries[2]?.details).toMatchObject({ from: 2, to: 1 });
    expect(entries[3]?.details).toMatchObject({ version: 2 });
    expect(entries[4]?.details).toMatchObject({ version: 1 });
  });

  it("is admin only", async () => {
    const res = await SELF.fetch(`${BASE}/v1/agents/${uniqueName()}`, {
      method: "PUT",
      headers: { "X-API-Key": KEY, "Content-Type": "application/yaml" },
      body: "x",
    });
    await expectError(res, 403, "FORBIDDEN");
  });
});
