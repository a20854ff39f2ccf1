/**
 * Fuzzes the agent Worker's own `POST /run` (agent-demo is `SELF` here, with
 * its IdempotencyStore), as the gateway or anyone who can reach an agent
 * would call it: arbitrary strings and bytes, JSON of any value, near-valid
 * `{task, parameters}` (wrong types, nasty keys and strings, deep nesting),
 * bodies over MAX_BODY_BYTES (4096 here), and hostile `X-Request-Id`,
 * `Idempotency-Key`, `Content-Type` and `Content-Length` headers, each
 * hiding a marker. Every answer holds the gateway fuzz tests'
 * {@link expectSafeResponse} with service `agent-demo`: never a 500 (no
 * task used calls an LLM or fails on purpose, so no 5xx at all), errors in
 * the one shape, no stack, no reflected header value, no LLM key. A second
 * property sends nesting hundreds of thousands deep under a 1 MiB limit.
 */
import { env, SELF } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FUZZ,
  FUZZ_TIMEOUT_MS,
  bodyTextArb,
  deepJsonArb,
  expectSafeResponse,
  junkArb,
  markerArb,
  nastyKeyArb,
  nastyStringArb,
  normalizedHeader,
  objectText,
  oddValueArb,
  withMarker,
} from "../gateway/fuzz-arbitraries";
import { agentFrom, demoManifest } from "./helpers";

const LIMIT = Number(env.MAX_BODY_BYTES);
// LLM_API_KEY is a binding of the test config, not a var of the agent's wrangler config (so not in Env).
const SECRETS = [(env as unknown as { LLM_API_KEY: string }).LLM_API_KEY];
if (!SECRETS[0]) throw new Error("LLM_API_KEY is not bound");
const MARKER = /zz[0-9a-f]{16}/g;

const fieldTextArb = fc.oneof(
  oddValueArb.map((v) => JSON.stringify(v) ?? "null"),
  nastyStringArb.map((s) => JSON.stringify(s)),
  deepJsonArb,
);

/** `{task, parameters}` mutated: echo with any object, chaos with only `fail_rate` (never a fault or a wait), or wrong types. */
const runBodyArb = fc
  .record({
    task: fc.oneof(
      { arbitrary: fc.constantFrom('"echo"', '"chaos"'), weight: 3 },
      { arbitrary: fc.oneof(fieldTextArb, fc.constantFrom('"nope"', '""', '"summarize"')), weight: 1 },
    ),
    params: fc.oneof(
      {
        arbitrary: fc
          .array(fc.tuple(fc.oneof(nastyKeyArb, fc.string({ maxLength: 8 })), fieldTextArb), { maxLength: 4 })
          .map(objectText),
        weight: 3,
      },
      { arbitrary: fc.constant(null), weight: 1 },
      { arbitrary: fieldTextArb, weight: 1 },
    ),
    extra: fc.oneof(
      { arbitrary: fc.constant([]), weight: 3 },
      { arbitrary: fc.array(fc.tuple(nastyKeyArb, fieldTextArb), { minLength: 1, maxLength: 2 }), weight: 1 },
    ),
  })
  .map(({ task, params, extra }) => {
    // summarize would call the LLM: send it parameters its schema refuses.
    const parameters = task === '"chaos"' ? '{"fail_rate":0.5}' : task === '"summarize"' ? "{}" : params;
    return objectText([
      ["task", task],
      ...(parameters !== null ? ([["parameters", parameters]] as [string, string][]) : []),
      ...extra,
    ]);
  });

const hostileBodyArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { arbitrary: bodyTextArb, weight: 2 },
  { arbitrary: runBodyArb, weight: 4 },
  {
    arbitrary: fc
      .tuple(runBodyArb, fc.integer({ min: 1, max: 2 * LIMIT }))
      .map(([b, n]) => `${b.slice(0, -1)},"pad":"${"x".repeat(LIMIT + n)}"}`),
    weight: 1,
  },
);

const sometimes = (arb: fc.Arbitrary<string>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: arb, weight: 1 });
const headersArb = fc.record({
  "X-Request-Id": sometimes(
    fc.oneof(
      markerArb.map((m) => `run:${m}`),
      withMarker(),
    ),
  ),
  "Idempotency-Key": sometimes(
    fc.oneof(
      markerArb.map((m) => `idem-${m}`),
      withMarker(),
    ),
  ),
  "Content-Type": sometimes(
    fc.oneof(
      fc.constantFrom(
        "application/json",
        "application/json;charset=latin1",
        "text/plain",
        "application/jsonx",
        "application/vnd.x+json",
      ),
      withMarker(),
    ),
  ),
  "Content-Length": sometimes(
    fc.oneof(fc.constantFrom("0", "1", "-1", "abc", "99999999999999999999", "5000"), junkArb),
  ),
});

describe("fuzzed /run", () => {
  it(
    "never a 500, errors in the one shape, nothing reflected",
    async () => {
      const seen = new Set<number>();
      await fc.assert(
        fc.asyncProperty(hostileBodyArb, headersArb, async (body, fuzzed) => {
          const headers = new Headers({ "Content-Type": "application/json" });
          const markers: string[] = [];
          for (const [name, value] of Object.entries(fuzzed)) {
            const normalized = value === undefined ? null : normalizedHeader(value);
            if (value === undefined || normalized === null) continue;
            headers.set(name, value);
            markers.push(...(normalized.match(MARKER) ?? []));
          }
          const requestId = headers.get("X-Request-Id") ?? undefined;
          const res = await SELF.fetch("https://agent.test/run", { method: "POST", headers, body });
          const { status } = await expectSafeResponse(res, {
            services: ["agent-demo"],
            markers,
            secrets: SECRETS,
            ...(requestId !== undefined ? { requestId } : {}),
          });
          seen.add(status);
        }),
        { ...FUZZ, numRuns: 150 },
      );
      expect(seen).toContain(200);
      expect(seen).toContain(400);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "nesting hundreds of thousands deep under a 1 MiB limit is answered, not a crash",
    async () => {
      const agent = agentFrom(demoManifest(), {}, { MAX_BODY_BYTES: String(1024 * 1024) });
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1_000, max: 400_000 }),
          fc.constantFrom("[", '{"a":'),
          fc.boolean(),
          async (depth, open, idempotent) => {
            const close = open === "[" ? "]" : "}";
            const body = `{"task":"echo","parameters":{"a":${open.repeat(depth)}${open === "[" ? "" : "1"}${close.repeat(depth)}}}`;
            const headers = {
              "Content-Type": "application/json",
              ...(idempotent ? { "Idempotency-Key": `deep-${depth}-${open}` } : {}),
            };
            await expectSafeResponse(await agent.call("/run", { method: "POST", headers, body }), {
              services: ["agent-demo"],
            });
          },
        ),
        { ...FUZZ, numRuns: 10 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
