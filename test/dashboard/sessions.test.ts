/**
 * Login-mode sessions held by the gateway (`/v1/sessions`), attacked through
 * the dashboard with the real gateway behind it: a signed cookie is not
 * enough on its own. Each test is an attack that succeeded before sessions
 * had server-side records: replaying a cookie copied before logout, keeping a
 * session after its admin key was revoked or removed, forging a cookie with
 * the committed development secret or a leaked one, and stretching `exp`.
 * Where a test needs "later", it moves the dashboard's clock (`now`), never
 * the gateway's: the gateway's answers are real.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDashboardApp } from "../../dashboard/functions/_lib/app";
import { DEVELOPMENT_SESSION_SECRET, SESSION_TTL_SECONDS } from "../../dashboard/functions/_lib/session";
import { keyIdOf, sha256, toHex } from "../../workers/gateway/src/auth/api-keys";
import {
  ADMIN_KEY,
  SESSION_SECRET,
  claimsOf,
  dashEnv,
  expectError,
  forgeCookie,
  gatewayAdmin,
  gatewayAdminSend,
  gatewayWith,
  json,
  send,
  signIn,
  unissuedSessionId,
} from "./helpers";

afterEach(() => vi.restoreAllMocks());

/** The revocation bound: the gateway's AUTH_CACHE_TTL_MS (wrangler.toml), handed to the dashboard as cache_ttl_ms. */
const TTL_MS = Number(env.AUTH_CACHE_TTL_MS);

const withCookie = (cookie: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), Cookie: cookie },
});

/** An app whose clock the test moves. */
function clockedApp(): { app: ReturnType<typeof createDashboardApp>; advance(ms: number): void } {
  let now = Date.now();
  return { app: createDashboardApp({ now: () => now }), advance: (ms) => void (now += ms) };
}

async function expectSignedOut(res: Response): Promise<void> {
  const body = await expectError(res, 401, "UNAUTHORIZED");
  expect(body.error).toMatch(/Session expired or invalid; sign in again/);
  expect(body.details).toEqual({ auth_mode: "login" });
}

describe("the end of a session", () => {
  it("a session ends at logout even if the cookie was copied", async () => {
    const app = createDashboardApp();
    const cookie = await signIn(app);
    const copied = cookie;
    // Another isolate, which lets the copy in before the logout and never sees the logout itself.
    const elsewhere = clockedApp();
    expect((await send(elsewhere.app, "/api/session", withCookie(copied))).status).toBe(200);
    const out = await send(app, "/api/logout", withCookie(cookie, { method: "POST" }));
    expect(out.status).toBe(200);
    expect(out.headers.get("Set-Cookie")).toMatch(/^zahara_session=; .*Max-Age=0/);
    // The isolate that logged out refuses the copy at once, as does any isolate that asks the gateway.
    await expectSignedOut(await send(app, "/api/session", withCookie(copied)));
    await expectSignedOut(await send(app, "/api/gw/v1/stats", withCookie(copied)));
    await expectSignedOut(await send(createDashboardApp(), "/api/session", withCookie(copied)));
    expect((await gatewayAdmin(`/v1/sessions/${claimsOf(copied).sid}`)).status).toBe(404);
    // The other one reuses the gateway's earlier answer for at most AUTH_CACHE_TTL_MS.
    elsewhere.advance(TTL_MS);
    await expectSignedOut(await send(elsewhere.app, "/api/session", withCookie(copied)));
  });

  it("revoking the managed admin key behind a session ends it within AUTH_CACHE_TTL_MS", async () => {
    const created = await gatewayAdminSend("POST", "/v1/keys", { name: "dashboard-person", scopes: ["admin"] });
    const { key, secret } = (await created.json()) as { key: { id: string }; secret: string };
    const { app, advance } = clockedApp();
    const cookie = await signIn(app, dashEnv(), secret);
    const session = await send(app, "/api/session", withCookie(cookie));
    expect(((await session.json()) as { user: { sub: string } }).user.sub).toBe(key.id);
    expect((await gatewayAdminSend("POST", `/v1/keys/${key.id}/revoke`)).status).toBe(200);
    // Any isolate that asks now is refused: the gateway reads D1, not its key cache.
    await expectSignedOut(await send(createDashboardApp(), "/api/session", withCookie(cookie)));
    // This isolate reuses the gateway's last answer for at most AUTH_CACHE_TTL_MS, then asks again.
    advance(TTL_MS);
    await expectSignedOut(await send(app, "/api/session", withCookie(cookie)));
    await expectSignedOut(await send(app, "/api/gw/v1/stats", withCookie(cookie)));
  });

  it("removing a bootstrap admin key from ADMIN_API_KEYS ends its sessions", async () => {
    const second = "second-bootstrap-admin-key-0001";
    const gateway = gatewayWith({ ADMIN_API_KEYS: `${ADMIN_KEY}, sha256:${toHex(await sha256(second))}` });
    const envWith = dashEnv({ GATEWAY: gateway.binding });
    const { app, advance } = clockedApp();
    const cookie = await signIn(app, envWith, second);
    expect(claimsOf(cookie).sub).toBe(keyIdOf(await sha256(second)));
    expect((await send(app, "/api/session", withCookie(cookie), envWith)).status).toBe(200);
    // The operator rotates the key out of the secret; the dashboard's own GATEWAY_ADMIN_KEY stays.
    gateway.set({ ADMIN_API_KEYS: ADMIN_KEY });
    advance(TTL_MS);
    await expectSignedOut(await send(app, "/api/session", withCookie(cookie), envWith));
    await expectSignedOut(await send(createDashboardApp(), "/api/gw/v1/stats", withCookie(cookie), envWith));
  });

  it("sign-in and logout are audited by the gateway with the browser's address", async () => {
    const app = createDashboardApp();
    const from = { "CF-Connecting-IP": "203.0.113.61" };
    const login = json("POST", { admin_key: ADMIN_KEY }, { ...from, "X-Request-Id": "dash-login-1" });
    const res = await send(app, "/api/login", login);
    expect(res.status).toBe(200);
    const cookie = (res.headers.get("Set-Cookie") ?? "").split(";")[0] as string;
    const logout = withCookie(cookie, { method: "POST", headers: { ...from, "X-Request-Id": "dash-logout-1" } });
    expect((await send(app, "/api/logout", logout)).status).toBe(200);
    const page = await gatewayAdmin(`/v1/audit?target=${keyIdOf(await sha256(ADMIN_KEY))}`);
    const audit = (await page.json()) as { entries: { action: string; request_id: string; client_ip: string }[] };
    const mine = audit.entries
      .filter((e) => /^dash-log(in|out)-1$/.test(e.request_id))
      .map((e) => [e.action, e.request_id, e.client_ip]);
    expect(mine).toEqual([
      ["session.revoke", "dash-logout-1", "203.0.113.61"],
      ["session.create", "dash-login-1", "203.0.113.61"],
    ]);
    expect(JSON.stringify(audit)).not.toContain(claimsOf(cookie).sid);
  });
});

describe("forged and stretched cookies", () => {
  it("a cookie signed with the development SESSION_SECRET is refused outside local development", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const app = createDashboardApp();
    const adminId = keyIdOf(await sha256(ADMIN_KEY));
    // What anyone who read dashboard/.dev.vars.example can sign: any subject, an exp in 2100.
    const claims = { sid: unissuedSessionId(), sub: adminId, exp: Date.UTC(2100, 0, 1) / 1000 };
    const forged = await forgeCookie(claims, DEVELOPMENT_SESSION_SECRET);
    for (const ZAHARA_ENV of [undefined, "production"]) {
      const deployed = dashEnv({ SESSION_SECRET: DEVELOPMENT_SESSION_SECRET, ...(ZAHARA_ENV ? { ZAHARA_ENV } : {}) });
      await expectError(await send(app, "/api/session", withCookie(forged), deployed), 500, "INTERNAL_ERROR");
      await expectError(await send(app, "/api/gw/v1/keys", withCookie(forged), deployed), 500, "INTERNAL_ERROR");
      const login = await send(app, "/api/login", json("POST", { admin_key: ADMIN_KEY }), deployed);
      expect(login.headers.get("Set-Cookie")).toBeNull();
      await expectError(login, 500, "INTERNAL_ERROR");
    }
    expect(lines.join("\n")).toMatch(/development secret .* refused outside local development/);
    expect(lines.join("\n")).not.toContain(DEVELOPMENT_SESSION_SECRET);
    // A deployment with its own secret refuses the forgery on its signature.
    await expectSignedOut(await send(app, "/api/session", withCookie(forged)));
  });

  it("the development SESSION_SECRET still signs sessions in local development", async () => {
    const app = createDashboardApp();
    const local = dashEnv({ SESSION_SECRET: DEVELOPMENT_SESSION_SECRET, ZAHARA_ENV: "development" });
    const at = (path: string, init: RequestInit = {}) =>
      app.fetch(new Request(`http://localhost:8788${path}`, init), local);
    const login = await at("/api/login", json("POST", { admin_key: ADMIN_KEY }));
    expect(login.status, await login.clone().text()).toBe(200);
    const cookie = (login.headers.get("Set-Cookie") ?? "").split(";")[0] as string;
    expect((await at("/api/session", withCookie(cookie))).status).toBe(200);
  });

  it("a forged cookie with a valid signature but no session record is refused", async () => {
    const app = createDashboardApp();
    // SESSION_SECRET leaked: the signature is right, but the gateway never issued this session.
    const sub = keyIdOf(await sha256(ADMIN_KEY));
    const claims = { sid: unissuedSessionId(), sub, exp: Math.floor(Date.now() / 1000) + 3600 };
    const forged = await forgeCookie(claims, SESSION_SECRET);
    await expectSignedOut(await send(app, "/api/session", withCookie(forged)));
    await expectSignedOut(await send(app, "/api/gw/v1/keys", withCookie(forged)));
  });

  it("a cookie naming another principal than its session's is refused", async () => {
    const app = createDashboardApp();
    const cookie = await signIn(app);
    const { sid, exp } = claimsOf(cookie);
    const relabelled = await forgeCookie({ sid, sub: "key_0123456789abcdef", exp }, SESSION_SECRET);
    await expectSignedOut(await send(createDashboardApp(), "/api/session", withCookie(relabelled)));
    await expectSignedOut(await send(app, "/api/session", withCookie(relabelled)));
    expect((await send(app, "/api/session", withCookie(cookie))).status).toBe(200);
  });

  it("a session's exp beyond the server ceiling is refused", async () => {
    const app = createDashboardApp();
    const cookie = await signIn(app);
    const { sid, sub, exp } = claimsOf(cookie);
    expect(exp - Date.now() / 1000).toBeLessThanOrEqual(SESSION_TTL_SECONDS);
    // A real session, re-signed with a leaked secret to outlive the 12 hours it was given.
    for (const stretched of [Math.floor(Date.now() / 1000) + SESSION_TTL_SECONDS + 3600, Date.UTC(2100, 0, 1) / 1000]) {
      const forged = await forgeCookie({ sid, sub, exp: stretched }, SESSION_SECRET);
      await expectSignedOut(await send(app, "/api/session", withCookie(forged)));
    }
    expect((await send(app, "/api/session", withCookie(cookie))).status).toBe(200);
  });

  it("the gateway's SESSION_MAX_TTL_SECONDS ends the cookie too", async () => {
    const gateway = gatewayWith({ SESSION_MAX_TTL_SECONDS: "600" });
    const login = json("POST", { admin_key: ADMIN_KEY });
    const res = await send(createDashboardApp(), "/api/login", login, dashEnv({ GATEWAY: gateway.binding }));
    expect(res.status).toBe(200);
    expect(res.headers.get("Set-Cookie")).toMatch(/; Max-Age=(59\d|600); /);
    const body = (await res.json()) as { expires_at: string };
    expect(Date.parse(body.expires_at) - Date.now()).toBeLessThanOrEqual(600_000);
  });
});

describe("when the gateway cannot say", () => {
  it("a session the gateway cannot check is refused with 503 AUTH_UNAVAILABLE, never let in unchecked", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const cookie = await signIn(createDashboardApp());
    const unreachable = { fetch: () => Promise.reject(new Error("connection refused")) } as unknown as Fetcher;
    const failing = { fetch: () => Promise.resolve(new Response("oops", { status: 500 })) } as unknown as Fetcher;
    for (const GATEWAY of [unreachable, failing]) {
      // A fresh isolate: nothing cached, so it must ask.
      const res = await send(createDashboardApp(), "/api/session", withCookie(cookie), dashEnv({ GATEWAY }));
      await expectError(res, 503, "AUTH_UNAVAILABLE");
      expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    }
  });

  it("a GATEWAY_ADMIN_KEY the gateway refuses is a 500 (logged), not a signed-out person", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const cookie = await signIn(createDashboardApp());
    const callerKeyOnly = dashEnv({ GATEWAY_ADMIN_KEY: "test-key-primary" });
    const res = await send(createDashboardApp(), "/api/session", withCookie(cookie), callerKeyOnly);
    await expectError(res, 500, "INTERNAL_ERROR");
    expect(lines.join("\n")).toContain("The gateway refused GATEWAY_ADMIN_KEY (403)");
  });
});
