import { describe, expect, it } from "vitest";
import { loadZaharaAgentManifest } from "../../workers/shared/manifest";
import { type BuilderForm, yamlFromForm } from "../../dashboard/src/screens/builder/form-model";
import {
  fieldKeyOf,
  fieldPaths,
  issueText,
  jsonTextProblem,
  placeIssues,
  sectionOfKey,
} from "../../dashboard/src/screens/builder/issues";
import { formOf, manifestText } from "./helpers";

const demo = () => formOf(manifestText("agent-demo.ossa.yaml"));

/** Validates the form's YAML and places the issues; `lineOf` gives the YAML line an issue points at. */
function check(form: BuilderForm) {
  const yaml = yamlFromForm(form);
  const result = loadZaharaAgentManifest(yaml, "agent.ossa.yaml");
  if (result.ok) throw new Error("expected issues");
  const lines = yaml.split("\n");
  for (const issue of result.issues) expect(issue.line, issue.path).toBeGreaterThan(0);
  const placed = placeIssues(result.issues, form);
  const at = (key: string) => (placed.byField.get(key) ?? []).map(issueText);
  const lineOf = (key: string) => lines[(placed.byField.get(key)?.[0]?.line ?? 0) - 1];
  return { placed, at, lineOf };
}

describe("placing schema issues at fields", () => {
  it("maps field paths, list entries and lists; deeper paths keep the rest", () => {
    const paths = fieldPaths(3, 2);
    expect(fieldKeyOf("metadata/name", paths)).toEqual({ key: "name", at: "" });
    expect(fieldKeyOf("extensions/zahara/resilience/breaker/open_ms", paths)).toEqual({ key: "openMs", at: "" });
    expect(fieldKeyOf("spec/tools/2/input_schema/properties/text", paths)).toEqual({
      key: "cap.2.input_schema",
      at: "properties/text",
    });
    expect(fieldKeyOf("spec/tools/1/type", paths)).toEqual({ key: "cap.1", at: "type" });
    expect(fieldKeyOf("spec/tools", paths)).toEqual({ key: "capabilities", at: "" });
    expect(fieldKeyOf("spec/tools/7/name", paths)).toEqual({ key: "capabilities", at: "7/name" });
    expect(fieldKeyOf("extensions/zahara/fallbacks/1", paths)).toEqual({ key: "fallback.1", at: "" });
    expect(fieldKeyOf("extensions/zahara/fallbacks", paths)).toEqual({ key: "fallbacks", at: "" });
    for (const unmapped of [
      "",
      "kind",
      "apiVersion",
      "extensions/zahara",
      "extensions/zahara/resilience/breaker",
      "spec/llm",
      "extensions/zahara/chaos/max_delay_ms",
    ]) {
      expect(fieldKeyOf(unmapped, paths), unmapped).toBeUndefined();
    }
  });

  it("OSSA and Zahara schema issues land at their fields", () => {
    const form = demo();
    const { placed, at, lineOf } = check({
      ...form,
      values: {
        ...form.values,
        name: "Bad Name",
        temperature: "hot",
        displayName: "",
        openMs: "50",
        baseMs: "20000",
        maxRetries: "11",
      },
      fallbacks: ["agent-custom", "agent-custom", ""],
    });
    expect(at("name")).toEqual(["Invalid name: expected a DNS-1123 name (lowercase letters, digits and -)"]);
    expect(at("temperature")).toEqual(['Expected number, received string "hot"']);
    expect(at("displayName")).toEqual(["Required"]);
    expect(at("openMs")[0]).toMatch(/>=100/);
    expect(at("baseMs")).toEqual(["base_ms must not exceed cap_ms"]);
    expect(at("maxRetries")[0]).toMatch(/<=10/);
    expect(at("fallbacks")).toEqual(["fallbacks must not repeat an agent"]);
    expect(at("fallback.2")).toHaveLength(1);
    expect(placed.unplaced).toEqual([]);
    // Lines are lines of the generated YAML (the preview).
    expect(lineOf("name")).toBe("  name: Bad Name");
    expect(lineOf("openMs")).toContain("open_ms: 50");
    expect(lineOf("maxRetries")).toContain("max_retries: 11");
    expect(sectionOfKey("openMs")).toBe("resilience");
    expect(sectionOfKey("fallback.2")).toBe("resilience");
    expect(sectionOfKey("displayName")).toBe("branding");
  });

  it("capability issues land at the capability's fields", () => {
    const form = demo();
    const caps = form.capabilities.map((c, i) =>
      i === 1
        ? { ...c, name: "Chaos" }
        : i === 2
          ? { ...c, name: "echo", inputSchema: '{ "type": "object", "properties": { "text": { "type": "strin" } } }' }
          : c,
    );
    const { placed, at } = check({ ...form, capabilities: caps });
    expect(at("cap.1.name")[0]).toMatch(/Invalid capability name "Chaos"/);
    expect(at("cap.2.name")[0]).toMatch(/Duplicate capability name "echo"/);
    expect(at("cap.2.input_schema")[0]).toMatch(/Unsupported JSON Schema/);
    expect(placed.unplaced).toEqual([]);
    expect(sectionOfKey("cap.2.input_schema")).toBe("capabilities");
  });

  it("no capabilities: the issue is at the list; a missing role at its field", () => {
    const form = demo();
    const { at } = check({ ...form, capabilities: [], values: { ...form.values, role: "" } });
    expect(at("capabilities")).toEqual(["A Zahara agent needs at least one tool with type: function"]);
    expect(at("role")[0]).toMatch(/spec.role/);
  });

  it("issues without a field are listed (with their line)", () => {
    const form = demo();
    const base = form.base
      .replace("  zahara:\n", "  zahara:\n    colour: blue\n")
      .replace("apiVersion: ossa/v0.3.1\nkind: Agent\n", "apiVersion: ossa/v0.3.1\nkind: Agentt\n");
    const { placed } = check({ ...form, base });
    expect(placed.unplaced.length).toBeGreaterThan(0);
    expect(placed.unplaced.every((i) => i.line !== undefined)).toBe(true);
    expect(placed.unplaced.map((i) => i.path)).toContain("kind");
  });
});

describe("JSON text areas", () => {
  it("accept empty, objects and booleans; report parse errors and other JSON", () => {
    expect(jsonTextProblem("")).toBeUndefined();
    expect(jsonTextProblem("  \n")).toBeUndefined();
    expect(jsonTextProblem('{ "type": "object" }')).toBeUndefined();
    expect(jsonTextProblem("true")).toBeUndefined();
    expect(jsonTextProblem('{ "type": ')).toMatch(/^Not valid JSON: /);
    expect(jsonTextProblem("[1]")).toBe("A JSON Schema is an object (or true / false)");
    expect(jsonTextProblem('"object"')).toBe("A JSON Schema is an object (or true / false)");
  });
});
