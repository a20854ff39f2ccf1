/**
 * Checks written for SECURITY.md (the OWASP API Security Top 10 review), end
 * to end through the real gateway, D1 (ACCESS_DB), each agent's UpstreamGuard
 * and the real agent Workers: a fallback never widens a credential's scopes,
 * the key API refuses fields outside its schema (no mass assignment), and
 * `GET /health`, the one open route, carries no credential or binding name.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { KeyView } from "../../workers/gateway/src/auth/key-store";
import { forceOpen } from "./guards";
import { ADMIN_KEY, BASE, KEY, admin, expectError, post } from "./helpers";

async function createKey(body: Record<string, unknown>): Promise<{ key: KeyView; secret: string }> {
  const res = await admin("POST", "/v1/keys", { name: "security", ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { key: KeyView; secret: string };
}

describe("function level authorization across fallbacks (API1/API5)", () => {
  it("a fallback serves only callers allowed to call the fallback agent; others get the primary's refusal", async () => {
    // agent-demo's manifest lists agent-custom as its fallback; both offer echo.
    await forceOpen("agent-demo", "test: primary down");
    const { secret } = await createKey({ scopes: ["agent-demo:echo"] });
    const scoped = await post(
      "/agents/agent-demo/execute",
      { task: "echo", parameters: { who: "scoped" } },
      { "X-API-Key": secret },
    );
    await expectError(scoped, 503, "CIRCUIT_OPEN");
    // A credential that may call agent-custom is still served by the fallback.
    const broad = await post(
      "/agents/agent-demo/execute",
      { task: "echo", parameters: { who: "broad" } },
      { "X-API-Key": KEY },
    );
    expect(broad.status).toBe(200);
    expect(await broad.json()).toMatchObject({
      agent: "agent-demo",
      served_by: "agent-custom",
      result: { who: "broad" },
    });
  });
});

describe("object property level authorization (API3)", () => {
  it("PATCH /v1/keys/:id refuses fields outside its schema (status, id, secrets, hash) and changes nothing", async () => {
    const { key, secret } = await createKey({ scopes: ["agent-demo:echo"] });
    expect((await admin("POST", `/v1/keys/${key.id}/revoke`)).status).toBe(200);
    for (const body of [
      { status: "active" },
      { revoked_at: null },
      { id: "key_0000000000000000" },
      { secrets: [] },
      { hash: "00" },
      { scopes: ["admin"], status: "active" },
    ]) {
      await expectError(await admin("PATCH", `/v1/keys/${key.id}`, body), 400, "INVALID_REQUEST");
    }
    const after = (await (await admin("GET", `/v1/keys/${key.id}`)).json()) as { key: KeyView };
    expect(after.key).toMatchObject({ id: key.id, status: "revoked", scopes: ["agent-demo:echo"] });
    await expectError(
      await post("/agents/agent-demo/execute", { task: "echo", parameters: {} }, { "X-API-Key": secret }),
      401,
      "UNAUTHORIZED",
    );
  });
});

describe("the open route (API8/API9)", () => {
  it("GET /health needs no credential and names no binding, key or secret", async () => {
    const res = await SELF.fetch(`${BASE}/health`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const leaked of ["AGENT_DEMO", "AGENT_CUSTOM", KEY, ADMIN_KEY, "agent.internal"])
      expect(text).not.toContain(leaked);
    expect(Object.keys((JSON.parse(text) as { agents: object }).agents).sort()).toEqual(["agent-custom", "agent-demo"]);
  });
});
