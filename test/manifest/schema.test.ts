/**
 * The OSSA schema, the Zahara extension and rules, and the loader, on the
 * small manifests in fixtures/: each bad fixture asserts the exact paths
 * (and some messages and line/column positions) it must produce.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type ManifestIssue,
  OssaManifestSchema,
  ZaharaExtensionSchema,
  checkZaharaAgent,
  formatManifestIssue,
  jsonSchemaProblem,
  loadManifest,
  loadZaharaAgentManifest,
  validateOssaManifest,
} from "../../workers/shared/manifest";

const fixturesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const fixture = (name: string): string => readFileSync(path.join(fixturesDir, name), "utf8");

/** Loads a fixture that must fail and returns its issues. */
function issuesOf(name: string, zahara = false): ManifestIssue[] {
  const result = zahara ? loadZaharaAgentManifest(fixture(name), name) : loadManifest(fixture(name), name);
  expect(result.ok, `${name} should be invalid`).toBe(false);
  return result.ok ? [] : result.issues;
}

const pathsOf = (issues: ManifestIssue[]): string[] => issues.map((i) => i.path).sort();
const issueAt = (issues: ManifestIssue[], p: string): ManifestIssue | undefined => issues.find((i) => i.path === p);

describe("valid manifests", () => {
  it("loads a complete Zahara agent and applies the extension's defaults", () => {
    const result = loadZaharaAgentManifest(fixture("zahara-good.yaml"), "zahara-good.yaml");
    if (!result.ok) throw new Error(result.issues.map((i) => formatManifestIssue("zahara-good.yaml", i)).join("\n"));
    const { manifest } = result;
    expect(manifest.kind).toBe("Agent");
    expect(manifest.metadata.annotations).toEqual({ released: "2025-10-31" });
    expect(manifest.spec.llm?.provider).toBe("${LLM_PROVIDER:-openai}");
    expect(manifest.extensions.zahara).toEqual({
      binding: "AGENT_FIXTURE",
      service: "zahara-agent-fixture",
      dev_port: 3009,
      branding: { display_name: "Fixture Agent", accent_color: "#1A2B3C", theme: "zahara", show_logo: true },
      chaos: { enabled: true, max_delay_ms: 30000 },
    });
    expect(manifest.extensions["other-vendor"]).toEqual({ anything: "goes" });
  });

  it.each([
    "ossa-minimal.json",
    "task-good.yaml",
    "workflow-good.yaml",
    "zahara-no-functions.yaml",
    "zahara-rules-bad.yaml",
  ])("%s is valid OSSA", (name) => {
    const result = loadManifest(fixture(name), name);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it("narrows spec by kind", () => {
    const parsed = OssaManifestSchema.parse({
      apiVersion: "ossa/v0.3.1",
      kind: "Task",
      metadata: { name: "t" },
      spec: { execution: { type: "deterministic" } },
    });
    expect(parsed.kind === "Task" ? parsed.spec.execution.type : undefined).toBe("deterministic");
  });

  it("accepts the apiVersion forms of the official pattern and rejects others", () => {
    const base = { kind: "Agent", metadata: { name: "a" }, spec: {} };
    for (const v of ["ossa/v0.3.0", "ossa/v0.3.12-rc1", "ossa/v0.2.5-dev", "ossa/v1", "ossa/v1.0"]) {
      expect(validateOssaManifest({ ...base, apiVersion: v }).success, v).toBe(true);
    }
    for (const v of ["ossa/v0.2.1", "ossa/v2", "v0.3.1", "ossa/0.3.1"]) {
      expect(validateOssaManifest({ ...base, apiVersion: v }).success, v).toBe(false);
    }
  });
});

describe("OSSA rules", () => {
  it("metadata: DNS-1123 name, semver version, no unknown keys, short string labels, string annotations", () => {
    const issues = issuesOf("metadata-bad.yaml");
    expect(pathsOf(issues)).toEqual([
      "metadata",
      "metadata/annotations/on-call",
      "metadata/annotations/released",
      "metadata/labels/owner",
      "metadata/name",
      "metadata/version",
    ]);
    expect(issueAt(issues, "metadata")?.message).toContain('"author"');
    expect(issueAt(issues, "metadata/version")?.message).toContain('without a leading "v"');
    expect(issueAt(issues, "metadata/annotations/released")?.message).toContain("date");
    expect(issueAt(issues, "metadata/labels/owner")?.message).toContain("63");
  });

  it("agent spec: llm, tools, capabilities, functions, constraints, safety, autonomy, state, observability", () => {
    const issues = issuesOf("agent-spec-bad.yaml");
    expect(pathsOf(issues)).toEqual([
      "spec/autonomy/level",
      "spec/constraints/cost/maxTokensPerDay",
      "spec/constraints/performance/maxConcurrentRequests",
      "spec/constraints/performance/timeoutSeconds",
      "spec/functions/0",
      "spec/functions/0/description",
      "spec/functions/0/name",
      "spec/llm/cost_tracking",
      "spec/llm/maxTokens",
      "spec/llm/model",
      "spec/llm/provider",
      "spec/llm/retry_config",
      "spec/llm/temperature",
      "spec/observability/metrics",
      "spec/safety/rate_limiting/burst_limit",
      "spec/safety/rate_limiting/requests_per_minute",
      "spec/state/storage",
      "spec/tools/0/type",
      "spec/tools/1/type",
      "spec/tools/2/capabilities/1",
    ]);
    expect(issueAt(issues, "spec/tools/0/type")?.message).toBe("Required");
    expect(issueAt(issues, "spec/llm/model")?.message).toBe("Required");
    expect(issueAt(issues, "spec/llm/provider")?.message).toContain("env reference");
    expect(issueAt(issues, "spec/llm/retry_config")?.message).toContain('"jitter"');
    expect(issueAt(issues, "spec/constraints/cost/maxTokensPerDay")?.message).toBe("Expected int, received number 1.5");
  });

  it("messaging, identity and compliance strict parts", () => {
    const issues = issuesOf("messaging-identity-bad.yaml");
    expect(pathsOf(issues)).toEqual([
      "spec/compliance",
      "spec/compliance/frameworks",
      "spec/identity",
      "spec/identity/service_account/email",
      "spec/messaging",
      "spec/messaging/commands/0/name",
      "spec/messaging/publishes/0/schema",
      "spec/messaging/reliability/ordering/guarantee",
      "spec/messaging/reliability/retry",
    ]);
    expect(issueAt(issues, "spec/messaging")?.message).toContain('"broker"');
    expect(issueAt(issues, "spec/compliance/frameworks")?.message).toBe("Array items must be unique");
  });

  it("with an unknown kind still checks apiVersion, metadata, extensions.mcp and runtime", () => {
    const issues = issuesOf("envelope-bad.yaml");
    expect(pathsOf(issues)).toEqual(["apiVersion", "extensions/mcp", "kind", "metadata", "runtime", "runtime/type"]);
    expect(issueAt(issues, "kind")?.message).toContain('"Agent"|"Task"|"Workflow"');
  });

  it("reports a missing kind and a missing spec", () => {
    const noKind = validateOssaManifest({ apiVersion: "ossa/v0.3.1", metadata: { name: "Bad" } });
    const noKindIssues = noKind.success ? [] : noKind.issues.map((i) => [i.path.join("/"), i.message]);
    expect(noKindIssues.sort()).toEqual([
      ["kind", "Required"],
      ["metadata/name", expect.stringContaining("DNS-1123")],
    ]);
    const noSpec = validateOssaManifest({ apiVersion: "ossa/v0.3.1", kind: "Agent", metadata: { name: "a" } });
    expect(noSpec.success ? [] : noSpec.issues.map((i) => i.path.join("/"))).toEqual(["spec"]);
  });

  it("task spec: execution required, unique snake_case capabilities, strict", () => {
    expect(pathsOf(issuesOf("task-bad.yaml"))).toEqual([
      "spec",
      "spec/batch/parallelism",
      "spec/capabilities",
      "spec/capabilities/2",
      "spec/execution",
    ]);
  });

  it("workflow spec: step ids, recursively", () => {
    expect(pathsOf(issuesOf("workflow-bad.yaml"))).toEqual(["spec/steps/0/id", "spec/steps/1/steps/0/id"]);
    const empty = validateOssaManifest({
      apiVersion: "ossa/v0.3.1",
      kind: "Workflow",
      metadata: { name: "w" },
      spec: { steps: [] },
    });
    expect(empty.success ? [] : empty.issues.map((i) => i.path.join("/"))).toEqual(["spec/steps"]);
  });
});

describe("Zahara extension", () => {
  it("is strict and validated whenever present, also in plain OSSA checks", () => {
    const issues = issuesOf("zahara-extension-bad.yaml");
    expect(pathsOf(issues)).toEqual([
      "extensions/zahara",
      "extensions/zahara/binding",
      "extensions/zahara/branding/accent_color",
      "extensions/zahara/branding/display_name",
      "extensions/zahara/branding/theme",
      "extensions/zahara/chaos/max_delay_ms",
      "extensions/zahara/dev_port",
      "extensions/zahara/service",
    ]);
    expect(issueAt(issues, "extensions/zahara")?.message).toContain('"region"');
  });

  it("requires binding and service and fills defaults", () => {
    expect(ZaharaExtensionSchema.safeParse({ binding: "A" }).success).toBe(false);
    expect(
      ZaharaExtensionSchema.parse({ binding: "A", service: "a", branding: { display_name: "A" }, chaos: {} }),
    ).toEqual({
      binding: "A",
      service: "a",
      branding: { display_name: "A", theme: "zahara", show_logo: true },
      chaos: { enabled: false, max_delay_ms: 30000 },
    });
    expect(ZaharaExtensionSchema.safeParse({ binding: "A", service: "a", dev_port: 65536 }).success).toBe(false);
    expect(
      ZaharaExtensionSchema.safeParse({ binding: "A", service: "a", branding: { display_name: "x".repeat(81) } })
        .success,
    ).toBe(false);
  });
});

describe("Zahara agent rules", () => {
  it("function tools: unique snake_case names, convertible JSON Schemas; role or system template", () => {
    const issues = issuesOf("zahara-rules-bad.yaml", true);
    expect(pathsOf(issues)).toEqual([
      "spec/role",
      "spec/tools/0/input_schema",
      "spec/tools/1/name",
      "spec/tools/2/name",
      "spec/tools/2/output_schema",
      "spec/tools/3/name",
    ]);
    expect(issueAt(issues, "spec/tools/0/input_schema")).toMatchObject({
      message: expect.stringContaining("if/then/else"),
      line: 12,
      column: 7,
    });
    expect(issueAt(issues, "spec/tools/1/name")?.message).toContain('Duplicate capability name "lookup"');
    expect(issueAt(issues, "spec/tools/3/name")?.message).toContain("Required");
  });

  it("needs kind Agent, extensions.zahara and at least one function tool", () => {
    expect(pathsOf(issuesOf("zahara-task.yaml", true))).toEqual(["kind"]);
    expect(pathsOf(issuesOf("zahara-no-functions.yaml", true))).toEqual(["extensions/zahara", "spec/tools"]);
    const minimal = issuesOf("ossa-minimal.json", true);
    expect(pathsOf(minimal)).toEqual(["extensions/zahara", "spec/role", "spec/tools"]);
  });

  it("checkZaharaAgent accepts the good fixture and a system template instead of a role", () => {
    const loaded = loadManifest(fixture("zahara-good.yaml"), "zahara-good.yaml");
    if (!loaded.ok) throw new Error("zahara-good.yaml should load");
    expect(checkZaharaAgent(loaded.manifest)).toEqual([]);
    if (loaded.manifest.kind !== "Agent") throw new Error("expected an agent");
    const { role: _role, ...spec } = loaded.manifest.spec;
    expect(
      checkZaharaAgent({ ...loaded.manifest, spec: { ...spec, prompts: { system: { template: "Be brief." } } } }),
    ).toEqual([]);
    expect(checkZaharaAgent({ ...loaded.manifest, spec })).toEqual([
      { path: ["spec", "role"], message: expect.any(String) },
    ]);
  });

  it("jsonSchemaProblem reports unsupported keywords and non-objects", () => {
    expect(jsonSchemaProblem({ type: "object", properties: { a: { type: "string" } } })).toBeUndefined();
    expect(jsonSchemaProblem(true)).toBeUndefined();
    expect(jsonSchemaProblem({ type: "strin" })).toContain("Unsupported type");
    expect(jsonSchemaProblem({ not: { type: "string" } })).toContain("not is not supported");
    expect(jsonSchemaProblem(["object"])).toBe("Invalid JSON Schema: expected an object");
  });

  it("jsonSchemaProblem quotes at most 200 characters of the converter's message (it can echo a long value whole)", () => {
    const problem = jsonSchemaProblem({ type: "object", properties: { reason: "a".repeat(2500) } });
    expect(problem).toMatch(/^Unsupported JSON Schema: .{1,200}…$/s);
  });
});

describe("loader", () => {
  it("maps issues to the line and column of the offending key", () => {
    const issues = issuesOf("agent-spec-bad.yaml");
    expect(issueAt(issues, "spec/tools/0/type")).toMatchObject({ line: 17, column: 7 }); // missing key: the tool item
    expect(issueAt(issues, "spec/llm/temperature")).toMatchObject({ line: 8, column: 5 });
    expect(issueAt(issues, "spec/llm/model")).toMatchObject({ line: 6, column: 3 }); // missing key: its parent `llm:`
    expect(issueAt(issues, "spec/functions/0")).toMatchObject({ line: 27, column: 7 }); // unknown key: the key itself
    expect(issueAt(issues, "spec/tools/2/capabilities/1")).toMatchObject({ line: 23, column: 11 });
  });

  it("sorts issues by position and reports JSON positions too", () => {
    const issues = issuesOf("ossa-minimal.json", true);
    const lines = issues.map((i) => i.line ?? 0);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(issueAt(issues, "spec/tools")).toMatchObject({ line: 5, column: 3 });
  });

  it("rejects more than one YAML document", () => {
    expect(issuesOf("multi-doc.yaml")).toEqual([
      { path: "", message: "Found 2 YAML documents; a manifest file must contain exactly one", line: 6, column: 1 },
    ]);
  });

  it("rejects an empty file", () => {
    const result = loadManifest("# nothing here\n", "empty.yaml");
    expect(result.ok ? [] : result.issues.map((i) => i.message)).toEqual([
      "No YAML document found; expected one manifest",
    ]);
  });

  it("requires strict JSON in .json files but accepts JSON in .yaml files", () => {
    const text = fixture("not-json.json");
    const issues = issuesOf("not-json.json");
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: "", message: expect.stringMatching(/^Invalid JSON: /) });
    expect(loadManifest(text, "not-json.yaml").ok).toBe(true);
    expect(loadManifest(fixture("ossa-minimal.json"), "minimal.yaml").ok).toBe(true);
    expect(issuesOf("trailing-comma.json")).toEqual([
      { path: "", message: "Invalid JSON: Expected double-quoted property name", line: 6, column: 1 },
    ]);
  });

  it("reports YAML syntax errors with their line", () => {
    const issues = issuesOf("syntax-error.yaml");
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ path: "", message: expect.stringMatching(/^YAML syntax error: /), line: 6 });
  });

  it("reports duplicate keys at the repeated key", () => {
    expect(issuesOf("duplicate-key.yaml")).toEqual([
      { path: "spec/role", message: 'Duplicate key "role" (YAML keys must be unique)', line: 7, column: 3 },
    ]);
  });

  it("reports a non-object document at the root", () => {
    const result = loadManifest("just a string\n", "scalar.yaml");
    expect(result.ok ? [] : result.issues).toEqual([
      { path: "", message: 'Expected object, received string "just a string"', line: 1, column: 1 },
    ]);
  });

  it("formats issues as file:line:col path: message", () => {
    expect(formatManifestIssue("m.yaml", { path: "spec/tools/0/type", message: "Required", line: 12, column: 5 })).toBe(
      "m.yaml:12:5 spec/tools/0/type: Required",
    );
    expect(formatManifestIssue("m.yaml", { path: "", message: "boom" })).toBe("m.yaml (root): boom");
  });
});
