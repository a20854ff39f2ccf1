/**
 * Property-based fuzzing (fast-check) of manifest handling, because the
 * loader reads files people upload (the dashboard's Wizard and Builder) and
 * its result configures the gateway's guard:
 *
 * 1. hostile text → `loadManifest` / `loadZaharaAgentManifest` (what
 *    scripts/manifests-check.ts and the dashboard call) return a result, never
 *    throw, report issues with a path and a message and no stack trace, and
 *    stay bounded on alias bombs and deep nesting;
 * 2. mutated real manifests → validation accepts or reports issues, and an
 *    accepted one resolves (`resolveResilience`) to finite, non-negative guard
 *    settings (no NaN/Infinity/negative that would wedge the breaker or leases);
 * 4. the CLI on a few random bad files → exit 1, one line per issue, no stack trace.
 * (3, the Builder's YAML ⇄ form round trip, is test/builder/fuzz.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type LoadManifestResult, loadManifest, loadZaharaAgentManifest } from "../../workers/shared/manifest";
import { RESILIENCE_DEFAULTS, resolveResilience } from "../../workers/gateway/src/resilience/config";
import {
  aliasBomb,
  deepNesting,
  duplicateKeys,
  hostileText,
  latin1Text,
  mutatedManifest,
  yamlSoup,
} from "./arbitraries";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** A line of a JavaScript stack trace (`    at fn (file:1:2)`). */
const STACK_LINE = /^\s*at .*(\(|:\d+:\d+)/m;

/** What every loader result must look like: ok with a manifest, or issues with a path, a one-message text and sane positions. */
function expectWellFormed(result: LoadManifestResult<unknown>): void {
  if (result.ok) {
    expect(typeof result.manifest).toBe("object");
    return;
  }
  expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of result.issues) {
    expect(typeof issue.path).toBe("string");
    expect(typeof issue.message).toBe("string");
    expect(issue.message.trim()).not.toBe("");
    expect(issue.message).not.toMatch(STACK_LINE);
    expect(issue.message.length).toBeLessThan(2000);
    for (const n of [issue.line, issue.column]) if (n !== undefined) expect(Number.isInteger(n) && n >= 1).toBe(true);
  }
}

/** Both loaders, as YAML and as JSON; neither may throw. */
function loadAll(text: string): void {
  for (const file of ["fuzz.ossa.yaml", "fuzz.json"]) {
    expectWellFormed(loadManifest(text, file));
    expectWellFormed(loadZaharaAgentManifest(text, file));
  }
}

describe("fuzz: the loader on hostile text", { timeout: 60_000 }, () => {
  it.each([
    ["any string", fc.string({ maxLength: 500 }), 300],
    ["any Unicode (full code points)", fc.string({ unit: "binary", maxLength: 500 }), 300],
    ["random bytes as latin1", latin1Text, 200],
    ["YAML token soup", yamlSoup, 400],
    ["alias bombs (billion laughs, merge keys)", aliasBomb, 80],
    ["deep nesting", deepNesting, 60],
    ["duplicate keys", duplicateKeys, 40],
  ] as const)("%s: a result with issues, never a throw", (_label, arbitrary: fc.Arbitrary<string>, numRuns) => {
    fc.assert(fc.property(arbitrary, loadAll), { numRuns });
  });

  it("duplicate keys are reported, not silently merged", () => {
    fc.assert(
      fc.property(duplicateKeys, (text) => {
        const result = loadManifest(text, "dup.yaml");
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.issues.some((i) => i.message.startsWith("Duplicate key"))).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it("an alias bomb is refused (alias expansion is bounded) and deep nesting is refused before it is parsed", () => {
    const bomb = fc.sample(aliasBomb, { numRuns: 1, seed: 1 })[0] ?? "";
    const laughs = `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 9 }, (_, i) => `${"bcdefghij"[i]}: &${"bcdefghij"[i]} [${Array(10).fill(`*${"abcdefghij"[i]}`).join(", ")}]`).join("\n")}\n`;
    for (const text of [bomb, laughs]) loadAll(text);
    const laughsResult = loadManifest(laughs, "laughs.yaml");
    expect(laughsResult.ok ? [] : laughsResult.issues.map((i) => i.message)).toEqual([
      "YAML error: Excessive alias count indicates a resource exhaustion attack",
    ]);
    // Twice in one process: a second stack overflow inside `yaml` used to abort Node ("RegExpCompiler Allocation failed").
    for (let i = 0; i < 3; i++) {
      const deep = loadManifest("[".repeat(2000) + "]".repeat(2000), "deep.yaml");
      expect(deep.ok ? [] : deep.issues.map((x) => x.message)).toEqual([
        "Mappings and lists nested more than 100 levels deep; not read",
      ]);
    }
  });
});

/** Every number in `value` (deeply), with its path. */
function numbersIn(value: unknown, at = ""): [string, number][] {
  if (typeof value === "number") return [[at, value]];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => numbersIn(v, at === "" ? k : `${at}.${k}`));
}

describe("fuzz: mutated real manifests", { timeout: 60_000 }, () => {
  it("are accepted or get issues; accepted ones resolve to finite, non-negative guard settings", () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutatedManifest, fc.integer({ min: 1, max: 300_000 }), ({ file, data }, gatewayTimeoutMs) => {
        const text = stringify(data);
        expectWellFormed(loadManifest(text, file));
        const result = loadZaharaAgentManifest(text, file);
        expectWellFormed(result);
        if (!result.ok) return;
        accepted++;
        const r = resolveResilience(result.manifest, gatewayTimeoutMs);
        for (const [at, n] of numbersIn(r)) expect(Number.isFinite(n) && n >= 0, `${at} = ${n}`).toBe(true);
        const { breaker, leaseMs, rateLimit, keyRateLimit, maxConcurrent, maxTokensPerDay } = r.guard;
        expect(breaker.failureThreshold).toBeGreaterThanOrEqual(1);
        expect(breaker.halfOpenProbes).toBeGreaterThanOrEqual(1);
        expect(breaker.openMs).toBeGreaterThan(0);
        if (breaker.failureRate) {
          expect(breaker.failureRate.threshold).toBeGreaterThan(0);
          expect(breaker.failureRate.minimumCalls).toBeLessThanOrEqual(breaker.failureRate.size);
        }
        // A permit or probe lease outlives the longest live call, and no longer than the gateway's deadline allows.
        expect(leaseMs).toBeGreaterThanOrEqual(RESILIENCE_DEFAULTS.leaseSlackMs);
        expect(leaseMs).toBeLessThanOrEqual(gatewayTimeoutMs + RESILIENCE_DEFAULTS.leaseSlackMs);
        for (const limit of [rateLimit, keyRateLimit])
          if (limit) expect(limit.limit >= 1 && limit.burst >= 1 && limit.periodMs > 0).toBe(true);
        if (maxConcurrent !== undefined) expect(maxConcurrent).toBeGreaterThanOrEqual(1);
        if (maxTokensPerDay !== undefined) expect(maxTokensPerDay).toBeGreaterThanOrEqual(1);
        expect(r.retries.baseMs).toBeGreaterThanOrEqual(1);
        expect(r.fallbacks.every((f) => typeof f === "string" && f !== "")).toBe(true);
      }),
      { numRuns: 400 },
    );
    // The mutations are not all fatal: enough manifests get through for the resolve checks to mean something.
    expect(accepted).toBeGreaterThan(20);
  });
});

describe("fuzz: the manifests-check CLI", { timeout: 120_000 }, () => {
  it("random bad files: exit 1, a file:line path: message line each, no stack trace", () => {
    const bad = hostileText.filter((text) => !loadZaharaAgentManifest(text, "bad.yaml").ok);
    fc.assert(
      fc.property(fc.array(bad, { minLength: 4, maxLength: 4 }), (texts) => {
        const dir = mkdtempSync(path.join(tmpdir(), "zahara-fuzz-"));
        try {
          const files = texts.map((text, i) => {
            const file = path.join(dir, `bad-${i}.ossa.yaml`);
            writeFileSync(file, text, "utf8");
            return file;
          });
          const r = spawnSync(
            process.execPath,
            ["--import", "tsx", "scripts/manifests-check.ts", "--zahara", ...files],
            { cwd: repoRoot, encoding: "utf8", timeout: 60_000 },
          );
          expect(r.stderr).not.toMatch(STACK_LINE);
          expect(r.stdout).not.toMatch(STACK_LINE);
          expect(r.status).toBe(1);
          const lines = r.stdout.trimEnd().split("\n");
          expect(lines.at(-1)).toBe(`${files.length} files checked, ${files.length} invalid`);
          for (const file of files) expect(lines.some((l) => l.startsWith(path.relative(repoRoot, file)))).toBe(true);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 2 },
    );
  });
});
