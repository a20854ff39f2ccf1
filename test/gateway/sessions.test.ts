/**
 * Dashboard sessions, `/v1/sessions`, against the real gateway and D1: a
 * session is opened with the admin key signing in, checked with another admin
 * key, and ends at logout or as soon as its admin key stops being one
 * (revoked, expired, admin scope removed, gone from ADMIN_API_KEYS), with no
 * key cache in between. D1 holds only the id's SHA-256; the id is in no log.
 */
import { SELF, createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keyIdOf, sha256, toHex } from "../../workers/gateway/src/auth/api-keys";
import type { KeyView } from "../../workers/gateway/src/auth/key-store";
import { insertSession, sessionHash } from "../../workers/gateway/src/auth/sessions-store";
import worker from "../../workers/gateway/src/index";
import { ADMIN_KEY, BASE, KEY, admin, expectError, pollUntil } from "./helpers";

afterEach(() => vi.restoreAllMocks());

interface Opened {
  session_id: string;
  principal: string;
  expires_at: number;
  cache_ttl_ms: number;
  request_id: string;
}

/** What a request may add: a JSON body, headers, and vars that replace the gateway's own for that request. */
interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  vars?: Record<string, string>;
}

/** A request to the real gateway with `key`, optionally under a changed env (all other bindings real). */
async function gateway(method: string, path: string, key: string, options: RequestOptions = {}): Promise<Response> {
  const { body, headers = {}, vars = {} } = options;
  const init: RequestInit = {
    method,
    headers: { "X-API-Key": key, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  };
  if (Object.keys(vars).length === 0) return SELF.fetch(`${BASE}${path}`, init);
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`, init), { ...env, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function open(key = ADMIN_KEY, options: RequestOptions = {}): Promise<Opened> {
  const res = await gateway("POST", "/v1/sessions", key, options);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Opened;
}

const check = (id: string, options: RequestOptions = {}) => gateway("GET", `/v1/sessions/${id}`, ADMIN_KEY, options);

interface AuditPage {
  entries: { actor: string; request_id: string; client_ip: string | null; details: Record<string, unknown> }[];
}

async function audit(query: string): Promise<AuditPage> {
  return (await (await admin("GET", `/v1/audit?${query}`)).json()) as AuditPage;
}

type Created = { key: KeyView; secret: string };

async function managedAdmin(scopes = ["admin"], extra: Record<string, unknown> = {}): Promise<Created> {
  const res = await admin("POST", "/v1/keys", { name: "dashboard-admin", scopes, ...extra });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Created;
}

describe("POST /v1/sessions", () => {
  it("opens a 12 h session for the calling admin key: a 256-bit id, its principal; D1 keeps its hash", async () => {
    const before = Date.now();
    const opened = await open();
    expect(opened.session_id).toMatch(/^zs_[A-Za-z0-9_-]{43}$/);
    expect(opened.principal).toBe(keyIdOf(await sha256(ADMIN_KEY)));
    expect(opened.expires_at).toBeGreaterThanOrEqual(before + 43_200_000);
    expect(opened.expires_at).toBeLessThanOrEqual(Date.now() + 43_200_000);
    expect(opened.cache_ttl_ms).toBe(Number(env.AUTH_CACHE_TTL_MS));
    const rows = (await env.ACCESS_DB.prepare("SELECT * FROM dashboard_sessions").all()).results;
    expect(JSON.stringify(rows)).not.toContain(opened.session_id);
    const hash = toHex(await sha256(opened.session_id));
    const row = await env.ACCESS_DB.prepare("SELECT * FROM dashboard_sessions WHERE id_hash = ?").bind(hash).first();
    expect(row).toMatchObject({ principal: opened.principal, expires_at: opened.expires_at, revoked_at: null });
  });

  it("is audited as session.create with the client's address, naming a handle, never the id", async () => {
    const headers = { "CF-Connecting-IP": "198.51.100.23", "X-Request-Id": "session-open-1" };
    const opened = await open(ADMIN_KEY, { headers });
    const page = await audit(`action=session.create&target=${opened.principal}`);
    expect(page.entries.find((e) => e.request_id === "session-open-1")).toMatchObject({
      actor: opened.principal,
      client_ip: "198.51.100.23",
      details: { session: expect.stringMatching(/^ses_[0-9a-f]{12}$/), expires_at: opened.expires_at },
    });
    expect(JSON.stringify(page)).not.toContain(opened.session_id);
  });

  it("a shorter ttl_seconds is honoured; SESSION_MAX_TTL_SECONDS is the ceiling whatever is asked", async () => {
    const short = await open(ADMIN_KEY, { body: { ttl_seconds: 120 } });
    expect(short.expires_at - Date.now()).toBeLessThanOrEqual(120_000);
    expect(short.expires_at - Date.now()).toBeGreaterThan(110_000);
    const capped = await open(ADMIN_KEY, { body: { ttl_seconds: 86_400 }, vars: { SESSION_MAX_TTL_SECONDS: "600" } });
    expect(capped.expires_at - Date.now()).toBeLessThanOrEqual(600_000);
    expect(capped.expires_at - Date.now()).toBeGreaterThan(590_000);
    const defaulted = await open(ADMIN_KEY, { vars: { SESSION_MAX_TTL_SECONDS: "forever" } });
    expect(defaulted.expires_at - Date.now()).toBeGreaterThan(43_100_000);
  });

  it("refuses a bad body with 400 naming the field", async () => {
    const bodies = [{ ttl_seconds: 5 }, { ttl_seconds: "1h" }, { ttl_seconds: 1.5 }, { principal: "key_0123456789ab" }];
    for (const body of bodies) {
      const res = await gateway("POST", "/v1/sessions", ADMIN_KEY, { body });
      const error = await expectError(res, 400, "INVALID_REQUEST");
      expect(JSON.stringify(error.details), JSON.stringify(body)).toMatch(/ttl_seconds|principal/);
    }
  });

  it("a caller key without the admin scope gets 403 FORBIDDEN; no key or a wrong one 401; nothing stored", async () => {
    const count = async () =>
      (await env.ACCESS_DB.prepare("SELECT COUNT(*) AS n FROM dashboard_sessions").first<{ n: number }>())?.n;
    const before = await count();
    await expectError(await gateway("POST", "/v1/sessions", KEY), 403, "FORBIDDEN");
    await expectError(await gateway("POST", "/v1/sessions", "not-a-key-at-all"), 401, "UNAUTHORIZED");
    await expectError(await SELF.fetch(`${BASE}/v1/sessions`, { method: "POST" }), 401, "UNAUTHORIZED");
    expect(await count()).toBe(before);
  });
});

describe("GET /v1/sessions/:id", () => {
  it("answers an open session: active, its principal and expiry, and cache_ttl_ms", async () => {
    const opened = await open();
    const res = await check(opened.session_id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      active: true,
      principal: opened.principal,
      expires_at: opened.expires_at,
      cache_ttl_ms: Number(env.AUTH_CACHE_TTL_MS),
    });
  });

  it("an unknown or malformed id is 404 NOT_FOUND", async () => {
    const unknown = `zs_${"A".repeat(43)}`;
    for (const id of [unknown, "zs_short", "key_0123456789abcdef", "%2E%2E"]) {
      await expectError(await check(id), 404, "NOT_FOUND");
    }
  });

  it("is admin-only: a caller key gets 403 and learns nothing about the session", async () => {
    const opened = await open();
    await expectError(await gateway("GET", `/v1/sessions/${opened.session_id}`, KEY), 403, "FORBIDDEN");
    await expectError(await gateway("DELETE", `/v1/sessions/${opened.session_id}`, KEY), 403, "FORBIDDEN");
    expect((await check(opened.session_id)).status).toBe(200);
  });

  it("an expired session is 404", async () => {
    const id = `zs_${"e".repeat(43)}`;
    const principal = keyIdOf(await sha256(ADMIN_KEY));
    const at = Date.now() - 60_000;
    const entry = { actor: principal, action: "session.create", target: principal, requestId: "x-1", clientIp: null };
    const record = { principal, created_at: at, expires_at: at + 1000 };
    await insertSession(env.ACCESS_DB, await sessionHash(id), record, entry);
    await expectError(await check(id), 404, "NOT_FOUND");
  });

  it("revoking the managed admin key behind a session ends it at the next check, key cache or not", async () => {
    const { key, secret } = await managedAdmin();
    const opened = await open(secret);
    expect(opened.principal).toBe(key.id);
    expect((await check(opened.session_id)).status).toBe(200);
    // The key was just verified, so the gateway's key cache holds it; the check reads D1 itself.
    expect((await admin("POST", `/v1/keys/${key.id}/revoke`)).status).toBe(200);
    await expectError(await check(opened.session_id), 404, "NOT_FOUND");
  });

  it("removing the admin scope from the managed key behind a session ends it", async () => {
    const { key, secret } = await managedAdmin(["admin", "agent-demo:echo"]);
    const opened = await open(secret);
    expect((await admin("PATCH", `/v1/keys/${key.id}`, { scopes: ["agent-demo:echo"] })).status).toBe(200);
    await expectError(await check(opened.session_id), 404, "NOT_FOUND");
  });

  it("the expiry of the managed key behind a session ends it", async () => {
    const { secret } = await managedAdmin(["admin"], { expires_in_seconds: 1 });
    const opened = await open(secret);
    expect((await check(opened.session_id)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    await expectError(await check(opened.session_id), 404, "NOT_FOUND");
  });

  it("removing a bootstrap admin key from ADMIN_API_KEYS ends its sessions", async () => {
    const second = "second-bootstrap-admin-key";
    const both = { ADMIN_API_KEYS: `${ADMIN_KEY}, sha256:${toHex(await sha256(second))}` };
    const opened = await open(second, { vars: both });
    expect(opened.principal).toBe(keyIdOf(await sha256(second)));
    expect((await check(opened.session_id, { vars: both })).status).toBe(200);
    await expectError(await check(opened.session_id, { vars: { ADMIN_API_KEYS: ADMIN_KEY } }), 404, "NOT_FOUND");
  });
});

describe("DELETE /v1/sessions/:id", () => {
  it("logout: 204 and the session is gone; again 204, audited once; an id never issued is 404", async () => {
    const opened = await open();
    const headers = { "CF-Connecting-IP": "203.0.113.80", "X-Zahara-On-Behalf-Of": "ana@example.com" };
    const first = await gateway("DELETE", `/v1/sessions/${opened.session_id}`, ADMIN_KEY, { headers });
    expect(first.status).toBe(204);
    expect(await first.text()).toBe("");
    await expectError(await check(opened.session_id), 404, "NOT_FOUND");
    expect((await gateway("DELETE", `/v1/sessions/${opened.session_id}`, ADMIN_KEY)).status).toBe(204);
    const page = await audit(`action=session.revoke&target=${opened.principal}`);
    const handle = `ses_${toHex(await sha256(opened.session_id)).slice(0, 12)}`;
    expect(page.entries.filter((e) => e.details.session === handle)).toEqual([
      expect.objectContaining({
        client_ip: "203.0.113.80",
        details: { session: handle, on_behalf_of: "ana@example.com" },
      }),
    ]);
    await expectError(await gateway("DELETE", `/v1/sessions/zs_${"B".repeat(43)}`, ADMIN_KEY), 404, "NOT_FOUND");
  });
});

describe("secrecy", () => {
  it("the session id is in no log line, even at debug level", async () => {
    const lines: string[] = [];
    for (const m of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const debug = { LOG_LEVEL: "debug" };
    const opened = await open(ADMIN_KEY, { vars: debug });
    expect((await check(opened.session_id, { vars: debug })).status).toBe(200);
    expect((await gateway("DELETE", `/v1/sessions/${opened.session_id}`, ADMIN_KEY, { vars: debug })).status).toBe(204);
    await expectError(await check(opened.session_id, { vars: debug }), 404, "NOT_FOUND");
    expect(lines.filter((l) => l.includes("request completed")).length).toBeGreaterThanOrEqual(4);
    expect(lines.join("\n")).not.toContain(opened.session_id);
  });

  it("the request log keeps a session's path with the id masked", async () => {
    const opened = await open(ADMIN_KEY);
    expect((await check(opened.session_id)).status).toBe(200);
    const rows = await pollUntil(
      async () =>
        (
          await env.REQUEST_LOG.prepare("SELECT path FROM requests WHERE path LIKE '/v1/sessions/%'").all<{
            path: string;
          }>()
        ).results,
      (r) => r.length > 0,
    );
    expect(rows.map((r) => r.path)).toContain("/v1/sessions/:id");
    expect(JSON.stringify(rows)).not.toContain(opened.session_id);
  });
});
