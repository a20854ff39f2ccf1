/**
 * The session cookie: signing, expiry, the lifetime ceiling, tampering, its
 * attributes, and which SESSION_SECRET may sign at all.
 */
import { describe, expect, it } from "vitest";
import devVarsExample from "../../dashboard/.dev.vars.example?raw";
import {
  CLOCK_SKEW_SECONDS,
  DEVELOPMENT_SESSION_SECRET,
  SESSION_TTL_SECONDS,
  clearedSessionCookie,
  readCookie,
  sessionCookie,
  sessionSecret,
  signSession,
  verifySession,
} from "../../dashboard/functions/_lib/session";

const SECRET = "session-secret-for-the-unit-tests-0123456789";
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const exp = NOW / 1000 + SESSION_TTL_SECONDS;
const sid = `zs_${"s".repeat(43)}`;

/** base64url of a string. */
const b64 = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

describe("signSession / verifySession", () => {
  it("round-trips {sid, sub, exp} until the expiry, and not at or after it", async () => {
    const token = await signSession({ sid, sub: "key_0123456789ab", exp }, SECRET);
    expect(await verifySession(token, SECRET, NOW)).toEqual({ sid, sub: "key_0123456789ab", exp });
    expect(await verifySession(token, SECRET, (exp - 1) * 1000)).toEqual({ sid, sub: "key_0123456789ab", exp });
    expect(await verifySession(token, SECRET, exp * 1000)).toBeUndefined();
    expect(await verifySession(token, SECRET, (exp + 3600) * 1000)).toBeUndefined();
  });

  it("refuses a token signed with another secret", async () => {
    const token = await signSession({ sid, sub: "admin", exp }, SECRET);
    expect(await verifySession(token, `${SECRET}-rotated`, NOW)).toBeUndefined();
  });

  it("refuses a changed payload (another sub, a later exp) under the original signature", async () => {
    const token = await signSession({ sid, sub: "admin", exp }, SECRET);
    const sig = token.split(".")[1];
    const otherSid = `zs_${"x".repeat(43)}`;
    for (const payload of [
      { sid, sub: "someone-else", exp },
      { sid, sub: "admin", exp: exp + 3600 },
      { sid: otherSid, sub: "admin", exp },
    ]) {
      expect(await verifySession(`${b64(JSON.stringify(payload))}.${sig}`, SECRET, NOW)).toBeUndefined();
    }
  });

  it("refuses a flipped signature bit, and malformed values", async () => {
    const token = await signSession({ sid, sub: "admin", exp }, SECRET);
    const [payload, sig] = token.split(".") as [string, string];
    const flipped = sig.slice(0, -2) + (sig.at(-2) === "A" ? "B" : "A") + sig.at(-1);
    const bad = [
      `${payload}.${flipped}`,
      payload,
      `${payload}.`,
      `.${sig}`,
      `${token}.extra`,
      "",
      "not a token",
      `${payload}.${sig}==`,
      "x".repeat(5000),
    ];
    for (const value of bad) expect(await verifySession(value, SECRET, NOW), value.slice(0, 40)).toBeUndefined();
    expect(await verifySession(undefined, SECRET, NOW)).toBeUndefined();
  });

  it("refuses a correctly signed payload without a usable sid, sub or exp", async () => {
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const bad: unknown[] = [
      { sid, exp },
      { sid, sub: "", exp },
      { sid, sub: "admin" },
      { sid, sub: "admin", exp: "x" },
      [1, 2],
    ];
    // No session id, or one that could not have come from the gateway (it goes into a gateway path).
    for (const badSid of [undefined, "", "../../v1/keys", 42]) bad.push({ sid: badSid, sub: "admin", exp });
    for (const claims of bad) {
      const payload = b64(JSON.stringify(claims));
      const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(payload)));
      const token = `${payload}.${b64(String.fromCharCode(...sig))}`;
      expect(await verifySession(token, SECRET, NOW), JSON.stringify(claims)).toBeUndefined();
    }
  });

  it("a correctly signed exp further away than a login's lifetime is refused, whoever signed it", async () => {
    const ceiling = NOW / 1000 + SESSION_TTL_SECONDS + CLOCK_SKEW_SECONDS;
    const at = async (exp: number) => verifySession(await signSession({ sid, sub: "admin", exp }, SECRET), SECRET, NOW);
    expect(await at(ceiling)).toEqual({ sid, sub: "admin", exp: ceiling });
    for (const far of [ceiling + 1, NOW / 1000 + 30 * 86400, Date.UTC(2100, 0, 1) / 1000]) {
      expect(await at(far), String(far)).toBeUndefined();
    }
  });

  it("needs a secret of at least 32 bytes", async () => {
    await expect(signSession({ sid, sub: "admin", exp }, "short")).rejects.toThrow(/SESSION_SECRET/);
    await expect(verifySession("a.b", "", NOW)).rejects.toThrow(/SESSION_SECRET/);
  });
});

describe("sessionSecret: which SESSION_SECRET may sign", () => {
  it("is the one committed in dashboard/.dev.vars.example that counts as the development secret", () => {
    expect(devVarsExample).toMatch(new RegExp(`^SESSION_SECRET=${DEVELOPMENT_SESSION_SECRET}$`, "m"));
  });

  it("refuses the development secret outside local development, like a missing one, without quoting it", () => {
    for (const ZAHARA_ENV of [undefined, "production", "", "staging", "Development-ish"]) {
      let message = "";
      try {
        sessionSecret({ SESSION_SECRET: DEVELOPMENT_SESSION_SECRET, ZAHARA_ENV });
      } catch (err) {
        message = err instanceof Error ? err.message : String(err);
      }
      expect(message, String(ZAHARA_ENV)).toMatch(/development secret .* refused outside local development/);
      expect(message).not.toContain(DEVELOPMENT_SESSION_SECRET);
    }
    const development = { ZAHARA_ENV: "development" };
    const dev = DEVELOPMENT_SESSION_SECRET;
    expect(sessionSecret({ SESSION_SECRET: dev, ...development })).toBe(dev);
    expect(sessionSecret({ SESSION_SECRET: SECRET, ZAHARA_ENV: "production" })).toBe(SECRET);
    for (const missing of [undefined, "", "short"]) {
      expect(() => sessionSecret({ SESSION_SECRET: missing, ...development })).toThrow(/at least 32 bytes/);
    }
  });
});

describe("the cookie", () => {
  it("is HttpOnly, SameSite=Strict, Path=/, 12 h, and Secure only over https", () => {
    expect(SESSION_TTL_SECONDS).toBe(43200);
    expect(sessionCookie("v", { secure: true, maxAge: SESSION_TTL_SECONDS })).toBe(
      "zahara_session=v; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure",
    );
    expect(sessionCookie("v", { secure: false, maxAge: SESSION_TTL_SECONDS })).toBe(
      "zahara_session=v; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict",
    );
    expect(clearedSessionCookie(true)).toBe("zahara_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
  });

  it("is read from a Cookie header among others", () => {
    expect(readCookie("a=1; zahara_session=abc.def; b=2", "zahara_session")).toBe("abc.def");
    expect(readCookie("xzahara_session=1", "zahara_session")).toBeUndefined();
    expect(readCookie(null, "zahara_session")).toBeUndefined();
  });
});
