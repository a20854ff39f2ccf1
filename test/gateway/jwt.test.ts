/**
 * JWT verification (workers/gateway/src/auth/jwt.ts), not yet wired into routes: tokens are
 * signed here with WebCrypto; the JWKS endpoint (an external service) is an injected fetch
 * double that counts its calls, so caching and the unknown-kid refetch can be proven.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  type JwtClaims,
  type JwtVerifierConfig,
  JWKS_REFETCH_INTERVAL_MS,
  MAX_JWT_BYTES,
  createJwtVerifier,
  isAllowed,
  resolveJwtConfig,
} from "../../workers/gateway/src/auth/jwt";
import { ZaharaError } from "../../workers/shared/errors";
import { type TestKeys, b64url, generateTestKeys, json64, signJwt } from "./jwt-fixtures";

const ISS = "https://issuer.example.com";
const AUD = "zahara-gateway";
const SECRET = "test-hs256-secret-that-is-at-least-32-bytes-long";
const JWKS_URL = "https://issuer.example.com/.well-known/jwks.json";
const T0 = Date.UTC(2026, 0, 1); // fixed clock, ms
const NOW_S = T0 / 1000;

const enc = new TextEncoder();
let keys: TestKeys;
let rsa: CryptoKeyPair;
let rsaJwk: JsonWebKey & { kid: string };
let ecJwk: JsonWebKey & { kid: string };

beforeAll(async () => {
  keys = await generateTestKeys();
  ({ rsa, rsaJwk, ecJwk } = keys);
});

/** Claims that pass every check at T0. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISS,
    aud: AUD,
    sub: "client-42",
    agent_id: "agent-caller",
    capabilities: ["agent-demo:echo"],
    iat: NOW_S - 10,
    exp: NOW_S + 600,
    ...extra,
  };
}

/** Signs `header.payload` with HS256 (`secret` may be any bytes; default the configured one), RS256 or ES256. */
function sign(
  alg: "HS256" | "RS256" | "ES256",
  payload: Record<string, unknown>,
  opts: { kid?: string; secret?: Uint8Array | string; header?: Record<string, unknown> } = {},
): Promise<string> {
  return signJwt(keys, alg, payload, { ...opts, secret: opts.secret ?? SECRET });
}

/** The JWKS endpoint double: serves `keys` (mutable) and counts requests. */
function jwksServer(keys: () => unknown[] = () => [rsaJwk, ecJwk]) {
  const server = {
    calls: 0,
    signals: [] as (AbortSignal | null | undefined)[],
    status: 200,
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      server.calls++;
      server.signals.push(init?.signal);
      expect(String(input)).toBe(JWKS_URL);
      return Response.json({ keys: keys() }, { status: server.status });
    }) as typeof fetch,
  };
  return server;
}

/** A verifier with a controllable clock (`clock.t`, ms). */
function verifier(config: Partial<JwtVerifierConfig>, fetchImpl?: typeof fetch) {
  const clock = { t: T0 };
  const v = createJwtVerifier(
    { issuer: ISS, audience: AUD, ...config },
    { now: () => clock.t, ...(fetchImpl ? { fetch: fetchImpl } : {}) },
  );
  return { ...v, clock };
}

/** Asserts `promise` rejects with 401 UNAUTHORIZED, optionally with a message matching `message`. */
async function expect401(promise: Promise<unknown>, message?: RegExp): Promise<ZaharaError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a rejection").toBeInstanceOf(ZaharaError);
  const z = err as ZaharaError;
  expect(z.status).toBe(401);
  expect(z.code).toBe("UNAUTHORIZED");
  if (message) expect(z.message).toMatch(message);
  expect(z.message).not.toContain(SECRET);
  return z;
}

const hsOnly = { hs256Secret: SECRET };
const jwksOnly = { jwksUrl: JWKS_URL };

describe("JWT: valid tokens", () => {
  it("accepts a valid HS256 token and returns its typed claims", async () => {
    const v = verifier(hsOnly);
    const out: JwtClaims = await v.verify(await sign("HS256", claims({ agents: ["agent-demo"], scope: "read" })));
    expect(out).toMatchObject({
      sub: "client-42",
      agent_id: "agent-caller",
      agents: ["agent-demo"],
      capabilities: ["agent-demo:echo"],
      scope: "read",
      exp: NOW_S + 600,
    });
  });

  it("accepts a valid RS256 token whose kid is in the JWKS", async () => {
    const jwks = jwksServer();
    const v = verifier(jwksOnly, jwks.fetch);
    expect((await v.verify(await sign("RS256", claims(), { kid: "rsa-1" }))).sub).toBe("client-42");
    expect(jwks.calls).toBe(1);
  });

  it("accepts a valid ES256 token (raw r||s signature) whose kid is in the JWKS", async () => {
    const jwks = jwksServer();
    const v = verifier(jwksOnly, jwks.fetch);
    expect((await v.verify(await sign("ES256", claims(), { kid: "ec-1" }))).sub).toBe("client-42");
  });

  it("accepts HS256 and RS256 side by side when both are configured", async () => {
    const v = verifier({ ...hsOnly, ...jwksOnly }, jwksServer().fetch);
    await v.verify(await sign("HS256", claims()));
    await v.verify(await sign("RS256", claims(), { kid: "rsa-1" }));
  });
});

describe("JWT: time claims", () => {
  it("rejects an expired token", async () => {
    const v = verifier(hsOnly);
    await expect401(v.verify(await sign("HS256", claims({ exp: NOW_S - 3600 }))), /expired/);
  });

  it("accepts a token expired by less than the clock tolerance, rejects one past it", async () => {
    const v = verifier({ ...hsOnly, clockToleranceSec: 30 });
    await v.verify(await sign("HS256", claims({ exp: NOW_S - 20 })));
    await expect401(v.verify(await sign("HS256", claims({ exp: NOW_S - 31 }))), /expired/);
  });

  it("rejects a token that was valid once the clock moves past exp", async () => {
    const v = verifier(hsOnly);
    const token = await sign("HS256", claims({ exp: NOW_S + 60 }));
    await v.verify(token);
    v.clock.t += 91_000;
    await expect401(v.verify(token), /expired/);
  });

  it("rejects a token without exp, or with a non-numeric exp", async () => {
    const v = verifier(hsOnly);
    await expect401(v.verify(await sign("HS256", claims({ exp: undefined }))), /exp/);
    await expect401(v.verify(await sign("HS256", claims({ exp: String(NOW_S + 600) }))), /exp/);
  });

  it("rejects a token whose nbf is in the future (beyond tolerance)", async () => {
    const v = verifier(hsOnly);
    await expect401(v.verify(await sign("HS256", claims({ nbf: NOW_S + 120 }))), /nbf/);
    await v.verify(await sign("HS256", claims({ nbf: NOW_S + 10 })));
  });

  it("rejects a token issued in the future (iat beyond tolerance)", async () => {
    const v = verifier(hsOnly);
    await expect401(v.verify(await sign("HS256", claims({ iat: NOW_S + 120 }))), /iat/);
  });
});

describe("JWT: issuer, audience and claim types", () => {
  it("rejects a wrong issuer", async () => {
    await expect401(verifier(hsOnly).verify(await sign("HS256", claims({ iss: "https://evil.example.com" }))), /iss/);
  });

  it("rejects a wrong audience", async () => {
    await expect401(verifier(hsOnly).verify(await sign("HS256", claims({ aud: "another-api" }))), /aud/);
  });

  it("accepts an aud array that contains this gateway, rejects one that does not", async () => {
    const v = verifier(hsOnly);
    await v.verify(await sign("HS256", claims({ aud: ["another-api", AUD] })));
    await expect401(v.verify(await sign("HS256", claims({ aud: ["another-api", "third"] }))), /aud/);
    await expect401(v.verify(await sign("HS256", claims({ aud: undefined }))), /aud/);
  });

  it("rejects a missing sub and wrongly typed agents / capabilities / agent_id claims", async () => {
    const v = verifier(hsOnly);
    await expect401(v.verify(await sign("HS256", claims({ sub: undefined }))), /sub/);
    await expect401(v.verify(await sign("HS256", claims({ capabilities: "agent-demo:echo" }))), /capabilities/);
    await expect401(v.verify(await sign("HS256", claims({ agents: [1, 2] }))), /agents/);
    await expect401(v.verify(await sign("HS256", claims({ agent_id: 7 }))), /agent_id/);
  });
});

describe("JWT: algorithm confusion", () => {
  it("rejects alg none without a signature", async () => {
    const v = verifier({ ...hsOnly, ...jwksOnly }, jwksServer().fetch);
    for (const alg of ["none", "None", "NONE"]) {
      await expect401(v.verify(`${json64({ alg, typ: "JWT" })}.${json64(claims())}.`), /algorithm/);
    }
  });

  it("rejects alg none even with a (valid HS256) signature attached", async () => {
    const v = verifier(hsOnly);
    const hs = await sign("HS256", claims());
    const sig = hs.split(".")[2];
    await expect401(v.verify(`${json64({ alg: "none" })}.${json64(claims())}.${sig}`), /algorithm/);
  });

  it("HS/RS swap: an HS256 token keyed with the RSA public key is rejected when only JWKS is configured", async () => {
    const jwks = jwksServer();
    const v = verifier(jwksOnly, jwks.fetch);
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", rsa.publicKey)) as ArrayBuffer);
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki))}\n-----END PUBLIC KEY-----\n`;
    for (const secret of [spki, pem, JSON.stringify(rsaJwk)]) {
      await expect401(
        v.verify(await sign("HS256", claims(), { kid: "rsa-1", secret })),
        /algorithm HS256 is not accepted/,
      );
    }
    expect(jwks.calls).toBe(0);
  });

  it("HS/RS swap: an HS256 token keyed with the RSA public key fails the HMAC check when both are configured", async () => {
    const v = verifier({ ...hsOnly, ...jwksOnly }, jwksServer().fetch);
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", rsa.publicKey)) as ArrayBuffer);
    await expect401(v.verify(await sign("HS256", claims(), { kid: "rsa-1", secret: spki })), /signature is invalid/);
  });

  it("HS/RS swap: an RS256 (or ES256) token is rejected when only HS256 is configured", async () => {
    const v = verifier(hsOnly);
    await expect401(v.verify(await sign("RS256", claims(), { kid: "rsa-1" })), /algorithm RS256 is not accepted/);
    await expect401(v.verify(await sign("ES256", claims(), { kid: "ec-1" })), /algorithm ES256 is not accepted/);
  });

  it("rejects other algorithms (HS512, RS384, PS256, EdDSA) and a missing alg", async () => {
    const v = verifier({ ...hsOnly, ...jwksOnly }, jwksServer().fetch);
    for (const alg of ["HS512", "RS384", "PS256", "EdDSA", "hs256"]) {
      await expect401(v.verify(`${json64({ alg, kid: "rsa-1" })}.${json64(claims())}.c2ln`), /algorithm/);
    }
    await expect401(v.verify(`${json64({ typ: "JWT" })}.${json64(claims())}.c2ln`), /algorithm/);
  });

  it("rejects a token whose kid names a key of the wrong type for its alg", async () => {
    const v = verifier(jwksOnly, jwksServer().fetch);
    // ES256 header pointing at the RSA key, RS256 header pointing at the EC key.
    await expect401(v.verify(await sign("ES256", claims(), { kid: "rsa-1" })), /not a P-256 key/);
    await expect401(v.verify(await sign("RS256", claims(), { kid: "ec-1" })), /not a RSA key/);
  });

  it("rejects a token whose JWK declares a different alg or use", async () => {
    const v = verifier(
      jwksOnly,
      jwksServer(() => [
        { ...rsaJwk, alg: "RS512" },
        { ...ecJwk, use: "enc" },
      ]).fetch,
    );
    await expect401(v.verify(await sign("RS256", claims(), { kid: "rsa-1" })), /RS512/);
    await expect401(v.verify(await sign("ES256", claims(), { kid: "ec-1" })), /not a signing key/);
  });

  it("rejects an ES256 signature that is not 64 raw bytes (e.g. DER)", async () => {
    const v = verifier(jwksOnly, jwksServer().fetch);
    const [h, p] = (await sign("ES256", claims(), { kid: "ec-1" })).split(".");
    await expect401(v.verify(`${h}.${p}.${b64url(new Uint8Array(70).fill(1))}`), /signature is invalid/);
  });

  it("rejects a header with crit extensions", async () => {
    const v = verifier(hsOnly);
    await expect401(v.verify(await sign("HS256", claims(), { header: { crit: ["exp"] } })), /crit/);
  });
});

describe("JWT: JWKS fetching, caching and unknown kid", () => {
  it("caches the JWKS for jwksCacheMs, then fetches it again", async () => {
    const jwks = jwksServer();
    const v = verifier({ ...jwksOnly, jwksCacheMs: 60_000 }, jwks.fetch);
    const token = await sign("RS256", claims({ exp: NOW_S + 3600 }), { kid: "rsa-1" });
    await v.verify(token);
    await v.verify(await sign("ES256", claims({ exp: NOW_S + 3600 }), { kid: "ec-1" }));
    v.clock.t += 59_000;
    await v.verify(token);
    expect(jwks.calls).toBe(1);
    v.clock.t += 2_000;
    await v.verify(token);
    expect(jwks.calls).toBe(2);
  });

  it("shares one fetch between concurrent verifications", async () => {
    const jwks = jwksServer();
    const v = verifier(jwksOnly, jwks.fetch);
    const token = await sign("RS256", claims(), { kid: "rsa-1" });
    await Promise.all([v.verify(token), v.verify(token), v.verify(token)]);
    expect(jwks.calls).toBe(1);
  });

  it("fetches with a timeout signal", async () => {
    const jwks = jwksServer();
    await verifier(jwksOnly, jwks.fetch).verify(await sign("RS256", claims(), { kid: "rsa-1" }));
    expect(jwks.signals[0]).toBeInstanceOf(AbortSignal);
  });

  it("unknown kid triggers one refetch, then 401; a second unknown kid within 30 s does not refetch", async () => {
    const jwks = jwksServer();
    const v = verifier(jwksOnly, jwks.fetch);
    await v.verify(await sign("RS256", claims(), { kid: "rsa-1" }));
    expect(jwks.calls).toBe(1);
    v.clock.t += JWKS_REFETCH_INTERVAL_MS + 1_000;
    await expect401(v.verify(await sign("RS256", claims(), { kid: "rsa-unknown" })), /unknown key/);
    expect(jwks.calls).toBe(2);
    await expect401(v.verify(await sign("RS256", claims(), { kid: "rsa-other" })), /unknown key/);
    expect(jwks.calls).toBe(2);
  });

  it("an unknown kid right after a fetch does not refetch (rate limit)", async () => {
    const jwks = jwksServer();
    const v = verifier(jwksOnly, jwks.fetch);
    await expect401(v.verify(await sign("RS256", claims(), { kid: "nope" })), /unknown key/);
    expect(jwks.calls).toBe(1);
  });

  it("picks up a rotated-in key via the unknown-kid refetch", async () => {
    let keys: unknown[] = [rsaJwk];
    const jwks = jwksServer(() => keys);
    const v = verifier(jwksOnly, jwks.fetch);
    await v.verify(await sign("RS256", claims(), { kid: "rsa-1" }));
    keys = [rsaJwk, { ...rsaJwk, kid: "rsa-2" }];
    v.clock.t += JWKS_REFETCH_INTERVAL_MS;
    await v.verify(await sign("RS256", claims({ exp: NOW_S + 3600 }), { kid: "rsa-2" }));
    expect(jwks.calls).toBe(2);
  });

  it("rejects an RS256/ES256 token without a kid", async () => {
    await expect401(verifier(jwksOnly, jwksServer().fetch).verify(await sign("RS256", claims())), /kid/);
  });

  it("answers 401 when the JWKS endpoint fails, is unreachable, or is not a JWKS", async () => {
    const token = await sign("RS256", claims(), { kid: "rsa-1" });
    const failing = jwksServer();
    failing.status = 500;
    await expect401(verifier(jwksOnly, failing.fetch).verify(token), /answered 500/);
    const down = (async () => {
      throw new TypeError("connect ECONNREFUSED");
    }) as typeof fetch;
    await expect401(verifier(jwksOnly, down).verify(token), /could not be reached/);
    const notJwks = (async () => Response.json({ nope: true })) as typeof fetch;
    await expect401(verifier(jwksOnly, notJwks).verify(token), /no keys array/);
  });

  it("gives up on a JWKS endpoint that hangs (2 s timeout)", async () => {
    const hang = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init?.signal?.reason)),
      )) as typeof fetch;
    const started = Date.now();
    await expect401(
      verifier(jwksOnly, hang).verify(await sign("RS256", claims(), { kid: "rsa-1" })),
      /could not be reached/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("JWT: tampered and malformed tokens", () => {
  it("rejects a tampered payload (HS256, RS256, ES256)", async () => {
    const v = verifier({ ...hsOnly, ...jwksOnly }, jwksServer().fetch);
    const forged = json64(claims({ capabilities: ["*"] }));
    for (const token of [
      await sign("HS256", claims()),
      await sign("RS256", claims(), { kid: "rsa-1" }),
      await sign("ES256", claims(), { kid: "ec-1" }),
    ]) {
      const [h, , s] = token.split(".");
      await expect401(v.verify(`${h}.${forged}.${s}`), /signature is invalid/);
    }
  });

  it("rejects a tampered signature", async () => {
    const v = verifier(hsOnly);
    const [h, p] = (await sign("HS256", claims())).split(".");
    await expect401(v.verify(`${h}.${p}.${b64url(new Uint8Array(32))}`), /signature is invalid/);
  });

  it("rejects a token with two (or four) parts", async () => {
    const v = verifier(hsOnly);
    const token = await sign("HS256", claims());
    await expect401(v.verify(token.split(".").slice(0, 2).join(".")), /three/);
    await expect401(v.verify(`${token}.${json64({})}`), /three/);
  });

  it("rejects parts that are not base64url", async () => {
    const v = verifier(hsOnly);
    const [h, p, s] = (await sign("HS256", claims())).split(".");
    await expect401(v.verify(`${h}.${p}.${s}=`), /base64url/);
    await expect401(v.verify(`${h}+.${p}.${s}`), /base64url/);
    await expect401(v.verify(`${h}.${p}!.${s}`), /base64url/);
    await expect401(v.verify(`${h}.${p}.`), /base64url/);
  });

  it("rejects a header that is not JSON, or not a JSON object", async () => {
    const v = verifier(hsOnly);
    await expect401(v.verify(`${b64url("not json")}.${json64(claims())}.c2ln`), /header is not JSON/);
    await expect401(v.verify(`${json64(["HS256"])}.${json64(claims())}.c2ln`), /header is not an object/);
  });

  it("rejects a payload that is not JSON even with a valid signature", async () => {
    const key = await crypto.subtle.importKey("raw", enc.encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    const input = `${json64({ alg: "HS256" })}.${b64url("{oops")}`;
    const sig = b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(input))));
    await expect401(verifier(hsOnly).verify(`${input}.${sig}`), /payload is not JSON/);
  });

  it("rejects an empty or oversized token before any crypto or JWKS fetch", async () => {
    const jwks = jwksServer();
    const v = verifier({ ...hsOnly, ...jwksOnly }, jwks.fetch);
    await expect401(v.verify(""), /Missing/);
    const big = await sign("RS256", claims({ pad: "x".repeat(MAX_JWT_BYTES) }), { kid: "rsa-1" });
    expect(big.length).toBeGreaterThan(MAX_JWT_BYTES);
    await expect401(v.verify(big), /larger than 8192/);
    expect(jwks.calls).toBe(0);
  });
});

describe("JWT config", () => {
  it("resolveJwtConfig: undefined when nothing is set", () => {
    expect(resolveJwtConfig({})).toBeUndefined();
    expect(resolveJwtConfig({ JWT_ISSUER: " ", JWT_JWKS_URL: "" })).toBeUndefined();
  });

  it("resolveJwtConfig: builds the config from env", () => {
    expect(resolveJwtConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_HS256_SECRET: SECRET })).toEqual({
      issuer: ISS,
      audience: AUD,
      hs256Secret: SECRET,
    });
    expect(resolveJwtConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_JWKS_URL: JWKS_URL })).toEqual({
      issuer: ISS,
      audience: AUD,
      jwksUrl: JWKS_URL,
    });
  });

  it("resolveJwtConfig: throws on a half configuration, a short secret or a non-https JWKS URL (never echoing the secret)", () => {
    expect(() => resolveJwtConfig({ JWT_HS256_SECRET: SECRET })).toThrow(/JWT_ISSUER and JWT_AUDIENCE/);
    expect(() => resolveJwtConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD })).toThrow(/JWT_HS256_SECRET or JWT_JWKS_URL/);
    expect(() => resolveJwtConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_HS256_SECRET: "short-secret" })).toThrow(
      /at least 32 bytes/,
    );
    expect(() =>
      resolveJwtConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_JWKS_URL: "http://issuer.example.com/jwks" }),
    ).toThrow(/https/);
    expect(() => resolveJwtConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_JWKS_URL: "not a url" })).toThrow(/https/);
    expect(
      resolveJwtConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_JWKS_URL: "http://localhost:8787/jwks" })?.jwksUrl,
    ).toBe("http://localhost:8787/jwks");
    try {
      resolveJwtConfig({ JWT_HS256_SECRET: "short-secret" });
    } catch (err) {
      expect(String(err)).not.toContain("short-secret");
    }
  });
});

describe("isAllowed", () => {
  const cases: [string, Pick<JwtClaims, "agents" | "capabilities">, string, string, boolean][] = [
    ["exact agent:capability", { capabilities: ["agent-demo:echo"] }, "agent-demo", "echo", true],
    ["exact entry, other capability", { capabilities: ["agent-demo:echo"] }, "agent-demo", "chaos", false],
    ["exact entry, other agent", { capabilities: ["agent-demo:echo"] }, "agent-custom", "echo", false],
    ["agent wildcard", { capabilities: ["agent-demo:*"] }, "agent-demo", "chaos", true],
    ["agent wildcard, other agent", { capabilities: ["agent-demo:*"] }, "agent-custom", "echo", false],
    ["bare capability, any agent", { capabilities: ["echo"] }, "agent-custom", "echo", true],
    ["bare capability, other capability", { capabilities: ["echo"] }, "agent-custom", "classify", false],
    ["*:capability", { capabilities: ["*:classify"] }, "agent-custom", "classify", true],
    ["global *", { capabilities: ["*"] }, "agent-custom", "classify", true],
    ["no capabilities claim: nothing", {}, "agent-demo", "echo", false],
    ["empty capabilities: nothing", { capabilities: [] }, "agent-demo", "echo", false],
    ["agents list allows the agent", { agents: ["agent-demo"], capabilities: ["*"] }, "agent-demo", "echo", true],
    [
      "agents list excludes the agent even with *",
      { agents: ["agent-demo"], capabilities: ["*"] },
      "agent-custom",
      "echo",
      false,
    ],
    ["agents list * allows any agent", { agents: ["*"], capabilities: ["echo"] }, "agent-custom", "echo", true],
    ["empty agents list: nothing", { agents: [], capabilities: ["*"] }, "agent-demo", "echo", false],
    ["case-sensitive", { capabilities: ["Agent-Demo:Echo"] }, "agent-demo", "echo", false],
    ["prefix is not a match", { capabilities: ["agent-demo:ech"] }, "agent-demo", "echo", false],
    [
      "one of several entries matches",
      { capabilities: ["agent-custom:classify", "agent-demo:echo"] },
      "agent-demo",
      "echo",
      true,
    ],
  ];
  it.each(cases)("%s", (_name, c, agent, capability, expected) => {
    expect(isAllowed(c, agent, capability)).toBe(expected);
  });
});
