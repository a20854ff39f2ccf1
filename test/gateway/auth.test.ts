/** API keys: plaintext and sha256 entries, rotation, constant-time check, and no key in logs. */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkApiKey, parseApiKeys, sha256, toHex } from "../../workers/gateway/src/auth/api-keys";
import worker from "../../workers/gateway/src/index";
import { BASE, HASHED_KEY, KEY, expectError, post } from "./helpers";

const ctx = createExecutionContext();

/** Calls the gateway with `GATEWAY_API_KEYS` set to `keys` (all other bindings real). */
async function callWithKeys(keys: string, presented: string): Promise<Response> {
  const req = new Request(`${BASE}/execute`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": presented },
    body: JSON.stringify({ task: "chaos", parameters: {} }),
  });
  return worker.fetch(req, { ...env, GATEWAY_API_KEYS: keys } as Env, ctx);
}

afterEach(() => vi.restoreAllMocks());

describe("API keys", () => {
  it("accepts a plaintext key", async () => {
    expect((await post("/execute", { task: "chaos" })).status).toBe(200);
  });

  it("accepts a key configured only as sha256:<hex>", async () => {
    expect((await post("/execute", { task: "chaos" }, { "X-API-Key": HASHED_KEY })).status).toBe(200);
    expect(env.GATEWAY_API_KEYS).not.toContain(HASHED_KEY);
  });

  it("rotation: both keys work during the overlap; the removed one is rejected after", async () => {
    const oldKey = "rotation-old-key-1";
    const newKey = "rotation-new-key-2";
    const newHash = `sha256:${toHex(await sha256(newKey))}`;
    expect((await callWithKeys(`${oldKey},${newHash}`, oldKey)).status).toBe(200);
    expect((await callWithKeys(`${oldKey},${newHash}`, newKey)).status).toBe(200);
    expect((await callWithKeys(newHash, newKey)).status).toBe(200);
    await expectError(await callWithKeys(newHash, oldKey), 401, "UNAUTHORIZED");
  });

  it("refuses everything when no key is configured (fail closed)", async () => {
    await expectError(await callWithKeys("", "anything-at-all"), 401, "UNAUTHORIZED");
    await expectError(await callWithKeys(" , ,", ""), 401, "UNAUTHORIZED");
  });

  it("ignores a malformed sha256 entry without breaking the good ones", async () => {
    const parsed = await parseApiKeys("sha256:nothex, good-key-123456");
    expect(parsed.malformed).toBe(1);
    expect(parsed.entries).toHaveLength(1);
    expect((await callWithKeys("sha256:abc, good-key-123456", "good-key-123456")).status).toBe(200);
  });

  it("checks every entry (no early exit) and returns a non-reversible key id", async () => {
    const entries = (await parseApiKeys("a-key-0000001,b-key-0000002,c-key-0000003")).entries;
    const first = await checkApiKey("a-key-0000001", entries);
    const last = await checkApiKey("c-key-0000003", entries);
    const none = await checkApiKey("z-key-0000009", entries);
    expect([first.valid, last.valid, none.valid]).toEqual([true, true, false]);
    expect(first.keyId).toMatch(/^key_[0-9a-f]{12}$/);
    expect(first.keyId).not.toContain("a-key");
  });

  it("never writes a key to a log line, error or response", async () => {
    const lines: string[] = [];
    for (const m of ["log", "warn", "error"] as const)
      vi.spyOn(console, m).mockImplementation((l: string) => void lines.push(String(l)));
    const debugEnv = { ...env, LOG_LEVEL: "debug" } as Env;
    const call = (key: string) =>
      worker.fetch(
        new Request(`${BASE}/execute`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-API-Key": key },
          body: JSON.stringify({ task: "echo", agent: "agent-demo", parameters: { a: 1 } }),
        }),
        debugEnv,
        ctx,
      );
    const ok = await call(KEY);
    const bad = await call("bad-key-should-not-leak");
    expect([ok.status, bad.status]).toEqual([200, 401]);
    const texts = [await ok.text(), await bad.text(), ...lines];
    expect(lines).toHaveLength(2);
    for (const t of texts) {
      expect(t).not.toContain(KEY);
      expect(t).not.toContain("bad-key-should-not-leak");
    }
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      status: 200,
      key_id: expect.stringMatching(/^key_[0-9a-f]{12}$/),
    });
    expect(JSON.parse(lines[1] as string)).toMatchObject({ status: 401, level: "warn" });
  });

  it("GET /agents requires a key", async () => {
    await expectError(await SELF.fetch(`${BASE}/agents`), 401, "UNAUTHORIZED");
  });
});
