/**
 * The zod OSSA schema against the official v0.3.1 conformance set in
 * ../shared/ossa/v0.3.1 (skipped when that folder is absent): every valid
 * manifest loads, and every invalid one fails at the paths listed in
 * invalid/REASONS.md (the output of a Draft-07 validator).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  API_VERSION_PATTERN,
  DNS1123_PATTERN,
  ENV_REF_PATTERN,
  LLM_PROVIDERS,
  SEMVER_PATTERN,
  TOOL_TYPES,
  loadManifest,
} from "../../workers/shared/manifest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ossaDir = path.resolve(repoRoot, "../shared/ossa/v0.3.1");
const exists = existsSync(path.join(ossaDir, "invalid", "REASONS.md"));

/** A REASONS.md entry: the validator's path and message. */
interface Reason {
  path: string;
  message: string;
}

/** Parses REASONS.md: `## <file>` headings, then "- `path`: message" lines. */
function parseReasons(text: string): Map<string, Reason[]> {
  const reasons = new Map<string, Reason[]>();
  let current: Reason[] | undefined;
  for (const line of text.split("\n")) {
    const heading = /^## (\S+)\s*$/.exec(line);
    if (heading?.[1] !== undefined) {
      current = [];
      reasons.set(heading[1], current);
      continue;
    }
    const entry = /^- `([^`]*)`: (.*)$/.exec(line);
    if (entry?.[1] !== undefined && entry[2] !== undefined && current !== undefined) {
      current.push({ path: entry[1], message: entry[2] });
    }
  }
  return reasons;
}

/**
 * The path our loader reports for a validator entry. Draft-07 reports a
 * missing required property on its parent object; zod reports it on the
 * property itself (`spec/tools/0` + 'type' -> `spec/tools/0/type`).
 */
function expectedPath(reason: Reason): string {
  const required = /^'([^']+)' is a required property/.exec(reason.message);
  return required?.[1] === undefined ? reason.path : `${reason.path}/${required[1]}`;
}

const manifestFiles = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
    : [];

describe.skipIf(!exists)("OSSA v0.3.1 conformance set", () => {
  const validDir = path.join(ossaDir, "valid");
  const invalidDir = path.join(ossaDir, "invalid");
  const reasons = exists
    ? parseReasons(readFileSync(path.join(invalidDir, "REASONS.md"), "utf8"))
    : new Map<string, Reason[]>();

  it("has the expected number of files and a REASONS.md entry for each invalid one", () => {
    expect(manifestFiles(validDir)).toHaveLength(38);
    expect(manifestFiles(invalidDir)).toHaveLength(37);
    expect([...reasons.keys()].sort()).toEqual(manifestFiles(invalidDir));
  });

  it("uses the official schema's patterns and enums", () => {
    const schema = JSON.parse(readFileSync(path.join(ossaDir, "ossa-0.3.1.schema.json"), "utf8")) as {
      properties: { apiVersion: { pattern: string } };
      definitions: {
        Metadata: { properties: { name: { pattern: string }; version: { pattern: string } } };
        LLMConfig: { properties: { provider: { anyOf: [{ enum: string[] }, { pattern: string }] } } };
        Tool: { properties: { type: { enum: string[] } } };
      };
    };
    const { definitions: d } = schema;
    expect(API_VERSION_PATTERN.source.replaceAll("\\/", "/")).toBe(schema.properties.apiVersion.pattern);
    expect(DNS1123_PATTERN.source).toBe(d.Metadata.properties.name.pattern);
    expect(SEMVER_PATTERN.source).toBe(d.Metadata.properties.version.pattern);
    expect(ENV_REF_PATTERN.source).toBe(d.LLMConfig.properties.provider.anyOf[1].pattern);
    expect([...LLM_PROVIDERS]).toEqual(d.LLMConfig.properties.provider.anyOf[0].enum);
    expect([...TOOL_TYPES]).toEqual(d.Tool.properties.type.enum);
  });

  it.each(manifestFiles(validDir))("valid/%s loads", (file) => {
    const result = loadManifest(readFileSync(path.join(validDir, file), "utf8"), file);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it.each(manifestFiles(invalidDir))("invalid/%s fails at the paths in REASONS.md", (file) => {
    const result = loadManifest(readFileSync(path.join(invalidDir, file), "utf8"), file);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const expected = (reasons.get(file) ?? []).map(expectedPath);
    expect(expected.length).toBeGreaterThan(0);
    // Duplicate YAML keys are our addition: the reference validator's YAML reader (PyYAML) lets the last one win.
    const reported = new Set(result.issues.filter((i) => !i.message.startsWith("Duplicate key")).map((i) => i.path));
    for (const p of expected) expect([...reported], `missing ${p}`).toContain(p);
    // REASONS.md lists at most six issues per file; below that the list is complete, so nothing else may be reported.
    if (expected.length < 6) expect([...reported].sort()).toEqual([...new Set(expected)].sort());
    for (const issue of result.issues) expect(issue.line, issue.path).toBeGreaterThan(0);
  });
});
