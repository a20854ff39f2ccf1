/**
 * Fuzzes the request bodies of the gateway's JSON routes, in workerd against
 * the real gateway and agents: `POST /execute`, `POST /agents/agent-demo/execute`,
 * and the admin routes `POST /v1/keys`, `PATCH /v1/keys/:id` and
 * `POST /v1/agents/agent-demo/breaker/open`. Bodies are arbitrary strings
 * and bytes, JSON of any value, near-valid objects with mutated fields
 * (wrong types, huge, unicode and control-character strings, deep nesting,
 * `__proto__`/`constructor` keys) and bodies over MAX_BODY_BYTES. Whatever
 * arrives, the answer holds {@link expectSafeResponse}: never a 500, errors
 * in the one shape, no stack, no secret. Tasks are `echo` and a `chaos`
 * without faults or delays, so no LLM is called and nothing waits.
 */
import { env, SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { GUARDED_AGENTS } from "./setup";
import {
  ADMIN_5XX,
  EXECUTE_5XX,
  FUZZ,
  FUZZ_TIMEOUT_MS,
  bodyTextArb,
  deepJsonArb,
  expectSafeResponse,
  nastyKeyArb,
  nastyStringArb,
  objectText,
  oddValueArb,
} from "./fuzz-arbitraries";
import { ADMIN_KEY, BASE, HASHED_KEY, KEY } from "./helpers";

const LIMIT = Number(env.MAX_BODY_BYTES);
const SECRETS = [
  KEY,
  HASHED_KEY,
  ADMIN_KEY,
  env.METRICS_SCRAPE_TOKEN,
  ...env.GATEWAY_API_KEYS.split(",").map((s) => s.trim()),
];
const AGENT_SERVICES = ["gateway", "agent-demo", "agent-custom"];
const RUNS = 40;

/** Sends `body` (text or bytes) as JSON to `method path` with `key`. */
function send(
  method: string,
  path: string,
  body: string | Uint8Array,
  key: string,
  contentType = "application/json",
): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { method, headers: { "Content-Type": contentType, "X-API-Key": key }, body });
}

let runs = 0;
/** Every 20 runs each agent's guard is emptied, so the per-key burst (30) never turns the rest of a property into 429s. */
async function resetGuards(): Promise<void> {
  if (runs++ % 20 !== 0) return;
  for (const agent of GUARDED_AGENTS) await env.UPSTREAM_GUARD.get(env.UPSTREAM_GUARD.idFromName(agent)).resetAll();
}

/** Mostly `valid`, sometimes `mutated`, so runs reach past validation as well as into it. */
function mostly<T>(valid: fc.Arbitrary<T>, mutated: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: mutated, weight: 1 });
}

/** Chaos parameters that neither fail nor wait: `fail_rate` alone never injects a fault. */
const chaosParamsArb = fc.oneof(
  fc.constant("{}"),
  oddValueArb.map((v) => objectText([["fail_rate", JSON.stringify(v)]])),
);

/** Any JSON value's text, a nasty string, or deep nesting, as a field value. */
const fieldTextArb = fc.oneof(
  oddValueArb.map((v) => JSON.stringify(v) ?? "null"),
  nastyStringArb.map((s) => JSON.stringify(s)),
  deepJsonArb,
);

/** `parameters` for echo: an object with nasty keys and odd values, or not an object at all. */
const echoParamsArb = mostly(
  fc
    .array(fc.tuple(fc.oneof(nastyKeyArb, fc.string({ maxLength: 8 })), fieldTextArb), { maxLength: 5 })
    .map(objectText),
  fieldTextArb,
);

/** A near-valid execute body: `{task, parameters}` mutated, extra keys, `agent` (only for /execute). */
function executeBodyArb(withAgent: boolean) {
  const task = mostly(
    fc.constantFrom('"echo"', '"chaos"'),
    fc.oneof(fieldTextArb, fc.constantFrom('"summarize "', '"ECHO"', '"echo\\u0000"', `"${"t".repeat(129)}"`)),
  );
  const agent = mostly(
    fc.constantFrom('"agent-demo"', '"agent-custom"'),
    fc.oneof(fc.constantFrom('"ghost"', '"__proto__"', '"constructor"', '""'), fieldTextArb),
  );
  return fc
    .record({
      task,
      params: fc.option(echoParamsArb),
      chaos: chaosParamsArb,
      agent: fc.option(agent),
      extra: mostly(
        fc.constant<[string, string][]>([]),
        fc.array(fc.tuple(nastyKeyArb, fieldTextArb), { minLength: 1, maxLength: 2 }),
      ),
    })
    .map(({ task, params, chaos, agent, extra }) => {
      const entries: [string, string][] = [["task", task]];
      const parameters = task === '"chaos"' ? chaos : params;
      if (parameters !== null) entries.push(["parameters", parameters]);
      if (withAgent && agent !== null) entries.push(["agent", agent]);
      return objectText([...entries, ...extra]);
    });
}

/** Anything a client could send: raw text or bytes, near-valid objects, or a body over the limit. */
function hostileBodyArb(nearValid: fc.Arbitrary<string>): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof(
    { arbitrary: bodyTextArb, weight: 3 },
    { arbitrary: nearValid, weight: 5 },
    {
      arbitrary: fc
        .tuple(nearValid, fc.integer({ min: 1, max: 3 * LIMIT }))
        .map(([b, n]) => `${b.slice(0, -1)},"pad":"${"x".repeat(LIMIT + n)}"}`),
      weight: 1,
    },
  );
}

describe("fuzzed execute bodies", () => {
  for (const [path, withAgent] of [
    ["/execute", true],
    ["/agents/agent-demo/execute", false],
  ] as const) {
    it(
      `POST ${path}: never a 500, errors in the one shape`,
      async () => {
        const seen = new Set<number>();
        await fc.assert(
          fc
            .asyncProperty(hostileBodyArb(executeBodyArb(withAgent)), async (body) => {
              const { status } = await expectSafeResponse(await send("POST", path, body, KEY), {
                allowed5xx: EXECUTE_5XX,
                services: AGENT_SERVICES,
                secrets: SECRETS,
              });
              seen.add(status);
            })
            .beforeEach(resetGuards),
          { ...FUZZ, numRuns: RUNS * 2 },
        );
        // The generator reaches both the agents and the validation.
        expect(seen).toContain(200);
        expect(seen).toContain(400);
      },
      FUZZ_TIMEOUT_MS,
    );
  }
});

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

const expiresAtArb = mostly(
  fc.constantFrom("null", '"2099-01-01T00:00:00Z"', '"9999-12-31T23:59:59+14:00"'),
  fc.oneof(
    fc.constant('"2000-01-01T00:00:00Z"'),
    fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 19 }),
        fc.integer({ min: 0, max: 39 }),
        fc.integer({ min: 0, max: 29 }),
        fc.integer({ min: 0, max: 69 }),
        fc.constantFrom("Z", "+00:00", "-23:59", "+99:99", ""),
      )
      .map(([y, mo, d, h, mi, z]) => `"${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:00${z}"`),
    fieldTextArb,
  ),
);
const expiresInArb = mostly(
  fc.constantFrom("3600", "315360000"),
  fc.oneof(fc.constantFrom("1", "315360001", "0"), fieldTextArb),
);

/** No expiry, one of the two ways to give it, or (refused) both. */
type Entries = [string, string][];
const expiryArb: fc.Arbitrary<Entries> = fc.oneof(
  fc.constant<Entries>([]),
  expiresAtArb.map((v): Entries => [["expires_at", v]]),
  expiresInArb.map((v): Entries => [["expires_in_seconds", v]]),
  mostly(fc.constant(null), fc.tuple(expiresAtArb, expiresInArb)).map((both): Entries =>
    both
      ? [
          ["expires_at", both[0]],
          ["expires_in_seconds", both[1]],
        ]
      : [],
  ),
);

/** Near-valid key settings: each field present or not, of the right shape or mutated, now and then an unknown key. */
const keySettingsArb = fc
  .record(
    {
      name: mostly(fc.constant('"fuzz key"'), fieldTextArb),
      scopes: mostly(
        fc.constantFrom('["agent-demo:echo"]', '["*"]', '["admin"]', '["agent-demo:*","metrics"]'),
        fc.oneof(fc.constantFrom('["ghost:x"]', '[":"]', '[""]'), fieldTextArb),
      ),
      rate_limit: mostly(
        fc.constantFrom("null", '{"requests_per_minute":60}'),
        fc.oneof(fc.constant('{"requests_per_minute":1e9,"burst":0}'), fieldTextArb),
      ),
      daily_token_budget: mostly(
        fc.constantFrom("null", "1", "1000000000000"),
        fc.oneof(fc.constant("1000000000001"), fieldTextArb),
      ),
    },
    { requiredKeys: ["name", "scopes"] },
  )
  .chain((fields) =>
    fc
      .tuple(expiryArb, mostly(fc.constant(null), fc.tuple(nastyKeyArb, fieldTextArb)))
      .map(([expiry, extra]) => objectText([...Object.entries(fields), ...expiry, ...(extra ? [extra] : [])])),
  );

describe("fuzzed admin bodies", () => {
  let keyId = "";
  beforeAll(async () => {
    const res = await send(
      "POST",
      "/v1/keys",
      JSON.stringify({ name: "fuzzed", scopes: ["agent-demo:echo"] }),
      ADMIN_KEY,
    );
    expect(res.status).toBe(201);
    keyId = ((await res.json()) as { key: { id: string } }).key.id;
  });

  it(
    "POST /v1/keys: never a 500, errors in the one shape, only generated secrets",
    async () => {
      const seen = new Set<number>();
      await fc.assert(
        fc.asyncProperty(hostileBodyArb(keySettingsArb), async (body) => {
          const { status } = await expectSafeResponse(await send("POST", "/v1/keys", body, ADMIN_KEY), {
            allowed5xx: ADMIN_5XX,
            secrets: SECRETS,
          });
          seen.add(status);
        }),
        { ...FUZZ, numRuns: RUNS * 2 },
      );
      expect(seen).toContain(201);
      expect(seen).toContain(400);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "PATCH /v1/keys/:id: never a 500, errors in the one shape",
    async () => {
      await fc.assert(
        fc.asyncProperty(hostileBodyArb(keySettingsArb), async (body) => {
          await expectSafeResponse(await send("PATCH", `/v1/keys/${keyId}`, body, ADMIN_KEY), {
            allowed5xx: ADMIN_5XX,
            secrets: SECRETS,
          });
        }),
        { ...FUZZ, numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "POST /v1/agents/agent-demo/breaker/open: never a 500, errors in the one shape",
    async () => {
      const reason = fc.oneof(
        fieldTextArb,
        fc.string({ maxLength: 250 }).map((s) => JSON.stringify(s)),
      );
      const nearValid = fc
        .array(fc.tuple(fc.oneof(fc.constant("reason"), nastyKeyArb), reason), { maxLength: 2 })
        .map(objectText);
      await fc.assert(
        fc.asyncProperty(hostileBodyArb(nearValid), async (body) => {
          await expectSafeResponse(await send("POST", "/v1/agents/agent-demo/breaker/open", body, ADMIN_KEY), {
            allowed5xx: ADMIN_5XX,
            secrets: SECRETS,
          });
        }),
        { ...FUZZ, numRuns: RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
