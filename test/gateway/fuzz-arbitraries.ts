/**
 * Shared pieces of the fuzz tests (test/gateway/fuzz-*.test.ts and
 * test/agent-runtime/fuzz.test.ts): fast-check arbitraries for hostile
 * bodies and header values, and {@link expectSafeResponse}, the property
 * every response of a Zahara Worker must hold whatever it was sent: no 500,
 * errors in the one shape with a catalogued code and its status, no stack
 * trace, no reflected header value, no secret.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { ERROR_CATALOG, type ErrorCode } from "../../workers/shared/errors";
import { REQUEST_ID_PATTERN } from "../../workers/shared/request-id";

/**
 * fc.assert options of every fuzz test: failures print the counterexample
 * and each shrink step's failure; a property stops (and passes) after 6 s
 * of runs, so a loaded machine runs fewer cases instead of timing out.
 */
export const FUZZ = { verbose: fc.VerbosityLevel.Verbose, interruptAfterTimeLimit: 6_000 } as const;

/** vitest timeout of a fuzz test: the time limit above, shrinking and slack. */
export const FUZZ_TIMEOUT_MS = 30_000;

/** 5xx an execute route may answer for an agent that fails, is unreachable, slow or guarded (never 500). */
export const EXECUTE_5XX: readonly ErrorCode[] = [
  "UPSTREAM_FAILED",
  "UPSTREAM_UNREACHABLE",
  "UPSTREAM_TIMEOUT",
  "CIRCUIT_OPEN",
  "CONCURRENCY_LIMIT",
  "AGENT_UNAVAILABLE",
  "GUARD_UNAVAILABLE",
];
/** 5xx an admin route may answer when its store (D1, a guard) cannot answer in time. */
export const ADMIN_5XX: readonly ErrorCode[] = ["KEY_STORE_UNAVAILABLE", "GUARD_UNAVAILABLE", "LOG_UNAVAILABLE"];

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const STACK = /\n\s+at |\.ts:\d+|\.js:\d+/;

/** A marker to hide in fuzzed values: `zz` and 16 hex digits. */
export const markerArb = fc
  .string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 16, maxLength: 16 })
  .map((hex) => `zz${hex}`);

/** What a header value becomes once `Headers` has normalized it (trimmed), or null when fetch refuses it. */
export function normalizedHeader(value: string): string | null {
  try {
    return new Headers([["x-fuzz", value]]).get("x-fuzz");
  } catch {
    return null;
  }
}

/** Header-ish junk: printable ASCII, quotes and spaces, control characters (fetch refuses some). */
export const junkArb = fc.oneof(
  { arbitrary: fc.string({ maxLength: 20 }), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      "",
      " ",
      '"',
      "'",
      "\\",
      "<script>",
      "a b",
      "\t",
      "%00",
      "%0d%0a",
      ";",
      ",",
      "=",
      "../",
      "${x}",
    ),
    weight: 4,
  },
  { arbitrary: fc.string({ unit: "binary-ascii", maxLength: 10 }), weight: 2 },
);

/** Non-ASCII text (workerd sends it as UTF-8, with a warning on the console: used sparingly). */
export const unicodeArb = fc.string({ unit: "grapheme", minLength: 1, maxLength: 4 });

/** A header value hiding `marker`: junk around it, sometimes overlong. */
export function withMarker(junk: fc.Arbitrary<string> = junkArb): fc.Arbitrary<string> {
  return fc
    .tuple(junk, markerArb, junk, fc.nat({ max: 400 }))
    .map(([a, m, b, pad]) => `${a}${m}${b}${pad > 300 ? "p".repeat(pad * 4) : ""}`);
}

/** A body text as a fuzzer would send it: any string, JSON of any value, or raw bytes (often not UTF-8). */
export const bodyTextArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.anything().map((v) => JSON.stringify(v) ?? ""),
  fc.uint8Array({ maxLength: 64 }),
);

/** A JSON object's text from `entries`, keeping keys like `__proto__` as own keys (JSON.stringify of a literal would not). */
export function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
}

/** Keys that have bitten JavaScript object handling. */
export const nastyKeyArb = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "__defineGetter__",
  "valueOf",
  "",
  " ",
  "\u0000",
  "a.b",
  "[0]",
);

/** Strings that are huge, unicode, control characters or lone surrogates. */
export const nastyStringArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((n) => String.fromCharCode(n)), maxLength: 20 }),
  fc.constantFrom("\ud800", "\udfff", "a\u0000b", "\u202e", "\ufeff", "𝕏", "e\u0301"),
  fc.nat({ max: 6000 }).map((n) => "x".repeat(n)),
);

/** JSON text nested `depth` deep in arrays or objects. */
export const deepJsonArb = fc
  .tuple(fc.integer({ min: 1, max: 3000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth),
  );

/** A near-valid value of some field: the wrong type, an edge value, or a nasty string. */
export const oddValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 2 ** 53, 1.5, "", [], {}, [1], { a: 1 }),
  fc.integer(),
  fc.double(),
  nastyStringArb,
  fc.jsonValue({ maxDepth: 3 }),
);

/** Options of {@link expectSafeResponse}. */
export interface SafeResponseOptions {
  /** 5xx error codes this route may legitimately answer; any other 5xx fails. */
  allowed5xx?: readonly ErrorCode[];
  /** Services whose errors may be sent (the gateway relays its agents' errors). */
  services?: readonly string[];
  /** Strings hidden in what was sent: none may appear in the answer (an accepted request id excepted). */
  markers?: readonly string[];
  /** Secrets none of which may ever appear in the answer. */
  secrets?: readonly string[];
  /** The X-Request-Id sent, as fetch normalized it (undefined when none was sent). */
  requestId?: string;
}

/**
 * Asserts the properties of any answer (see the module comment) and returns
 * its status and text. A caller's request id that matches the rule is echoed
 * by design; any other is replaced by a UUIDv4 and reflected nowhere.
 */
export async function expectSafeResponse(
  res: Response,
  opts: SafeResponseOptions = {},
): Promise<{ status: number; text: string }> {
  const { allowed5xx = [], services = ["gateway"], markers = [], secrets = [], requestId } = opts;
  const text = await res.text();
  const status = res.status;
  const context = `${status} ${text.slice(0, 500)}`;
  const header = res.headers.get("X-Request-Id") ?? "";
  const accepted = requestId !== undefined && REQUEST_ID_PATTERN.test(requestId);
  if (accepted) expect(header, context).toBe(requestId);
  else expect(header, context).toMatch(UUID_V4);
  expect(status, context).not.toBe(500);
  if (status >= 400) {
    expect(res.headers.get("Content-Type"), context).toMatch(/^application\/json/);
    const body = JSON.parse(text) as Record<string, unknown>;
    const keys = Object.keys(body).sort();
    expect(keys, context).toEqual(
      body.details === undefined
        ? ["code", "duration_ms", "error", "request_id", "service"]
        : ["code", "details", "duration_ms", "error", "request_id", "service"],
    );
    expect(Object.keys(ERROR_CATALOG), context).toContain(body.code);
    expect(ERROR_CATALOG[body.code as ErrorCode].status, context).toBe(status);
    if (status >= 500) expect(allowed5xx, context).toContain(body.code);
    expect(services, context).toContain(body.service);
    expect(typeof body.error === "string" && body.error.length > 0, context).toBe(true);
    expect(Number.isInteger(body.duration_ms) && (body.duration_ms as number) >= 0, context).toBe(true);
    expect(body.request_id, context).toBe(header);
    expect(text, context).not.toMatch(STACK);
  } else {
    expect(status, context).toBeLessThan(300);
  }
  // The accepted id is the one place a sent value may come back.
  const unechoed = (s: string) => (accepted && requestId ? s.split(requestId).join("") : s);
  const answered = [
    unechoed(text),
    ...[...res.headers].map(
      ([name, value]) => `${name}: ${name.toLowerCase() === "x-request-id" ? unechoed(value) : value}`,
    ),
  ];
  for (const needle of [...markers, ...secrets].filter((n) => n.length > 0)) {
    for (const part of answered)
      expect(part.includes(needle), `${needle} reflected in ${part.slice(0, 300)}`).toBe(false);
  }
  return { status, text };
}
