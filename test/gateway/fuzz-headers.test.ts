/**
 * Fuzzes the request headers the gateway reads, in workerd against the real
 * gateway and agents: `X-Request-Id`, `X-API-Key`, `Authorization` (garbage,
 * `Bearer <garbage>`, JWT-shaped garbage), `Content-Type` (garbage and near
 * misses), `X-Timeout-Ms`, `Idempotency-Key`, a lying `Content-Length`,
 * `Origin`, `CF-Connecting-IP`, `X-Zahara-On-Behalf-Of` and an unknown
 * header, on caller, admin and public routes. Every fuzzed value hides a
 * marker (`zz` + 16 hex digits); {@link expectSafeResponse} asserts no
 * marker and no secret comes back in the body or any header, except a
 * caller's `X-Request-Id` that matches the id rule (echoed by design; any
 * other id is replaced by a UUIDv4), and that errors keep the one shape.
 *
 * fetch refuses some header bytes (NUL, CR, LF); such values are dropped
 * from the request rather than sent, and the rest are sent as `Headers`
 * normalizes them (trimmed). A lying Content-Length goes through
 * `SELF.fetch` as a header the gateway sees, while the body stream still
 * carries every byte: this checks the gateway's use of the header (a
 * declared size over the limit is 413 before reading; a smaller or garbage
 * one never stops the streaming limit), not workerd's HTTP framing.
 */
import { env, SELF } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../workers/shared/errors";
import {
  ADMIN_5XX,
  EXECUTE_5XX,
  FUZZ,
  FUZZ_TIMEOUT_MS,
  expectSafeResponse,
  junkArb,
  markerArb,
  normalizedHeader,
  unicodeArb,
  withMarker,
} from "./fuzz-arbitraries";
import { ADMIN_KEY, BASE, HASHED_KEY, KEY } from "./helpers";

const SECRETS = [
  KEY,
  HASHED_KEY,
  ADMIN_KEY,
  env.METRICS_SCRAPE_TOKEN,
  ...env.GATEWAY_API_KEYS.split(",").map((s) => s.trim()),
];
const MARKER = /zz[0-9a-f]{16}/g;

/** A route, the key that may call it, a valid body, and the 5xx it may answer. */
interface Route {
  method: "GET" | "POST";
  path: string;
  key?: string;
  body?: string;
  allowed5xx?: readonly ErrorCode[];
}

/** Callers' routes, and the operators' and public ones. */
const GROUPS: [string, Route[]][] = [
  [
    "callers' routes",
    [
      {
        method: "POST",
        path: "/execute",
        key: KEY,
        body: '{"task":"echo","agent":"agent-demo","parameters":{"n":1}}',
        allowed5xx: EXECUTE_5XX,
      },
      {
        method: "POST",
        path: "/agents/agent-demo/execute",
        key: KEY,
        body: '{"task":"chaos"}',
        allowed5xx: EXECUTE_5XX,
      },
      { method: "GET", path: "/agents", key: KEY },
    ],
  ],
  [
    "operator and public routes",
    [
      { method: "GET", path: "/v1/stats", key: ADMIN_KEY, allowed5xx: ADMIN_5XX },
      {
        method: "POST",
        path: "/v1/agents/agent-demo/breaker/close",
        key: ADMIN_KEY,
        body: '{"reason":"fuzz"}',
        allowed5xx: ADMIN_5XX,
      },
      { method: "GET", path: "/metrics", key: env.METRICS_SCRAPE_TOKEN, allowed5xx: ADMIN_5XX },
      { method: "GET", path: "/health" },
    ],
  ],
];

const mostly = <T>(valid: fc.Arbitrary<T>, mutated: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 2 }, { arbitrary: mutated, weight: 1 });
const b64url = (s: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(s)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const VALID_KEY = "\u0000key";

/** Visible ASCII only: the request-id and idempotency-key alphabets, and junk around them. */
const idCharsArb = fc.string({ unit: fc.constantFrom(..."abcXYZ019._:-"), maxLength: 12 });

/** Present one time in three, so a run sends a few fuzzed headers rather than all of them. */
const sometimes = (arb: fc.Arbitrary<string>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: arb, weight: 1 });

/** The fuzzed value of each header; VALID_KEY stands for the route's own key. */
const FUZZED_HEADERS: Record<string, fc.Arbitrary<string>> = {
  "X-Request-Id": fc.oneof(
    fc.tuple(idCharsArb, markerArb).map(([a, m]) => `${a}${m}`),
    fc.tuple(markerArb, fc.integer({ min: 111, max: 300 })).map(([m, n]) => m + "a".repeat(n)),
    withMarker(),
    withMarker(unicodeArb),
  ),
  "X-API-Key": mostly(fc.constant(VALID_KEY), withMarker()),
  Authorization: fc.oneof(
    fc.constant(`Bearer ${VALID_KEY}`),
    withMarker().map((v) => `Bearer ${v}`),
    fc
      .tuple(junkArb, markerArb, fc.string({ maxLength: 8 }))
      .map(([h, m, sig]) => `Bearer ${b64url(`{"alg":"${h}"}`)}.${b64url(`{"sub":"${m}"}`)}.${b64url(sig)}`),
    fc.tuple(fc.constantFrom("Basic ", "bearer  ", "Bearer", "Token "), withMarker()).map(([scheme, v]) => scheme + v),
  ),
  "Content-Type": mostly(
    fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/json;charset=latin1",
      "application/problem+json",
    ),
    fc.oneof(
      fc.constantFrom(
        "text/plain",
        "application/jsonx",
        "application/ json",
        "json",
        "APPLICATION/JSON",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
      ),
      withMarker(),
    ),
  ),
  "X-Timeout-Ms": fc.oneof(
    fc.constantFrom("4000", "0", "-1", "1e3", " 10 ", "99999999999", "1.5", "0x10", ""),
    fc.nat({ max: 10_000 }).map(String),
    withMarker(),
  ),
  "Idempotency-Key": fc.oneof(
    fc.tuple(idCharsArb, markerArb).map(([a, m]) => `${a}${m}`),
    withMarker(),
  ),
  "Content-Length": fc.oneof(
    fc.integer({ min: -40, max: 5000 }).map((delta) => `delta:${delta}`),
    fc.constantFrom("0", "-1", "abc", "1e3", "99999999999999999999", " 5", "5, 5"),
    withMarker(),
  ),
  Origin: fc.oneof(
    fc.constantFrom("http://localhost:8788", "https://dash.example.com", "null"),
    markerArb.map((m) => `https://${m}.example.com`),
    withMarker(),
  ),
  "CF-Connecting-IP": fc.oneof(fc.constant("203.0.113.99"), withMarker()),
  "X-Zahara-On-Behalf-Of": withMarker(),
  "X-Fuzz-Unknown": withMarker(),
};

/** One value per header, or undefined for none. */
const headersArb = fc.record(
  Object.fromEntries(Object.entries(FUZZED_HEADERS).map(([name, arb]) => [name, sometimes(arb)])),
);

/** The request to send: the route's key put in, a lying Content-Length computed, illegal values dropped. */
function build(route: Route, fuzzed: Record<string, string | undefined>): { headers: Headers; sent: string[] } {
  const headers = new Headers();
  const sent: string[] = [];
  const bodyBytes = new TextEncoder().encode(route.body ?? "").byteLength;
  for (const [name, raw] of Object.entries(fuzzed)) {
    if (raw === undefined) continue;
    let value = raw.replace(VALID_KEY, route.key ?? KEY);
    if (name === "Content-Length" && value.startsWith("delta:"))
      value = String(Math.max(0, bodyBytes + Number(value.slice(6))));
    if (name === "Content-Length" && route.body === undefined) continue;
    const normalized = normalizedHeader(value);
    if (normalized === null) continue;
    headers.set(name, value);
    sent.push(normalized);
  }
  if (!fuzzed["X-API-Key"] && !fuzzed.Authorization && route.key) headers.set("X-API-Key", route.key);
  if (route.body !== undefined && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  return { headers, sent };
}

describe("fuzzed headers", () => {
  for (const [group, routes] of GROUPS) {
    it(
      `${group}: no reflected header value, no secret, errors in the one shape`,
      async () => {
        const seen = new Set<string>();
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...routes), headersArb, async (route, fuzzed) => {
            const { headers, sent } = build(route, fuzzed);
            const res = await SELF.fetch(`${BASE}${route.path}`, {
              method: route.method,
              headers,
              ...(route.body !== undefined ? { body: route.body } : {}),
            });
            const requestId = headers.get("X-Request-Id") ?? undefined;
            const markers = sent.flatMap((v) => v.match(MARKER) ?? []);
            const { status } = await expectSafeResponse(res, {
              allowed5xx: route.allowed5xx ?? [],
              services: ["gateway", "agent-demo", "agent-custom"],
              markers,
              secrets: SECRETS,
              ...(requestId !== undefined ? { requestId } : {}),
            });
            seen.add(`${status} ${route.path}`);
          }),
          { ...FUZZ, numRuns: 100 },
        );
        // Valid keys and bodies get through as well as being refused.
        expect(
          [...seen].some((s) => s.startsWith("200 ")),
          [...seen].join(),
        ).toBe(true);
        expect(
          [...seen].some((s) => s.startsWith("4")),
          [...seen].join(),
        ).toBe(true);
      },
      FUZZ_TIMEOUT_MS,
    );
  }
});
