/**
 * JWT bearer auth end to end: tokens minted here (WebCrypto) are presented
 * as `Authorization: Bearer` to the real gateway, which verifies them
 * (HS256 with JWT_HS256_SECRET, RS256/ES256 from a JWKS fetched over HTTP
 * from test/doubles/jwks-server.ts), checks their scopes per call against
 * the real agents, throttles repeated failures, and writes the request log.
 * The gateway runs with JWT settings passed as env (the project's default
 * env has none, so JWTs are off there).
 */
import { SELF, createExecutionContext, env } from "cloudflare:test";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../workers/gateway/src/index";
import type { RequestRow } from "../../workers/gateway/src/request-log/writer";
import { BASE, expectError, pollUntil } from "./helpers";
import { type TestKeys, b64url, generateTestKeys, json64, signJwt } from "./jwt-fixtures";

const ISS = "https://idp.example.com";
const AUD = "zahara-gateway";
const SECRET = "jwt-auth-e2e-hs256-secret-at-least-32-bytes";

let keys: TestKeys;
let rsa: CryptoKeyPair;
let rsaJwk: JsonWebKey & { kid: string };
let ecJwk: JsonWebKey & { kid: string };

beforeAll(async () => {
  keys = await generateTestKeys();
  ({ rsa, rsaJwk, ecJwk } = keys);
});

/** Claims valid now (exp in 10 min), scoped to agent-demo's echo unless overridden; `undefined` values drop a claim. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const all: Record<string, unknown> = {
    iss: ISS,
    aud: AUD,
    sub: "client-42",
    capabilities: ["agent-demo:echo"],
    iat: now - 10,
    exp: now + 600,
    ...extra,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

/** Signs a token: HS256 with `secret` (default the configured one; any bytes), RS256 or ES256 with the test key pairs (their kid by default). */
function sign(
  alg: "HS256" | "RS256" | "ES256",
  payload: Record<string, unknown>,
  opts: { kid?: string; secret?: Uint8Array | string } = {},
): Promise<string> {
  const kid = opts.kid ?? (alg === "RS256" ? rsaJwk.kid : alg === "ES256" ? ecJwk.kid : undefined);
  return signJwt(keys, alg, payload, { secret: opts.secret ?? SECRET, ...(kid ? { kid } : {}) });
}

/** Publishes `body` (`{keys}` or `{status}`) as a fresh key set on the JWKS double; returns the set's JWKS URL. */
async function publishJwks(body: {
  keys?: unknown[];
  status?: number;
}): Promise<{ url: string; hits: () => Promise<number> }> {
  const name = `set-${crypto.randomUUID()}`;
  const res = await fetch(`${env.TEST_JWKS_URL}/sets/${name}`, { method: "PUT", body: JSON.stringify(body) });
  expect(res.status, await res.text()).toBe(200);
  return {
    url: `${env.TEST_JWKS_URL}/sets/${name}/jwks.json`,
    hits: async () => ((await (await fetch(`${env.TEST_JWKS_URL}/sets/${name}/hits`)).json()) as { hits: number }).hits,
  };
}

/** JWT settings of the gateway. */
type JwtEnv = Partial<
  Record<
    "JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_HS256_SECRET" | "JWT_JWKS_URL" | "AUTH_FAILURE_LIMIT" | "LOG_LEVEL",
    string
  >
>;
const HS_ONLY: JwtEnv = { JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_HS256_SECRET: SECRET };
const jwksOnly = (url: string): JwtEnv => ({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_JWKS_URL: url });

/** This test's client address (fresh per test, so failures never add up across tests). */
let ip = "";
let ipSeq = 0;
beforeEach(() => {
  ip = `203.0.113.${++ipSeq}`;
});
afterEach(() => vi.restoreAllMocks());

/** Calls the real gateway with `token` as the bearer, the test's env plus `jwtEnv`, from this test's address. */
async function call(jwtEnv: JwtEnv, token: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const req = new Request(
    `${BASE}${path}`,
    body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) },
  );
  return worker.fetch(req, { ...env, ...jwtEnv } as Env, createExecutionContext());
}

/** `POST /execute` of `task` on `agent` (chaos with no parameters: it then succeeds). */
const execute = (jwtEnv: JwtEnv, token: string, agent: string, task: string) =>
  call(jwtEnv, token, "/execute", { task, agent, parameters: task === "chaos" ? {} : { text: "hi" } });

/** Asserts a 200 from `agent` for `task`. */
async function expectServed(res: Response, agent: string, task: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(JSON.parse(text)).toMatchObject({ agent, task });
}

/** Asserts 401 UNAUTHORIZED whose message matches `message`. */
async function expect401(res: Response, message: RegExp): Promise<void> {
  const body = await expectError(res, 401, "UNAUTHORIZED");
  expect(body.error).toMatch(message);
}

describe("JWT auth: HS256 through the gateway", () => {
  it("a token scoped to agent-demo:echo calls echo, by task and on the agent's route", async () => {
    const token = await sign("HS256", claims());
    const res = await execute(HS_ONLY, token, "agent-demo", "echo");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ agent: "agent-demo", task: "echo", result: { text: "hi" } });
    await expectServed(
      await call(HS_ONLY, token, "/agents/agent-demo/execute", { task: "echo", parameters: {} }),
      "agent-demo",
      "echo",
    );
  });

  it("outside that scope: 403 FORBIDDEN for agent-demo chaos and for agent-custom", async () => {
    const token = await sign("HS256", claims());
    for (const [agent, task] of [
      ["agent-demo", "chaos"],
      ["agent-demo", "summarize"],
      ["agent-custom", "echo"],
      ["agent-custom", "classify"],
    ] as const) {
      const body = await expectError(await execute(HS_ONLY, token, agent, task), 403, "FORBIDDEN");
      expect(body.details).toEqual({ agent, capability: task });
    }
    await expectError(await call(HS_ONLY, token, "/agents/agent-custom/execute", { task: "echo" }), 403, "FORBIDDEN");
  });

  it("GET /agents lists only agent-demo, with only echo", async () => {
    const res = await call(HS_ONLY, await sign("HS256", claims()), "/agents");
    expect(res.status).toBe(200);
    const { agents } = (await res.json()) as { agents: { name: string; capabilities: { name: string }[] }[] };
    expect(agents.map((a) => [a.name, a.capabilities.map((c) => c.name)])).toEqual([["agent-demo", ["echo"]]]);
  });

  it("every form of the capabilities claim, and the agents claim, is applied per call", async () => {
    const cases: { caps: string[]; agents?: string[]; allowed: [string, string][]; denied: [string, string][] }[] = [
      {
        caps: ["agent-demo:*"],
        allowed: [
          ["agent-demo", "chaos"],
          ["agent-demo", "echo"],
        ],
        denied: [["agent-custom", "echo"]],
      },
      {
        caps: ["*:echo"],
        allowed: [
          ["agent-demo", "echo"],
          ["agent-custom", "echo"],
        ],
        denied: [["agent-demo", "chaos"]],
      },
      {
        caps: ["echo"],
        allowed: [["agent-custom", "echo"]],
        denied: [
          ["agent-demo", "chaos"],
          ["agent-custom", "classify"],
        ],
      },
      {
        caps: ["*"],
        agents: ["agent-custom"],
        allowed: [["agent-custom", "echo"]],
        denied: [
          ["agent-demo", "echo"],
          ["agent-demo", "chaos"],
        ],
      },
      { caps: ["Agent-Demo:echo", "ECHO"], allowed: [], denied: [["agent-demo", "echo"]] },
    ];
    for (const { caps, agents, allowed, denied } of cases) {
      const token = await sign("HS256", claims({ capabilities: caps, agents }));
      for (const [agent, task] of allowed) await expectServed(await execute(HS_ONLY, token, agent, task), agent, task);
      for (const [agent, task] of denied)
        await expectError(await execute(HS_ONLY, token, agent, task), 403, "FORBIDDEN");
    }
  });
});

describe("JWT auth: RS256 and ES256 from the JWKS endpoint", () => {
  it("accepts RS256 and ES256 tokens whose keys the JWKS double serves over HTTP", async () => {
    const jwks = await publishJwks({ keys: [rsaJwk, ecJwk] });
    const cfg = jwksOnly(jwks.url);
    await expectServed(await execute(cfg, await sign("RS256", claims()), "agent-demo", "echo"), "agent-demo", "echo");
    await expectServed(
      await execute(cfg, await sign("ES256", claims({ sub: "es-client" })), "agent-demo", "echo"),
      "agent-demo",
      "echo",
    );
    expect(await jwks.hits()).toBeGreaterThanOrEqual(1);
  });

  it("a token signed by a key the JWKS does not list (unknown kid, or a known kid with another key) → 401", async () => {
    const jwks = await publishJwks({ keys: [rsaJwk] });
    const cfg = jwksOnly(jwks.url);
    await expect401(await execute(cfg, await sign("ES256", claims()), "agent-demo", "echo"), /unknown key/);
    await expect401(
      await execute(cfg, await sign("ES256", claims(), { kid: "rsa-1" }), "agent-demo", "echo"),
      /not a P-256 key/,
    );
  });

  it("a JWKS endpoint that fails → 401, and the endpoint was asked", async () => {
    const jwks = await publishJwks({ status: 503 });
    await expect401(
      await execute(jwksOnly(jwks.url), await sign("RS256", claims()), "agent-demo", "echo"),
      /Signing keys unavailable/,
    );
    expect(await jwks.hits()).toBeGreaterThanOrEqual(1);
  });
});

describe("JWT auth: rejected tokens", () => {
  const now = () => Math.floor(Date.now() / 1000);
  it.each([
    ["expired", () => claims({ exp: now() - 3600, iat: now() - 7200 }), /expired/],
    ["not yet valid (nbf)", () => claims({ nbf: now() + 3600 }), /not valid yet/],
    ["from another issuer", () => claims({ iss: "https://evil.example.com" }), /issuer/],
    ["for another audience", () => claims({ aud: ["another-service"] }), /audience/],
    ["without exp", () => claims({ exp: undefined }), /no exp/],
    ["without sub", () => claims({ sub: undefined }), /no sub/],
  ])("a token %s → 401", async (_what, payload, message) => {
    await expect401(await execute(HS_ONLY, await sign("HS256", payload()), "agent-demo", "echo"), message);
  });

  it("a token whose payload was altered after signing → 401", async () => {
    const [h, , s] = (await sign("HS256", claims())).split(".");
    const forged = `${h}.${json64(claims({ capabilities: ["*"] }))}.${s}`;
    await expect401(await execute(HS_ONLY, forged, "agent-demo", "chaos"), /signature is invalid/);
  });

  it("a token signed with another HS256 secret → 401", async () => {
    const token = await sign("HS256", claims(), { secret: "another-secret-that-is-also-32-bytes-long" });
    await expect401(await execute(HS_ONLY, token, "agent-demo", "echo"), /signature is invalid/);
  });

  it("a valid token without a capabilities claim may call nothing: 403 on execute, no agents listed", async () => {
    const token = await sign("HS256", claims({ capabilities: undefined }));
    await expectError(await execute(HS_ONLY, token, "agent-demo", "echo"), 403, "FORBIDDEN");
    await expectError(await call(HS_ONLY, token, "/agents/agent-demo/execute", { task: "echo" }), 403, "FORBIDDEN");
    const res = await call(HS_ONLY, token, "/agents");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { agents: unknown[] }).agents).toEqual([]);
  });
});

describe("JWT auth: algorithm confusion", () => {
  it("alg none → 401, with or without a signature, whatever its case", async () => {
    const hs = (await sign("HS256", claims({ capabilities: ["*"] }))).split(".")[2];
    for (const alg of ["none", "None", "NONE"]) {
      const unsigned = `${json64({ alg, typ: "JWT" })}.${json64(claims({ capabilities: ["*"] }))}`;
      for (const token of [`${unsigned}.`, `${unsigned}.${hs}`])
        await expect401(await execute(HS_ONLY, token, "agent-demo", "echo"), /algorithm/);
    }
  });

  it("HS256 HMAC-signed with the RSA public key (JWK JSON, PEM, DER) → 401 when only the JWKS is configured", async () => {
    const jwks = await publishJwks({ keys: [rsaJwk] });
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", rsa.publicKey)) as ArrayBuffer);
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki))}\n-----END PUBLIC KEY-----\n`;
    for (const secret of [JSON.stringify(rsaJwk), pem, spki]) {
      const token = await sign("HS256", claims(), { secret, kid: "rsa-1" });
      await expect401(
        await execute(jwksOnly(jwks.url), token, "agent-demo", "echo"),
        /algorithm HS256 is not accepted/,
      );
    }
  });

  it("HS256 HMAC-signed with the RSA public key → 401 also when HS256 and the JWKS are both configured", async () => {
    const jwks = await publishJwks({ keys: [rsaJwk] });
    const token = await sign("HS256", claims(), { secret: JSON.stringify(rsaJwk), kid: "rsa-1" });
    await expect401(
      await execute({ ...HS_ONLY, ...jwksOnly(jwks.url) }, token, "agent-demo", "echo"),
      /signature is invalid/,
    );
  });

  it("RS256 and ES256 tokens → 401 when only HS256 is configured", async () => {
    for (const alg of ["RS256", "ES256"] as const) {
      await expect401(
        await execute(HS_ONLY, await sign(alg, claims()), "agent-demo", "echo"),
        new RegExp(`algorithm ${alg} is not accepted`),
      );
    }
  });
});

describe("JWT auth: gateway settings and admin routes", () => {
  it("without JWT settings the gateway refuses JWTs with 401, saying so", async () => {
    const token = await sign("HS256", claims());
    const viaSelf = await SELF.fetch(`${BASE}/agents`, {
      headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip },
    });
    await expect401(viaSelf, /does not accept JWT/);
    await expect401(
      await execute({ JWT_ISSUER: "", JWT_AUDIENCE: "", JWT_JWKS_URL: "" }, token, "agent-demo", "echo"),
      /does not accept JWT/,
    );
  });

  it("with incomplete JWT settings JWTs are refused (401) and the problem is logged as an error", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(String(line)));
    const token = await sign("HS256", claims());
    await expect401(
      await execute({ JWT_ISSUER: ISS, JWT_HS256_SECRET: SECRET }, token, "agent-demo", "echo"),
      /does not accept JWT/,
    );
    await expect401(
      await execute({ ...HS_ONLY, JWT_HS256_SECRET: "too-short" }, token, "agent-demo", "echo"),
      /does not accept JWT/,
    );
    const logged = errors
      .map((l) => JSON.parse(l) as { message: string; problem?: string })
      .filter((l) => /JWT settings are incomplete/.test(l.message));
    expect(logged.map((l) => l.problem)).toEqual([
      expect.stringMatching(/JWT_AUDIENCE must be set/),
      expect.stringMatching(/at least 32 bytes/),
    ]);
    expect(errors.join("\n")).not.toContain(SECRET);
  });

  it("a JWT on an admin route → 403 FORBIDDEN, however broad its capabilities", async () => {
    for (const caps of [["agent-demo:echo"], ["*"]]) {
      const token = await sign("HS256", claims({ capabilities: caps }));
      for (const path of ["/v1/keys", "/v1/requests", "/v1/stats", "/v1/audit", "/metrics"]) {
        const body = await expectError(await call(HS_ONLY, token, path), 403, "FORBIDDEN");
        expect(body.error).toMatch(/scope/);
      }
      await expectError(
        await call(HS_ONLY, token, "/v1/keys", { name: "from-a-jwt", scopes: ["*"] }),
        403,
        "FORBIDDEN",
      );
    }
  });

  it("a JWT claiming the admin or metrics capability is still no admin (403 on /v1/* and /metrics)", async () => {
    for (const caps of [["admin"], ["metrics"], ["admin", "metrics", "*"]]) {
      const token = await sign("HS256", claims({ capabilities: caps }));
      for (const path of ["/v1/keys", "/v1/requests", "/metrics"])
        await expectError(await call(HS_ONLY, token, path), 403, "FORBIDDEN");
    }
  });

  it("repeated bad JWTs from one address → 429 TOO_MANY_AUTH_FAILURES; a valid JWT already in use there still works, a new one does not", async () => {
    const cfg = { ...HS_ONLY, AUTH_FAILURE_LIMIT: "3" };
    const inUse = await sign("HS256", claims({ sub: `in-use-${crypto.randomUUID()}` }));
    await expectServed(await execute(cfg, inUse, "agent-demo", "echo"), "agent-demo", "echo");
    const bad = await sign("HS256", claims({ exp: Math.floor(Date.now() / 1000) - 3600 }));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await execute(cfg, bad, "agent-demo", "echo")).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await execute(cfg, bad, "agent-demo", "echo");
    await expectError(limited, 429, "TOO_MANY_AUTH_FAILURES");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    await expectServed(await execute(cfg, inUse, "agent-demo", "echo"), "agent-demo", "echo");
    // A valid token this isolate never verified is refused like a wrong one: a right guess must not stand out.
    const fresh = await sign("HS256", claims({ sub: `fresh-${crypto.randomUUID()}` }));
    await expectError(await execute(cfg, fresh, "agent-demo", "echo"), 429, "TOO_MANY_AUTH_FAILURES");
  });
});

describe("JWT auth: the token never leaks", () => {
  async function rowOf(requestId: string): Promise<RequestRow | null> {
    return env.REQUEST_LOG.prepare("SELECT * FROM requests WHERE request_id = ?").bind(requestId).first<RequestRow>();
  }

  it("not in debug log lines, response bodies or headers, nor the request log, whose key_id is jwt:<sub>", async () => {
    const lines: string[] = [];
    for (const m of ["log", "warn", "error"] as const)
      vi.spyOn(console, m).mockImplementation((line: string) => void lines.push(String(line)));
    const cfg = { ...HS_ONLY, LOG_LEVEL: "debug" };
    const good = await sign("HS256", claims({ sub: "leak-check" }));
    const expired = await sign("HS256", claims({ sub: "leak-check", exp: Math.floor(Date.now() / 1000) - 3600 }));
    const forged = `${good.split(".").slice(0, 2).join(".")}.${b64url(new Uint8Array(32).fill(7))}`;
    const tokens = [good, expired, forged];
    const secrets = [...tokens, ...tokens.map((t) => t.split(".")[2] as string), SECRET];

    const seen: { res: Response; text: string; keyId: string | null }[] = [];
    for (const [token, path, body, keyId] of [
      [good, "/execute", { task: "echo", agent: "agent-demo", parameters: { a: 1 } }, "jwt:leak-check"],
      [good, "/execute", { task: "chaos", agent: "agent-demo", parameters: {} }, "jwt:leak-check"],
      [good, "/agents", undefined, "jwt:leak-check"],
      [good, "/v1/requests", undefined, "jwt:leak-check"],
      [expired, "/execute", { task: "echo", agent: "agent-demo" }, null],
      [forged, "/execute", { task: "echo", agent: "agent-demo" }, null],
    ] as const) {
      const res = await call(cfg, token, path, body);
      seen.push({ res, text: await res.text(), keyId });
    }
    expect(seen.map((s) => s.res.status)).toEqual([200, 403, 200, 403, 401, 401]);
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const line of lines) expect(line).not.toContain(secret);
      for (const { res, text } of seen) {
        expect(text).not.toContain(secret);
        for (const [, value] of res.headers) expect(value).not.toContain(secret);
      }
    }

    for (const { res, keyId } of seen) {
      const requestId = res.headers.get("X-Request-Id") as string;
      const row = await pollUntil(
        () => rowOf(requestId),
        (r) => r !== null,
        200,
        50,
      );
      expect(row, `request log row of ${requestId}`).not.toBeNull();
      if (keyId === null) expect(row?.key_id).toBeNull();
      else expect(row?.key_id).toMatch(new RegExp(`^${keyId}:[0-9a-f]{32}$`));
      const stored = JSON.stringify(row);
      for (const secret of secrets) expect(stored).not.toContain(secret);
    }
  });

  it("a subject with control characters, or longer than 256 characters, is refused (it could collide once cleaned)", async () => {
    await expectError(
      await execute(HS_ONLY, await sign("HS256", claims({ sub: "line\nbreak\u0000\u007fuser" })), "agent-demo", "echo"),
      401,
      "UNAUTHORIZED",
    );
    await expectError(
      await execute(HS_ONLY, await sign("HS256", claims({ sub: "a".repeat(257) })), "agent-demo", "echo"),
      401,
      "UNAUTHORIZED",
    );
  });

  it("two subjects that once collided (same first 128 characters, or equal without control characters) are two principals", async () => {
    const ids: string[] = [];
    for (const sub of [`${"a".repeat(128)}x`, `${"a".repeat(128)}y`, "linebreakuser"]) {
      const res = await execute(HS_ONLY, await sign("HS256", claims({ sub })), "agent-demo", "echo");
      expect(res.status).toBe(200);
      const requestId = res.headers.get("X-Request-Id") as string;
      const row = await pollUntil(
        () => rowOf(requestId),
        (r) => r !== null,
        200,
        50,
      );
      ids.push(row!.key_id!);
    }
    expect(new Set(ids).size).toBe(3);
    expect(ids[2]).toMatch(/^jwt:linebreakuser:[0-9a-f]{32}$/);
  });
});
