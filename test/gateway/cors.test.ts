/** CORS from CORS_ORIGINS (preflight answered) and secure headers. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, post } from "./helpers";

function preflight(origin: string): Promise<Response> {
  return SELF.fetch(`${BASE}/execute`, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "content-type,x-api-key,x-request-id",
    },
  });
}

describe("CORS", () => {
  it("answers a preflight from an allowed origin without requiring a key", async () => {
    const res = await preflight("http://localhost:8788");
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:8788");
    expect(res.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(res.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("x-api-key");
    expect(res.headers.get("Access-Control-Max-Age")).toBe("600");
  });

  it("allows every configured origin", async () => {
    const res = await preflight("https://dash.example.com");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://dash.example.com");
  });

  it("gives no CORS grant to another origin", async () => {
    const res = await preflight("https://evil.example");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const actual = await post("/execute", { task: "chaos" }, { Origin: "https://evil.example" });
    expect(actual.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("exposes X-Request-Id to allowed browsers", async () => {
    const res = await post("/execute", { task: "chaos" }, { Origin: "http://localhost:8788" });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:8788");
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-Id");
  });
});

describe("secure headers", () => {
  it("sets the usual hardening headers", async () => {
    const res = await SELF.fetch(`${BASE}/health`);
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
    expect(res.headers.get("Strict-Transport-Security")).toContain("max-age=");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  });
});
