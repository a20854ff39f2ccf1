/**
 * DNS rebinding against a developer's dashboard: a web page whose own host
 * name resolves to 127.0.0.1 can send requests to :8788 that the browser
 * treats as same-origin with the page, carrying `Host: <the page's name>`. In
 * local development (`ZAHARA_ENV=development`) the dashboard answers only
 * loopback names, before any cookie is read or the gateway is called; a
 * deployment (any other `ZAHARA_ENV`) answers whatever host routes to it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDashboardApp } from "../../dashboard/functions/_lib/app";
import { ADMIN_KEY, dashEnv, expectError, json } from "./helpers";

afterEach(() => vi.restoreAllMocks());

const local = dashEnv({ ZAHARA_ENV: "development" });
const login = () => json("POST", { admin_key: ADMIN_KEY });

describe("the Host allow-list of local development", () => {
  it("a DNS-rebinding page (Host: evil.example) cannot drive the dashboard in local development: 403", async () => {
    const app = createDashboardApp();
    for (const host of ["evil.example:8788", "localhost.evil.example:8788", "127.0.0.1.nip.io:8788"]) {
      const url = `http://${host}/api/login`;
      const res = await app.fetch(new Request(url, login()), local);
      expect(res.headers.get("Set-Cookie"), url).toBeNull();
      const body = await expectError(res, 403, "FORBIDDEN");
      expect(body.error).toMatch(/DNS rebinding/);
    }
    // The Host header is what counts, whatever the URL says.
    const spoofed = new Request("http://localhost:8788/api/session", { headers: { Host: "evil.example:8788" } });
    await expectError(await app.fetch(spoofed, local), 403, "FORBIDDEN");
  });

  it("localhost:8788, 127.0.0.1 and [::1] pass in local development", async () => {
    const app = createDashboardApp();
    for (const origin of ["http://localhost:8788", "http://127.0.0.1:8788", "http://[::1]:8788"]) {
      const res = await app.fetch(new Request(`${origin}/api/login`, login()), local);
      expect(res.status, `${origin}: ${await res.clone().text()}`).toBe(200);
      // Signed out, a guarded route is the guard's 401, not the host guard's 403.
      await expectError(await app.fetch(new Request(`${origin}/api/session`), local), 401, "UNAUTHORIZED");
    }
  });

  it("a deployment (ZAHARA_ENV production, or unset) answers any host", async () => {
    const app = createDashboardApp();
    for (const env of [dashEnv(), dashEnv({ ZAHARA_ENV: "production" })]) {
      const res = await app.fetch(new Request("https://dashboard.example.com/api/login", login()), env);
      expect(res.status, await res.clone().text()).toBe(200);
      await res.body?.cancel();
    }
  });
});
