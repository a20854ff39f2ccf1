/**
 * fast-check arbitraries for fuzzing manifest handling (test/manifest/fuzz.test.ts
 * and test/builder/fuzz.test.ts): hostile text for the loader (random strings
 * and bytes, YAML token soup, alias bombs, deep nesting, tags, huge numbers,
 * duplicate keys) and mutations of the repo's real manifests, kept as plain
 * data so a counterexample reads as "set this path to that value".
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { parse } from "yaml";

const manifestsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../manifests");

/** The repo's manifests: file name, text and parsed data. */
export const REAL_MANIFESTS = readdirSync(manifestsDir)
  .filter((f) => f.endsWith(".ossa.yaml"))
  .sort()
  .map((file) => {
    const text = readFileSync(path.join(manifestsDir, file), "utf8");
    return { file, text, data: parse(text) as Record<string, unknown> };
  });

const indent = (text: string, by: string): string =>
  text
    .split("\n")
    .map((l) => by + l)
    .join("\n");

/** `body` (YAML at column 0) placed somewhere a manifest's schema reaches: under spec, or as a capability's input_schema. */
function inManifest(body: string, where: "root" | "spec" | "schema"): string {
  if (where === "root") return body;
  const head = "apiVersion: ossa/v0.3.1\nkind: Agent\nmetadata:\n  name: fuzz\n";
  const tail = "extensions:\n  zahara:\n    binding: AGENT_FUZZ\n    service: zahara-agent-fuzz\n";
  if (where === "spec") return `${head}spec:\n  role: r\n  x:\n${indent(body, "    ")}\n${tail}`;
  return `${head}spec:\n  role: r\n  tools:\n    - type: function\n      name: f\n      input_schema:\n${indent(body, "        ")}\n${tail}`;
}
const where = fc.constantFrom("root", "spec", "schema") as fc.Arbitrary<"root" | "spec" | "schema">;

/** Random bytes read as latin1 (what a binary file looks like to `readFile(…, "latin1")`). */
export const latin1Text = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString("latin1"));

const TOKENS = [
  "apiVersion: ossa/v0.3.1\n",
  "kind: Agent\n",
  "metadata:\n",
  "  name: a\n",
  "spec:\n",
  "extensions:\n",
  "  ",
  "- ",
  ": ",
  "? ",
  "{",
  "}",
  "[",
  "]",
  ", ",
  "&a ",
  "*a",
  "*b",
  "!!js/function ",
  "!!js/undefined ",
  "!!binary ",
  "!!set ",
  "!!omap ",
  "!!timestamp ",
  "!!float ",
  "!custom ",
  "!<tag:yaml.org,2002:str> ",
  "<<: ",
  "'",
  '"',
  "|\n",
  ">-\n",
  "# c\n",
  "\n",
  "\t",
  "---\n",
  "...\n",
  "%YAML 1.1\n",
  "%TAG !e! tag:e.com,2000:\n",
  "1e400",
  "-.inf",
  ".nan",
  "0x1F",
  "0o17",
  "99999999999999999999999",
  "2025-10-31",
  "~",
  "null",
  "\u0000",
  "\ufeff",
  "\u2028",
  "\r\n",
  "function(){return process}",
  "__proto__: ",
  "constructor: ",
];
/** YAML-looking token soup. */
export const yamlSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 50 }).map((t) => t.join(""));

/** Billion laughs: each level `width` aliases of the previous one (optionally through `<<` merge keys). */
export const aliasBomb = fc
  .record({
    levels: fc.integer({ min: 2, max: 14 }),
    width: fc.integer({ min: 2, max: 12 }),
    merge: fc.boolean(),
    at: where,
  })
  .map(({ levels, width, merge, at }) => {
    let s = merge ? "l0: &l0 {k: v}\n" : "l0: &l0 [lol]\n";
    for (let i = 1; i < levels; i++) {
      const refs = Array.from({ length: width }, () => `*l${i - 1}`).join(", ");
      s += merge ? `l${i}: &l${i} {<<: [${refs}], k${i}: ${i}}\n` : `l${i}: &l${i} [${refs}]\n`;
    }
    return inManifest(s.trimEnd(), at);
  });

/** Deep nesting: flow lists/maps, `- - -` lists, indented maps, and JSON. */
export const deepNesting = fc
  .record({
    depth: fc.integer({ min: 20, max: 2500 }),
    style: fc.constantFrom("seq", "map", "dash", "block", "json"),
    at: where,
  })
  .map(({ depth, style, at }) => {
    if (style === "seq") return inManifest("[".repeat(depth) + "]".repeat(depth), at);
    if (style === "map") return inManifest("{a: ".repeat(depth) + "1" + "}".repeat(depth), at);
    if (style === "dash") return inManifest("- ".repeat(depth) + "x", at);
    if (style === "json") return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    const lines = Math.min(depth, 400);
    return inManifest(Array.from({ length: lines }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n") + " 1", at);
  });

/** A real manifest with keys repeated (at the top, in metadata, in the Zahara extension). */
export const duplicateKeys = fc
  .record({
    base: fc.constantFrom(...REAL_MANIFESTS),
    dup: fc.constantFrom<[string, string]>(
      ["\nkind: Agent\n", "\nkind: Task\nkind: Agent\n"],
      ["\nmetadata:\n", "\nmetadata:\n  name: x\n"],
      ["\n    binding: ", "\n    binding: B\n    binding: "],
      ["\n      name: echo\n", "\n      name: echo\n      name: echo2\n"],
    ),
  })
  .map(({ base, dup }) => base.text.replace(dup[0], dup[1]));

/** Every kind of hostile text, weighted towards the YAML-specific ones. */
export const hostileText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  latin1Text,
  yamlSoup,
  yamlSoup.map((s) => inManifest(s, "spec")),
  aliasBomb,
  deepNesting,
  duplicateKeys,
);

const Z = ["extensions", "zahara"];
const R = [...Z, "resilience"];
/** Every number the gateway's guard is configured from (OSSA limits and the Zahara resilience block). */
export const GUARD_NUMBER_PATHS: readonly string[][] = [
  ["spec", "constraints", "performance", "timeoutSeconds"],
  ["spec", "constraints", "performance", "maxConcurrentRequests"],
  ["spec", "constraints", "cost", "maxTokensPerDay"],
  ["spec", "safety", "rate_limiting", "requests_per_minute"],
  ["spec", "safety", "rate_limiting", "burst_limit"],
  ...["failure_threshold", "open_ms", "half_open_probes"].map((k) => [...R, "breaker", k]),
  ...["threshold", "window", "minimum_calls"].map((k) => [...R, "breaker", "failure_rate", k]),
  ...["max_retries", "base_ms", "cap_ms"].map((k) => [...R, "retries", k]),
  ...["ratio", "min_per_window", "window_ms"].map((k) => [...R, "retry_budget", k]),
  ...["requests_per_minute", "burst"].map((k) => [...R, "rate_limit_per_key", k]),
  [...R, "token_estimate"],
];
/** Where names live (and what the dashboard shows or builds file names from). */
const NAME_PATHS: readonly string[][] = [
  ["metadata", "name"],
  [...Z, "service"],
  [...Z, "binding"],
  ["spec", "tools", "0", "name"],
  [...Z, "branding", "display_name"],
];

/** Numbers out of every range: NaN, ±Infinity, -0, huge, tiny, negative, fractional, and number-like strings. */
export const weirdNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.integer({ min: -10, max: 2000 }),
  fc.double({ min: -100, max: 100, noNaN: true }),
  fc.constantFrom(0, -1, 0.5, 1.5, 2 ** 53, -(2 ** 53), 1e308, -1e308, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2),
  fc.constantFrom("NaN", "-1", "1e309", ".inf", "Infinity", "", " 5", "0x10", "5ms"),
);
/** Names with path, HTML and control characters, very long ones, and the real agents' names. */
export const nameLike: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "a/b",
    "a\\b",
    "%2e%2e",
    "a\u0000b",
    "-a",
    "a-",
    "AGENT",
    "agent-demo",
    "agent-custom",
    "fuzz",
  ),
  fc.integer({ min: 250, max: 5000 }).map((n) => "a".repeat(n)),
);
/** Any value, of any type. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdNumber,
  nameLike,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

/** One change to a manifest's data; `pick` chooses among the paths present. */
export type Mutation =
  | { op: "delete"; pick: number }
  | { op: "replace"; pick: number; value: unknown }
  | { op: "addKey"; pick: number; key: string; value: unknown }
  | { op: "set"; path: readonly string[]; value: unknown }
  | { op: "fallbacks"; value: unknown[] };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("delete" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("replace" as const), pick: fc.nat(), value: weirdValue }),
  fc.record({
    op: fc.constant("addKey" as const),
    pick: fc.nat(),
    key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom("__proto__", "constructor", "extra")),
    value: weirdValue,
  }),
  fc.record({ op: fc.constant("set" as const), path: fc.constantFrom(...GUARD_NUMBER_PATHS), value: weirdNumber }),
  fc.record({ op: fc.constant("set" as const), path: fc.constantFrom(...NAME_PATHS), value: nameLike }),
  fc.record({
    op: fc.constant("fallbacks" as const),
    value: fc.array(fc.oneof(nameLike, fc.constant("<self>"), weirdValue), { maxLength: 7 }),
  }),
);

/** Every path (map keys, list indexes as strings) in `data`, the root first. */
function pathsIn(data: unknown, at: string[] = []): string[][] {
  if (typeof data !== "object" || data === null) return [at];
  return [at, ...Object.entries(data).flatMap(([k, v]) => pathsIn(v, [...at, k]))];
}

function parentOf(
  root: Record<string, unknown>,
  at: readonly string[],
  create: boolean,
): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const key of at.slice(0, -1)) {
    const obj = node as Record<string, unknown>;
    if (create && (typeof obj[key] !== "object" || obj[key] === null)) obj[key] = {};
    node = obj[key];
    if (typeof node !== "object" || node === null) return undefined;
  }
  return node as Record<string, unknown>;
}

/** Applies `m` to `data` in place. */
export function applyMutation(data: Record<string, unknown>, m: Mutation): void {
  const define = (obj: Record<string, unknown>, key: string, value: unknown) =>
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  if (m.op === "set") {
    const parent = parentOf(data, m.path, true);
    if (parent) define(parent, m.path.at(-1) ?? "", structuredClone(m.value));
    return;
  }
  if (m.op === "fallbacks") {
    const zahara = parentOf(data, [...Z, "fallbacks"], true);
    if (zahara)
      zahara.fallbacks = m.value.map((v) =>
        v === "<self>" ? (data.metadata as { name?: unknown } | undefined)?.name : v,
      );
    return;
  }
  const paths = pathsIn(data).filter((p) => p.length > 0);
  const at = paths[m.pick % paths.length];
  if (at === undefined) return;
  const parent = parentOf(data, at, false);
  const key = at.at(-1) ?? "";
  if (parent === undefined) return;
  if (m.op === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (m.op === "replace") {
    define(parent, key, structuredClone(m.value));
  } else {
    const target = parent[key];
    if (typeof target === "object" && target !== null && !Array.isArray(target))
      define(target as Record<string, unknown>, m.key, structuredClone(m.value));
  }
}

/** A real manifest's data after 1–4 mutations. */
export const mutatedManifest = fc
  .record({ base: fc.constantFrom(...REAL_MANIFESTS), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) })
  .map(({ base, mutations }) => {
    const data = structuredClone(base.data);
    for (const m of mutations) applyMutation(data, m);
    return { file: base.file, data, mutations };
  });
