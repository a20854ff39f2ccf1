/** The session cookie: signing, expiry, tampering, and its attributes. */
import { describe, expect, it } from "vitest";
import {
  SESSION_TTL_SECONDS,
  clearedSessionCookie,
  readCookie,
  sessionCookie,
  signSession,
  verifySession,
} from "../../dashboard/functions/_lib/session";

const SECRET = "session-secret-for-the-unit-tests-0123456789";
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const exp = NOW / 1000 + SESSION_TTL_SECONDS;

/** base64url of a string. */
const b64 = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

describe("signSession / verifySession", () => {
  it("round-trips {sub, exp} until the expiry, and not at or after it", async () => {
    const token = await signSession({ sub: "key_0123456789ab", exp }, SECRET);
    expect(await verifySession(token, SECRET, NOW)).toEqual({ sub: "key_0123456789ab", exp });
    expect(await verifySession(token, SECRET, (exp - 1) * 1000)).toEqual({ sub: "key_0123456789ab", exp });
    expect(await verifySession(token, SECRET, exp * 1000)).toBeUndefined();
    expect(await verifySession(token, SECRET, (exp + 3600) * 1000)).toBeUndefined();
  });

  it("refuses a token signed with another secret", async () => {
    const token = await signSession({ sub: "admin", exp }, SECRET);
    expect(await verifySession(token, `${SECRET}-rotated`, NOW)).toBeUndefined();
  });

  it("refuses a changed payload (another sub, a later exp) under the original signature", async () => {
    const token = await signSession({ sub: "admin", exp }, SECRET);
    const sig = token.split(".")[1];
    for (const payload of [{ sub: "someone-else", exp }, { sub: "admin", exp: exp + 365 * 86400 }]) {
      expect(await verifySession(`${b64(JSON.stringify(payload))}.${sig}`, SECRET, NOW)).toBeUndefined();
    }
  });

  it("refuses a flipped signature bit, and malformed values", async () => {
    const token = await signSession({ sub: "admin", exp }, SECRET);
    const [payload, sig] = token.split(".") as [string, string];
    const flipped = sig.slice(0, -2) + (sig.at(-2) === "A" ? "B" : "A") + sig.at(-1);
    const bad = [`${payload}.${flipped}`, payload, `${payload}.`, `.${sig}`, `${token}.extra`, "", "not a token", `${payload}.${sig}==`, "x".repeat(5000)];
    for (const value of bad) expect(await verifySession(value, SECRET, NOW), value.slice(0, 40)).toBeUndefined();
    expect(await verifySession(undefined, SECRET, NOW)).toBeUndefined();
  });

  it("refuses a correctly signed payload without a usable sub or exp", async () => {
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    for (const claims of [{ exp }, { sub: "", exp }, { sub: "admin" }, { sub: "admin", exp: "later" }, [1, 2]]) {
      const payload = b64(JSON.stringify(claims));
      const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(payload)));
      const token = `${payload}.${b64(String.fromCharCode(...sig))}`;
      expect(await verifySession(token, SECRET, NOW), JSON.stringify(claims)).toBeUndefined();
    }
  });

  it("needs a secret of at least 32 bytes", async () => {
    await expect(signSession({ sub: "admin", exp }, "short")).rejects.toThrow(/SESSION_SECRET/);
    await expect(verifySession("a.b", "", NOW)).rejects.toThrow(/SESSION_SECRET/);
  });
});

describe("the cookie", () => {
  it("is HttpOnly, SameSite=Strict, Path=/, 12 h, and Secure only over https", () => {
    expect(SESSION_TTL_SECONDS).toBe(43200);
    expect(sessionCookie("v", { secure: true, maxAge: SESSION_TTL_SECONDS })).toBe("zahara_session=v; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure");
    expect(sessionCookie("v", { secure: false, maxAge: SESSION_TTL_SECONDS })).toBe("zahara_session=v; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict");
    expect(clearedSessionCookie(true)).toBe("zahara_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
  });

  it("is read from a Cookie header among others", () => {
    expect(readCookie("a=1; zahara_session=abc.def; b=2", "zahara_session")).toBe("abc.def");
    expect(readCookie("xzahara_session=1", "zahara_session")).toBeUndefined();
    expect(readCookie(null, "zahara_session")).toBeUndefined();
  });
});
