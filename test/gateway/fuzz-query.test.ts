/**
 * Fuzzes the query strings and path parameters of the gateway's GET routes,
 * in workerd against the real gateway: `/health`, `/agents`, `/metrics`,
 * `/v1/stats`, `/v1/requests`, `/v1/requests/:id`, `/v1/keys`,
 * `/v1/keys/:id`, `/v1/keys/:id/usage`, `/v1/audit` and
 * `/v1/agents/:agent/guard`, each with the key it needs. Queries mix the
 * parameters the routes know (with out-of-range numbers, garbage dates and
 * cursors, overlong values) with unknown ones, repeated ones and
 * percent-encoding garbage; path parameters get garbage and broken
 * percent-encoding too. Every answer holds {@link expectSafeResponse}:
 * never a 500, a 400 naming the bad parameters rather than a crash, errors
 * in the one shape, no stack, no secret. (Naming a bad parameter in
 * `details.fields` is by design, so query text is not checked for echoes.)
 */
import { env, SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_5XX, FUZZ, FUZZ_TIMEOUT_MS, expectSafeResponse } from "./fuzz-arbitraries";
import { ADMIN_KEY, BASE, HASHED_KEY, KEY, post } from "./helpers";

const SECRETS = [
  KEY,
  HASHED_KEY,
  ADMIN_KEY,
  env.METRICS_SCRAPE_TOKEN,
  ...env.GATEWAY_API_KEYS.split(",").map((s) => s.trim()),
];

/** A GET route: `{}` in the path is replaced by a fuzzed segment; the key it needs. */
const ROUTES = [
  { path: "/health" },
  { path: "/agents", key: KEY },
  { path: "/metrics", key: ADMIN_KEY },
  { path: "/v1/stats", key: ADMIN_KEY },
  { path: "/v1/requests", key: ADMIN_KEY },
  { path: "/v1/requests/{}", key: ADMIN_KEY },
  { path: "/v1/keys", key: ADMIN_KEY },
  { path: "/v1/keys/{}", key: ADMIN_KEY },
  { path: "/v1/keys/{}/usage", key: ADMIN_KEY },
  { path: "/v1/audit", key: ADMIN_KEY },
  { path: "/v1/agents/{}/guard", key: ADMIN_KEY },
] as const;

/** Parameters some route reads. */
const KNOWN = ["agent", "status", "since", "cursor", "limit", "kind", "include_revoked", "actor", "action", "target"];

/** Percent-encoding that does not decode, decodes to NUL, a slash, dots, or overlong UTF-8. */
const BROKEN_PERCENT = [
  "%",
  "%z",
  "%zz",
  "%E0%A4%A",
  "%00",
  "%2F",
  "%2e%2e",
  "%C0%AF",
  "%FF%FE",
  "%ED%A0%80",
  "%25",
  "%%",
  "%u0041",
  "+",
];

const base64urlArb = fc.string({ unit: fc.constantFrom(..."ABCxyz0189-_="), minLength: 1, maxLength: 40 });

/** A value as it goes in the URL: encoded or raw, numbers out of range, dates, cursors, ids, broken percent-encoding. */
const valueArb = fc.oneof(
  fc.constantFrom(
    "0",
    "-1",
    "1",
    "200",
    "201",
    "1000",
    "1e3",
    "0x10",
    "1.5",
    "999999999999999999999",
    "NaN",
    "Infinity",
    "5xx",
    "6xx",
    "1XX",
    "099",
  ),
  fc.constantFrom(
    "true",
    "TRUE",
    "false",
    "calls",
    "all",
    "",
    "2026-01-01",
    "2026-13-45T99:99:99Z",
    "9999-99-99",
    "0000-00-00",
    "+275760-09-13",
    "1e308",
  ),
  fc.constantFrom(...BROKEN_PERCENT),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string().map(encodeURIComponent),
  fc.string({ unit: "binary", maxLength: 8 }).map(encodeURIComponent),
  fc.string({ maxLength: 12 }),
  base64urlArb,
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 16, maxLength: 16 }).map((h) => `key_${h}`),
  fc.nat({ max: 5000 }).map((n) => "9".repeat(n)),
);

/** A query string: known and unknown names, some repeated. */
const queryArb = fc
  .array(
    fc.tuple(
      fc.oneof(
        { arbitrary: fc.constantFrom(...KNOWN), weight: 3 },
        {
          arbitrary: fc.oneof(
            fc.string({ maxLength: 6 }),
            fc.constantFrom(...BROKEN_PERCENT, "__proto__", "constructor", "limit[]"),
          ),
          weight: 1,
        },
      ),
      valueArb,
    ),
    { maxLength: 6 },
  )
  .chain((pairs) => fc.tuple(fc.constant(pairs), fc.subarray(pairs, { maxLength: Math.min(2, pairs.length) })))
  .map(([pairs, repeats]) =>
    [...pairs, ...repeats].map(([k, v]) => (v === "" && k.length % 2 ? k : `${k}=${v}`)).join("&"),
  );

/** A path segment: a plausible id, garbage, unicode, or broken percent-encoding. */
const segmentArb = fc.oneof(
  fc.constantFrom(
    "agent-demo",
    "agent-custom",
    "ghost",
    "__proto__",
    "constructor",
    "key_0000000000000000",
    "req-1",
    "a".repeat(129),
    "...",
    "%20",
  ),
  fc.constantFrom(...BROKEN_PERCENT).filter((s) => s !== "%2F"),
  fc.string({ minLength: 1 }).map(encodeURIComponent),
  fc.string({ unit: fc.constantFrom(..."Az09._:-"), minLength: 1, maxLength: 140 }),
  fc
    .tuple(fc.constantFrom(...BROKEN_PERCENT), fc.string({ unit: fc.constantFrom(..."Az09._:-"), maxLength: 10 }))
    .map(([a, b]) => a + b),
);

describe("fuzzed queries", () => {
  beforeAll(async () => {
    // Something in the request log and the audit log to page through.
    for (let i = 0; i < 3; i++) await post("/execute", { task: "echo", parameters: { i } });
    await post("/v1/keys", { name: "query fuzz", scopes: ["*"] }, { "X-API-Key": ADMIN_KEY });
  });

  it(
    "never a 500, a 400 naming bad parameters, errors in the one shape",
    async () => {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ROUTES), segmentArb, queryArb, async (route, segment, query) => {
          const url = `${BASE}${route.path.replace("{}", segment)}${query ? `?${query}` : ""}`;
          const res = await SELF.fetch(url, { headers: "key" in route ? { "X-API-Key": route.key } : {} });
          const { status } = await expectSafeResponse(res, { allowed5xx: ADMIN_5XX, secrets: SECRETS });
          seen.add(`${status} ${route.path}`);
        }),
        { ...FUZZ, numRuns: 200 },
      );
      // Queries both pass and fail validation.
      expect(
        [...seen].some((s) => s.startsWith("200 /v1/")),
        [...seen].join(),
      ).toBe(true);
      expect(
        [...seen].some((s) => s.startsWith("400 /v1/")),
        [...seen].join(),
      ).toBe(true);
    },
    FUZZ_TIMEOUT_MS,
  );
});
