/**
 * Helpers for the dashboard Functions tests: the env (GATEWAY = the real
 * gateway Worker, or the same Worker under changed vars), requests to the API
 * app, signing in, reading and signing session cookies, the error shape.
 */
import { SELF, createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import type { createDashboardApp } from "../../dashboard/functions/_lib/app";
import type { DashboardEnv } from "../../dashboard/functions/_lib/env";
import { type SessionClaims, signSession } from "../../dashboard/functions/_lib/session";
import gatewayWorker from "../../workers/gateway/src/index";
import type { ErrorBody } from "../../workers/shared/errors";

/** The gateway keys configured for the main Worker (see vitest.config.ts). */
export const ADMIN_KEY = "test-admin-key";
export const CALLER_KEY = "test-key-primary";
export const SESSION_SECRET = "test-session-secret-0123456789abcdef-xyz";

/** The dashboard's origin in these tests. */
export const DASH = "https://dash.test";

/** The dashboard API app. */
export type DashboardApp = ReturnType<typeof createDashboardApp>;

/** A login-mode env whose GATEWAY is the real gateway Worker. */
export function dashEnv(overrides: Partial<DashboardEnv> = {}): DashboardEnv {
  return {
    GATEWAY: SELF,
    DASHBOARD_AUTH: "login",
    ACCESS_TEAM_DOMAIN: "",
    ACCESS_AUD: "",
    JAEGER_UI_URL: "",
    LOG_LEVEL: "error",
    GATEWAY_ADMIN_KEY: ADMIN_KEY,
    GATEWAY_CALLER_KEY: CALLER_KEY,
    SESSION_SECRET,
    ...overrides,
  };
}

/** Sends `init` to `path` on the app (a real Request; waits for its waitUntil work). */
export async function send(
  app: DashboardApp,
  path: string,
  init: RequestInit = {},
  env: DashboardEnv = dashEnv(),
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${DASH}${path}`, init), env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A JSON request init. */
export function json(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/** The `name=value` of a response's session cookie. */
export function cookieOf(res: Response): string {
  const setCookie = res.headers.get("Set-Cookie") ?? "";
  const pair = setCookie.split(";")[0] ?? "";
  expect(pair).toMatch(/^zahara_session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  return pair;
}

/** Signs in with `key` and returns the cookie pair. */
export async function signIn(app: DashboardApp, env: DashboardEnv = dashEnv(), key = ADMIN_KEY): Promise<string> {
  const res = await send(app, "/api/login", json("POST", { admin_key: key }), env);
  expect(res.status, await res.clone().text()).toBe(200);
  return cookieOf(res);
}

/** Asserts the gateway's error shape with `service` (default `dashboard`), and returns the body. */
export async function expectError(
  res: Response,
  status: number,
  code: string,
  service = "dashboard",
): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(body).toMatchObject({ code, service });
  expect(typeof body.error).toBe("string");
  expect(typeof body.duration_ms).toBe("number");
  expect(body.request_id).toBe(res.headers.get("X-Request-Id"));
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return body;
}

/** Polls `read` until `done` (for writes the gateway makes after its response). */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  tries = 100,
  intervalMs = 50,
): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !done(value); i++) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await read();
  }
  return value;
}

/** Calls the gateway directly with the admin key (to inspect what the dashboard did). */
export function gatewayAdmin(path: string): Promise<Response> {
  return SELF.fetch(`https://gateway.test${path}`, { headers: { "X-API-Key": ADMIN_KEY } });
}

/** Sends an admin request to the gateway directly (JSON body when given). */
export function gatewayAdminSend(method: string, path: string, body?: unknown): Promise<Response> {
  const json =
    body !== undefined ? { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : undefined;
  return SELF.fetch(`https://gateway.test${path}`, {
    method,
    headers: { "X-API-Key": ADMIN_KEY, ...json?.headers },
    ...(json ? { body: json.body } : {}),
  });
}

/**
 * The real gateway Worker as a GATEWAY binding, run with its env changed by
 * `vars` (for example another ADMIN_API_KEYS); `set` changes them between
 * requests, as an operator changing a secret would.
 */
export function gatewayWith(vars: Record<string, string>): {
  binding: Fetcher;
  set(vars: Record<string, string>): void;
} {
  let current = vars;
  const binding = {
    async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const ctx = createExecutionContext();
      const res = await gatewayWorker.fetch(new Request(input, init), { ...env, ...current } as Env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    },
  } as unknown as Fetcher;
  return { binding, set: (next) => void (current = next) };
}

/** The claims a session cookie pair (`zahara_session=…`) carries (read without checking the signature). */
export function claimsOf(cookie: string): SessionClaims {
  const payload = (cookie.split("=")[1] ?? "").split(".")[0] ?? "";
  return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as SessionClaims;
}

/** A cookie pair for `claims` signed with `secret`: what someone holding that secret could forge. */
export async function forgeCookie(claims: SessionClaims, secret: string): Promise<string> {
  return `zahara_session=${await signSession(claims, secret)}`;
}

/** A session id of the gateway's shape that it never issued. */
export function unissuedSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `zs_${btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")}`;
}
