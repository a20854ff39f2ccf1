/**
 * Keeps SECURITY.md from rotting: all ten OWASP API Security Top 10 (2023)
 * headings are there; every `test/<path>.test.ts` › "title" it cites is a file
 * with an it()/test() of exactly that title; every repository path it cites
 * exists (a `*` matches at least one entry); and every secret the Workers'
 * configs name is in its Secrets section.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DOC = readFileSync(path.join(ROOT, "SECURITY.md"), "utf8");

const OWASP = [
  "API1 Broken Object Level Authorization",
  "API2 Broken Authentication",
  "API3 Broken Object Property Level Authorization",
  "API4 Unrestricted Resource Consumption",
  "API5 Broken Function Level Authorization",
  "API6 Unrestricted Access to Sensitive Business Flows",
  "API7 Server Side Request Forgery",
  "API8 Security Misconfiguration",
  "API9 Improper Inventory Management",
  "API10 Unsafe Consumption of APIs",
];

/** `test/…/x.test.ts` › "title" references. */
const REFERENCE = /`(test\/[\w./-]+\.test\.ts)` › "([^"]+)"/g;
/** Backticked paths inside the repository's top-level directories (placeholders like `<path>` are not paths). */
const CITED_PATH = /`((?:workers|durable-objects|dashboard|scripts|test|migrations|manifests|alerts)\/[\w.*/-]*)`/g;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** True when `file` has `it(`/`test(` (optionally `.only`/`.concurrent`/`.sequential`) whose first argument is exactly `title`. */
function hasTest(source: string, title: string): boolean {
  const quoted = ['"', "'", "`"].map((q) => `${q}${escape(title)}${q}`).join("|");
  return new RegExp(`\\b(?:it|test)(?:\\.(?:only|concurrent|sequential))?\\(\\s*(?:${quoted})\\s*,`).test(source);
}

/** Whether a repository path exists; `*` in a segment matches any characters in that segment. */
function exists(cited: string): boolean {
  const segments = cited.replace(/\/$/, "").split("/");
  let dirs = [ROOT];
  for (const segment of segments) {
    if (!segment.includes("*")) {
      dirs = dirs.map((d) => path.join(d, segment)).filter((p) => existsSync(p));
      continue;
    }
    const pattern = new RegExp(`^${segment.split("*").map(escape).join(".*")}$`);
    dirs = dirs.flatMap((d) => {
      try {
        return readdirSync(d)
          .filter((name) => pattern.test(name))
          .map((name) => path.join(d, name));
      } catch {
        return [];
      }
    });
  }
  return dirs.length > 0;
}

/** Secret names in a wrangler config's "Secret(s) …" comment block (NAME_WITH_UNDERSCORES tokens). */
function wranglerSecrets(file: string): string[] {
  const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
  const start = lines.findIndex((l) => /^#.*\bSecrets?\b/.test(l));
  if (start < 0) return [];
  const block: string[] = [];
  for (let i = start; i < lines.length && lines[i]?.startsWith("#"); i++) block.push(lines[i] as string);
  return [...block.join("\n").matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g)].map((m) => m[0]);
}

const references = [...DOC.matchAll(REFERENCE)].map((m) => ({ file: m[1] as string, title: m[2] as string }));

describe("SECURITY.md", () => {
  it("has a heading for each of API1..API10", () => {
    for (const item of OWASP) expect(DOC, item).toMatch(new RegExp(`^### ${escape(item)}$`, "m"));
    const order = OWASP.map((item) => DOC.indexOf(`### ${item}\n`));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("cites tests for every OWASP item", () => {
    const sections = DOC.split(/^### /m).filter((s) => /^API\d+ /.test(s));
    expect(sections).toHaveLength(10);
    for (const section of sections)
      expect([...section.matchAll(REFERENCE)].length, section.split("\n")[0]).toBeGreaterThan(0);
  });

  it("every cited test exists under its exact title", () => {
    expect(references.length).toBeGreaterThan(50);
    const missing = references.filter(({ file, title }) => {
      const full = path.join(ROOT, file);
      return !existsSync(full) || !hasTest(readFileSync(full, "utf8"), title);
    });
    expect(missing.map(({ file, title }) => `${file} › "${title}"`)).toEqual([]);
  });

  it("every cited repository path exists", () => {
    const cited = [...new Set([...DOC.matchAll(CITED_PATH)].map((m) => m[1] as string))];
    expect(cited.length).toBeGreaterThan(30);
    expect(cited.filter((p) => !exists(p))).toEqual([]);
  });

  it("lists every secret the Workers' configs and .dev.vars examples name, and the gateway's redaction list", () => {
    const secretsSection = DOC.slice(DOC.indexOf("\n## Secrets\n"), DOC.indexOf("\n## Dependency audit\n"));
    expect(secretsSection.length).toBeGreaterThan(100);
    const fromExamples = [".dev.vars.example", "dashboard/.dev.vars.example"].flatMap((f) =>
      [...readFileSync(path.join(ROOT, f), "utf8").matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] as string),
    );
    const fromConfigs = [
      "wrangler.toml",
      "workers/agent-demo/wrangler.toml",
      "workers/agent-custom/wrangler.toml",
      "dashboard/wrangler.toml",
    ].flatMap(wranglerSecrets);
    const gatewayApp = readFileSync(path.join(ROOT, "workers/gateway/src/app.ts"), "utf8");
    const redacted = [
      ...(/const SECRET_VARS = \[([^\]]*)\]/.exec(gatewayApp)?.[1] ?? "").matchAll(/"([A-Z0-9_]+)"/g),
    ].map((m) => m[1] as string);
    expect(fromConfigs.length).toBeGreaterThanOrEqual(9);
    expect(redacted.length).toBeGreaterThanOrEqual(4);
    const names = [...new Set([...fromExamples, ...fromConfigs, ...redacted])];
    expect(names.filter((name) => !secretsSection.includes(`\`${name}\``))).toEqual([]);
  });
});
