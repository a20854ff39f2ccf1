/**
 * Access mode: the Cf-Access-Jwt-Assertion JWT, verified as RS256 against the
 * team's certs. The certs endpoint is the JWKS double over real HTTP; the
 * verifier's fetch only redirects the team domain's host to it (and records
 * the URL asked for, which must be https://<team>/cdn-cgi/access/certs).
 */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createDashboardApp } from "../../dashboard/functions/_lib/app";
import { type TestKeys, generateTestKeys, json64, signJwt } from "../gateway/jwt-fixtures";
import { type DashboardApp, dashEnv, expectError, gatewayAdmin, json, send } from "./helpers";

afterEach(() => vi.restoreAllMocks());

const TEAM = "zahara-test.cloudflareaccess.com";
const AUD = "3a1f0c0ffee0aud0000000000000000000000000000000000000000000000000";
const accessEnv = (overrides = {}) =>
  dashEnv({ DASHBOARD_AUTH: "access", ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, SESSION_SECRET: "", ...overrides });

let keys: TestKeys;
let other: TestKeys;
let setCount = 0;
beforeAll(async () => {
  keys = await generateTestKeys();
  other = await generateTestKeys();
});

/** Publishes `jwks` (or a failing status) as a fresh set; returns an app whose Access certs are that set, and the URLs it fetched. */
async function accessApp(body: {
  keys?: unknown[];
  status?: number;
}): Promise<{ app: DashboardApp; fetched: string[] }> {
  const name = `access-${++setCount}`;
  const put = await fetch(`${env.TEST_JWKS_URL}/sets/${name}`, { method: "PUT", body: JSON.stringify(body) });
  expect(put.status).toBe(200);
  const fetched: string[] = [];
  const app = createDashboardApp({
    access: {
      fetch: (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        fetched.push(url);
        return fetch(
          url.replace(`https://${TEAM}/cdn-cgi/access/certs`, `${env.TEST_JWKS_URL}/sets/${name}/jwks.json`),
          init,
        );
      },
    },
  });
  return { app, fetched };
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (over: Record<string, unknown> = {}) => ({
  iss: `https://${TEAM}`,
  aud: [AUD],
  sub: "7335d417-61da-459d-899c-0a01c76a2f94",
  email: "ana@example.com",
  type: "app",
  iat: now(),
  exp: now() + 600,
  ...over,
});
const rs256 = (payload: Record<string, unknown>, signer: TestKeys = keys, kid = "rsa-1") =>
  signJwt(signer, "RS256", payload, { kid, secret: "" });
const withJwt = (token: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), "Cf-Access-Jwt-Assertion": token },
});

describe("a valid Access JWT", () => {
  it("opens /api/session with the Access identity; the certs come from https://<team>/cdn-cgi/access/certs", async () => {
    const { app, fetched } = await accessApp({ keys: [keys.rsaJwk, keys.ecJwk] });
    const exp = now() + 600;
    const res = await send(app, "/api/session", withJwt(await rs256(claims({ exp }))), accessEnv());
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({
      user: { sub: "7335d417-61da-459d-899c-0a01c76a2f94", email: "ana@example.com" },
      mode: "access",
      expires_at: new Date(exp * 1000).toISOString(),
      jaeger_ui_url: null,
      gateway_url: null,
    });
    expect(fetched).toEqual([`https://${TEAM}/cdn-cgi/access/certs`]);
  });

  it("reaches the gateway; admin actions are audited on behalf of the person's e-mail", async () => {
    const { app } = await accessApp({ keys: [keys.rsaJwk] });
    const token = await rs256(claims());
    const stats = await send(app, "/api/gw/v1/stats", withJwt(token), accessEnv());
    expect(stats.status).toBe(200);
    const created = await send(
      app,
      "/api/gw/v1/keys",
      withJwt(token, json("POST", { name: "via-access", scopes: ["agent-demo:echo"] })),
      accessEnv(),
    );
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: { id: string } };
    const audit = (await (await gatewayAdmin(`/v1/audit?target=${key.id}`)).json()) as {
      entries: { action: string; details: Record<string, unknown> }[];
    };
    expect(audit.entries.map((e) => [e.action, e.details.on_behalf_of])).toEqual([["key.create", "ana@example.com"]]);
  });

  it("logout points at Access's own logout; /api/login does not exist in this mode", async () => {
    const { app } = await accessApp({ keys: [keys.rsaJwk] });
    const res = await send(app, "/api/logout", withJwt(await rs256(claims()), { method: "POST" }), accessEnv());
    expect(await res.json()).toEqual({ ok: true, logout_url: "/cdn-cgi/access/logout" });
    expect(res.headers.get("Set-Cookie")).toBeNull();
    await expectError(
      await send(app, "/api/login", json("POST", { admin_key: "test-admin-key" }), accessEnv()),
      404,
      "NOT_FOUND",
    );
  });
});

describe("refused Access JWTs: 401 with auth_mode access", () => {
  it("a missing header, and a login-mode cookie, are not Access identities", async () => {
    const { app } = await accessApp({ keys: [keys.rsaJwk] });
    const body = await expectError(await send(app, "/api/session", {}, accessEnv()), 401, "UNAUTHORIZED");
    expect(body.details).toEqual({ auth_mode: "access" });
    await expectError(await send(app, "/api/gw/v1/stats", {}, accessEnv()), 401, "UNAUTHORIZED");
  });

  it("wrong audience, wrong issuer, expired, not yet valid, no sub", async () => {
    const { app } = await accessApp({ keys: [keys.rsaJwk] });
    const bad = [
      claims({ aud: ["another-application"] }),
      claims({ iss: "https://evil.cloudflareaccess.com" }),
      claims({ exp: now() - 120 }),
      claims({ nbf: now() + 600 }),
      claims({ sub: "" }),
    ];
    for (const payload of bad) {
      const res = await send(app, "/api/session", withJwt(await rs256(payload)), accessEnv());
      expect(res.status, JSON.stringify(payload)).toBe(401);
      expect(((await res.json()) as { details: unknown }).details).toEqual({ auth_mode: "access" });
    }
  });

  it("a signature by another key under the same kid, and a tampered payload", async () => {
    const { app } = await accessApp({ keys: [keys.rsaJwk] });
    await expectError(
      await send(app, "/api/session", withJwt(await rs256(claims(), other)), accessEnv()),
      401,
      "UNAUTHORIZED",
    );
    const [h, , s] = (await rs256(claims())).split(".");
    const tampered = `${h}.${json64(claims({ email: "mallory@example.com" }))}.${s}`;
    await expectError(await send(app, "/api/session", withJwt(tampered), accessEnv()), 401, "UNAUTHORIZED");
  });

  it("only RS256: an ES256 token signed by a key in the same JWKS, an HS256 token, alg none", async () => {
    const { app } = await accessApp({ keys: [keys.rsaJwk, keys.ecJwk] });
    const es = await signJwt(keys, "ES256", claims(), { kid: "ec-1", secret: "" });
    const hs = await signJwt(keys, "HS256", claims(), { kid: "rsa-1", secret: AUD });
    const none = `${json64({ alg: "none", typ: "JWT" })}.${json64(claims())}.`;
    for (const token of [es, hs, none, "not.a.jwt", "garbage"]) {
      await expectError(await send(app, "/api/session", withJwt(token), accessEnv()), 401, "UNAUTHORIZED");
    }
  });

  it("certs that cannot be fetched fail closed", async () => {
    const { app } = await accessApp({ status: 503 });
    await expectError(
      await send(app, "/api/session", withJwt(await rs256(claims())), accessEnv()),
      401,
      "UNAUTHORIZED",
    );
  });
});

describe("Access misconfigured", () => {
  it("a missing team domain or audience is a 500, never an open dashboard", async () => {
    const { app } = await accessApp({ keys: [keys.rsaJwk] });
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const token = await rs256(claims());
    for (const env of [
      accessEnv({ ACCESS_AUD: "" }),
      accessEnv({ ACCESS_TEAM_DOMAIN: "" }),
      accessEnv({ ACCESS_TEAM_DOMAIN: "https://team.example.com/path" }),
    ]) {
      await expectError(await send(app, "/api/gw/v1/stats", withJwt(token), env), 500, "INTERNAL_ERROR");
    }
  });

  it("the team domain may be given with https:// and a trailing slash", async () => {
    const { app } = await accessApp({ keys: [keys.rsaJwk] });
    const res = await send(
      app,
      "/api/session",
      withJwt(await rs256(claims())),
      accessEnv({ ACCESS_TEAM_DOMAIN: `https://${TEAM}/` }),
    );
    expect(res.status).toBe(200);
  });
});
