/**
 * Login mode end to end: POST /api/login opens a session at the real gateway
 * with the key (POST /v1/sessions through the service binding), then the
 * session cookie opens /api/session and the proxy; expiry, tampering, logout,
 * throttling, and the same-origin rule. The attacks on sessions themselves
 * are in sessions.test.ts.
 */
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDashboardApp } from "../../dashboard/functions/_lib/app";
import { SESSION_TTL_SECONDS } from "../../dashboard/functions/_lib/session";
import { keyIdOf, sha256 } from "../../workers/gateway/src/auth/api-keys";
import {
  ADMIN_KEY,
  CALLER_KEY,
  DASH,
  SESSION_SECRET,
  claimsOf,
  cookieOf,
  dashEnv,
  expectError,
  gatewayAdmin,
  gatewayAdminSend,
  json,
  send,
  signIn,
} from "./helpers";

afterEach(() => vi.restoreAllMocks());

const login = (key: unknown, headers: Record<string, string> = {}) => json("POST", { admin_key: key }, headers);

describe("POST /api/login", () => {
  it("with the admin key: 200, the session, and an HttpOnly SameSite=Strict Secure cookie of 12 h", async () => {
    const app = createDashboardApp();
    const res = await send(app, "/api/login", login(ADMIN_KEY));
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toMatch(/; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
    const body = (await res.json()) as {
      user: { sub: string };
      mode: string;
      expires_at: string;
      jaeger_ui_url: string | null;
    };
    // The gateway's principal id of a secret-configured key.
    expect(body.user).toEqual({ sub: keyIdOf(await sha256(ADMIN_KEY)) });
    expect(body.mode).toBe("login");
    expect(body.jaeger_ui_url).toBeNull();
    expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan((SESSION_TTL_SECONDS - 60) * 1000);
    expect(JSON.stringify(body) + setCookie).not.toContain(ADMIN_KEY);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("over http the cookie is not Secure (local dev)", async () => {
    const app = createDashboardApp();
    const res = await app.fetch(new Request("http://localhost:8788/api/login", login(ADMIN_KEY)), dashEnv());
    expect(res.status).toBe(200);
    expect(res.headers.get("Set-Cookie")).not.toMatch(/Secure/);
  });

  it("with a wrong key: 401 UNAUTHORIZED in the gateway's error shape, no cookie", async () => {
    const res = await send(createDashboardApp(), "/api/login", login("not-a-key-at-all"));
    expect(res.headers.get("Set-Cookie")).toBeNull();
    const body = await expectError(res, 401, "UNAUTHORIZED");
    expect(body.details).toEqual({ auth_mode: "login" });
  });

  it("with a caller key (valid, but no admin scope): 403 FORBIDDEN, no cookie", async () => {
    const res = await send(createDashboardApp(), "/api/login", login(CALLER_KEY));
    expect(res.headers.get("Set-Cookie")).toBeNull();
    await expectError(res, 403, "FORBIDDEN");
  });

  it("rejects a missing or malformed key with 400 and never echoes the body", async () => {
    const app = createDashboardApp();
    for (const key of [undefined, "", "   ", 42, "k".repeat(513)]) {
      const body = await expectError(await send(app, "/api/login", login(key)), 400, "INVALID_REQUEST");
      expect(body.details).toEqual({ fields: [expect.objectContaining({ field: "admin_key" })] });
    }
    const broken = await expectError(
      await send(app, "/api/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: `{"admin_key": "${ADMIN_KEY}`,
      }),
      400,
      "INVALID_JSON",
    );
    expect(JSON.stringify(broken)).not.toContain(ADMIN_KEY);
    await expectError(
      await send(app, "/api/login", { method: "POST", body: "admin_key=x" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
  });

  it("answers other methods 405 with Allow", async () => {
    const res = await send(createDashboardApp(), "/api/login");
    await expectError(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("Allow")).toContain("POST");
  });

  it("refuses a cross-origin login (403) before checking anything", async () => {
    const app = createDashboardApp();
    await expectError(
      await send(app, "/api/login", login(ADMIN_KEY, { Origin: "https://evil.example" })),
      403,
      "FORBIDDEN",
    );
    await expectError(
      await send(app, "/api/login", login(ADMIN_KEY, { "Sec-Fetch-Site": "cross-site" })),
      403,
      "FORBIDDEN",
    );
    expect(
      (await send(app, "/api/login", login(ADMIN_KEY, { Origin: DASH, "Sec-Fetch-Site": "same-origin" }))).status,
    ).toBe(200);
  });

  it("is throttled per client address by the gateway's AuthThrottle (429 with Retry-After, a right guess too); another address is not", async () => {
    const app = createDashboardApp();
    const from = (ip: string, key: string) => send(app, "/api/login", login(key, { "CF-Connecting-IP": ip }));
    // AUTH_FAILURE_LIMIT is 3 in this project.
    for (let i = 0; i < 3; i++) await expectError(await from("203.0.113.7", `wrong-key-${i}`), 401, "UNAUTHORIZED");
    const limited = await from("203.0.113.7", "wrong-key-4");
    await expectError(limited, 429, "TOO_MANY_AUTH_FAILURES");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    await expectError(await from("198.51.100.9", "wrong-key-5"), 401, "UNAUTHORIZED");
    // A right guess from the throttled address looks like a wrong one: an admin key the gateway never verified is refused...
    const created = await gatewayAdminSend("POST", "/v1/keys", { name: "second admin", scopes: ["admin"] });
    const { secret } = (await created.json()) as { secret: string };
    await expectError(await from("203.0.113.7", secret), 429, "TOO_MANY_AUTH_FAILURES");
    expect((await from("198.51.100.9", secret)).status).toBe(200);
    // ...while the admin key already in use (the dashboard's own) is not locked out by a noisy neighbour.
    expect((await from("203.0.113.7", ADMIN_KEY)).status).toBe(200);
  });

  it("fails closed (500, nothing signed) without a usable SESSION_SECRET or with an unknown DASHBOARD_AUTH", async () => {
    const app = createDashboardApp();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const env of [
      dashEnv({ SESSION_SECRET: "" }),
      dashEnv({ SESSION_SECRET: "too-short" }),
      dashEnv({ DASHBOARD_AUTH: "off" }),
    ]) {
      const res = await send(app, "/api/login", login(ADMIN_KEY), env);
      expect(res.headers.get("Set-Cookie")).toBeNull();
      await expectError(res, 500, "INTERNAL_ERROR");
    }
  });
});

describe("the session", () => {
  it("GET /api/session answers who is signed in; without a cookie 401 with the auth mode", async () => {
    const app = createDashboardApp();
    const body = await expectError(await send(app, "/api/session"), 401, "UNAUTHORIZED");
    expect(body.details).toEqual({ auth_mode: "login" });
    const cookie = await signIn(app);
    const res = await send(app, "/api/session", { headers: { Cookie: `other=1; ${cookie}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      user: { sub: keyIdOf(await sha256(ADMIN_KEY)) },
      mode: "login",
      jaeger_ui_url: null,
    });
  });

  it("carries JAEGER_UI_URL when it is an http(s) URL", async () => {
    const app = createDashboardApp();
    const cookie = await signIn(app);
    const read = async (url: string) =>
      (
        (await (
          await send(app, "/api/session", { headers: { Cookie: cookie } }, dashEnv({ JAEGER_UI_URL: url }))
        ).json()) as { jaeger_ui_url: string | null }
      ).jaeger_ui_url;
    expect(await read("http://localhost:16686")).toBe("http://localhost:16686");
    expect(await read("javascript:alert(1)")).toBeNull();
  });

  it("carries GATEWAY_PUBLIC_URL (without a trailing slash) when it is an http(s) URL, for the MCP and A2A addresses", async () => {
    const app = createDashboardApp();
    const cookie = await signIn(app);
    const read = async (url: string) =>
      (
        (await (
          await send(app, "/api/session", { headers: { Cookie: cookie } }, dashEnv({ GATEWAY_PUBLIC_URL: url }))
        ).json()) as { gateway_url: string | null }
      ).gateway_url;
    expect(await read("https://gateway.example.com/")).toBe("https://gateway.example.com");
    expect(await read("http://localhost:8000")).toBe("http://localhost:8000");
    expect(await read("javascript:alert(1)")).toBeNull();
    expect(await read("")).toBeNull();
  });

  it("ends after 12 hours", async () => {
    let now = Date.now();
    const app = createDashboardApp({ now: () => now });
    const cookie = await signIn(app);
    now += (SESSION_TTL_SECONDS - 1) * 1000;
    expect((await send(app, "/api/session", { headers: { Cookie: cookie } })).status).toBe(200);
    now += 1000;
    const body = await expectError(
      await send(app, "/api/session", { headers: { Cookie: cookie } }),
      401,
      "UNAUTHORIZED",
    );
    expect(body.error).toMatch(/expired or invalid/);
  });

  it("refuses a tampered cookie and one signed with another secret", async () => {
    const app = createDashboardApp();
    const cookie = await signIn(app);
    const [name, value] = cookie.split("=") as [string, string];
    const [payload, sig] = value.split(".") as [string, string];
    const forged = btoa(JSON.stringify({ sub: "mallory", exp: 4102444800 })).replace(/=+$/, "");
    for (const tampered of [`${name}=${forged}.${sig}`, `${name}=${payload}.${sig.slice(1)}A`]) {
      await expectError(await send(app, "/api/session", { headers: { Cookie: tampered } }), 401, "UNAUTHORIZED");
      await expectError(await send(app, "/api/gw/v1/stats", { headers: { Cookie: tampered } }), 401, "UNAUTHORIZED");
    }
    const rotated = dashEnv({ SESSION_SECRET: `${SESSION_SECRET}-rotated` });
    await expectError(await send(app, "/api/session", { headers: { Cookie: cookie } }, rotated), 401, "UNAUTHORIZED");
  });

  it("POST /api/logout ends the session at the gateway and clears the cookie", async () => {
    const app = createDashboardApp();
    const cookie = await signIn(app);
    const res = await send(app, "/api/logout", { method: "POST", headers: { Cookie: cookie } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, logout_url: null });
    expect(res.headers.get("Set-Cookie")).toBe("zahara_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
    expect((await gatewayAdmin(`/v1/sessions/${claimsOf(cookie).sid}`)).status).toBe(404);
    expect(cookieOf(await send(app, "/api/login", login(ADMIN_KEY)))).not.toBe("");
  });

  it("a logout the gateway cannot record is an error that still clears the cookie", async () => {
    const app = createDashboardApp();
    const cookie = await signIn(app);
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    // Session checks reach the gateway; the DELETE does not.
    const noDelete = {
      fetch: (input: RequestInfo | URL, init?: RequestInit) =>
        init?.method === "DELETE" ? Promise.reject(new Error("connection refused")) : SELF.fetch(input, init),
    } as unknown as Fetcher;
    const logout = { method: "POST", headers: { Cookie: cookie } };
    const res = await send(app, "/api/logout", logout, dashEnv({ GATEWAY: noDelete }));
    expect(res.headers.get("Set-Cookie")).toBe("zahara_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
    await expectError(res, 502, "UPSTREAM_UNREACHABLE");
  });

  it("an unknown /api route is 401 signed out and 404 signed in", async () => {
    const app = createDashboardApp();
    await expectError(await send(app, "/api/nothing-here"), 401, "UNAUTHORIZED");
    const cookie = await signIn(app);
    await expectError(await send(app, "/api/nothing-here", { headers: { Cookie: cookie } }), 404, "NOT_FOUND");
    await expectError(await send(app, "/api", { headers: { Cookie: cookie } }), 404, "NOT_FOUND");
  });

  it("every API answer (200, 401, 404, proxied) is no-store, nosniff, never framed, sends no referrer and runs nothing", async () => {
    const app = createDashboardApp();
    const cookie = await signIn(app);
    const answers = [
      await send(app, "/api/session", { headers: { Cookie: cookie } }),
      await send(app, "/api/session"),
      await send(app, "/api/nothing-here", { headers: { Cookie: cookie } }),
      await send(app, "/api/gw/v1/stats", { headers: { Cookie: cookie } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 404, 200]);
    for (const res of answers) {
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("Content-Security-Policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
      await res.body?.cancel();
    }
  });
});
