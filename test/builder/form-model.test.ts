import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { RESILIENCE_DEFAULTS } from "../../workers/gateway/src/resilience/config";
import { FIELDS, RESILIENCE_DEFAULT_TEXT } from "../../dashboard/src/screens/builder/fields";
import {
  type BuilderForm,
  editedParts,
  formFromYaml,
  newCapability,
  valueOfText,
  yamlFromForm,
} from "../../dashboard/src/screens/builder/form-model";
import { MANIFEST_FILES, formOf, manifestText, validManifest } from "./helpers";

/** YAML → form → YAML → form: the form comes back equal, and the YAML is a fixed point. */
function roundTrip(form: BuilderForm): { yaml: string; back: BuilderForm } {
  const yaml = yamlFromForm(form);
  const back = formOf(yaml);
  expect(editedParts(back)).toEqual(editedParts(form));
  expect(yamlFromForm(back)).toBe(yaml);
  return { yaml, back };
}

describe("round trip of the repo's manifests", () => {
  for (const file of MANIFEST_FILES) {
    it(`${file}: form → YAML → the same form, the same manifest, comments kept`, () => {
      const text = manifestText(file);
      const form = formOf(text);
      const { yaml } = roundTrip(form);
      // The data is unchanged, and so is the validated manifest.
      expect(parse(yaml)).toEqual(parse(text));
      expect(validManifest(yaml, file)).toEqual(validManifest(text, file));
      // Layout and comments survive; the only difference is the padding of flow lists (`[ a ]`).
      expect(yaml.replace(/\[ (.*?) \]/g, "[$1]")).toBe(text);
    });
  }

  it("reads agent-demo's fields", () => {
    const form = formOf(manifestText("agent-demo.ossa.yaml"));
    expect(form.values).toMatchObject({
      name: "agent-demo",
      version: "1.0.0",
      displayName: "Zahara Demo Agent",
      provider: "${LLM_PROVIDER:-openai}",
      temperature: "0.2",
      maxTokens: "512",
      timeoutSeconds: "30",
      maxConcurrentRequests: "50",
      maxTokensPerDay: "200000",
      rateLimitEnabled: "true",
      rateLimitRpm: "600",
      rateLimitBurst: "50",
      failureThreshold: "5",
      openMs: "60000",
      halfOpenProbes: "1",
      maxRetries: "3",
      retryOn500: "true",
      retryRatio: "0.2",
      keyRpm: "300",
      keyBurst: "30",
      tokenEstimate: "1000",
    });
    expect(form.values.role).toContain("You are Zahara's demo agent.");
    expect(form.capabilities.map((c) => c.name)).toEqual(["echo", "chaos", "summarize"]);
    expect(form.capabilities[1]?.outputSchema).toBe("");
    expect(JSON.parse(form.capabilities[2]?.inputSchema ?? "")).toMatchObject({
      required: ["text"],
      additionalProperties: false,
    });
    expect(form.capabilities[0]?.rest).toEqual({ type: "function" });
    expect(form.fallbacks).toEqual(["agent-custom"]);
  });

  it("agent-custom has no resilience block: its fields are empty", () => {
    const form = formOf(manifestText("agent-custom.ossa.yaml"));
    for (const id of ["failureThreshold", "openMs", "maxRetries", "retryOn500", "keyRpm", "tokenEstimate"])
      expect(form.values[id]).toBe("");
    expect(form.fallbacks).toEqual([]);
  });
});

describe("edits", () => {
  it("changed, cleared and added values round-trip, and only they change", () => {
    const text = manifestText("agent-custom.ossa.yaml");
    const form = formOf(text);
    const edited: BuilderForm = {
      ...form,
      values: {
        ...form.values,
        description: "Triage.",
        tagline: "",
        temperature: "0.7",
        openMs: "30000",
        maxRetries: "2",
        retryOn500: "false",
        keyRpm: "60",
        rateLimitEnabled: "",
      },
      capabilities: [
        ...form.capabilities.slice(1),
        { ...newCapability(), name: "route", description: "Routes a ticket." },
      ],
      fallbacks: ["agent-demo"],
    };
    const { yaml } = roundTrip(edited);
    const data = parse(yaml);
    expect(data.metadata.description).toBe("Triage.");
    expect(data.extensions.zahara.branding).toEqual({
      display_name: "Acme Support Triage",
      theme: "neutral",
      show_logo: false,
    });
    expect(data.spec.llm.temperature).toBe(0.7);
    expect(data.spec.safety.rate_limiting).toEqual({ requests_per_minute: 300, burst_limit: 20 });
    expect(data.extensions.zahara.resilience).toEqual({
      breaker: { open_ms: 30000 },
      retries: { max_retries: 2, retry_on_500: false },
      rate_limit_per_key: { requests_per_minute: 60 },
    });
    expect(data.extensions.zahara.fallbacks).toEqual(["agent-demo"]);
    expect(data.spec.tools.map((t: { name: string }) => t.name)).toEqual(["classify", "route"]);
    expect(data.spec.tools[1]).toEqual({
      type: "function",
      name: "route",
      description: "Routes a ticket.",
      input_schema: { type: "object" },
    });
    // Everything the form does not edit is still there, comments included.
    expect(data.metadata.labels).toEqual({ "app.kubernetes.io/part-of": "zahara" });
    expect(data.extensions.zahara.dev_port).toBe(3002);
    expect(yaml.startsWith("# A rebranded agent on the same runtime")).toBe(true);
    expect(validManifest(yaml).extensions.zahara.resilience?.retries).toEqual({ max_retries: 2, retry_on_500: false });
  });

  it("editing one schema property changes one line", () => {
    const text = manifestText("agent-demo.ossa.yaml");
    const form = formOf(text);
    const cap = form.capabilities[2];
    if (!cap) throw new Error("no summarize");
    const schema = JSON.parse(cap.inputSchema);
    schema.properties.text.maxLength = 5000;
    const edited = {
      ...form,
      capabilities: form.capabilities.map((c, i) =>
        i === 2 ? { ...c, inputSchema: JSON.stringify(schema, null, 2) } : c,
      ),
    };
    const { yaml } = roundTrip(edited);
    const before = yamlFromForm(form).split("\n");
    const after = yaml.split("\n");
    expect(after.length).toBe(before.length);
    const changed = after.flatMap((line, i) => (line === before[i] ? [] : [line]));
    expect(changed).toEqual(["          text: { type: string, minLength: 1, maxLength: 5000 }"]);
  });

  it("clearing every field of a block removes the block", () => {
    const form = formOf(manifestText("agent-demo.ossa.yaml"));
    const edited = {
      ...form,
      values: { ...form.values, failureThreshold: "", openMs: "", halfOpenProbes: "", displayName: "", tagline: "" },
    };
    const { yaml } = roundTrip(edited);
    const data = parse(yaml);
    expect(data.extensions.zahara.resilience.breaker).toBeUndefined();
    expect(data.extensions.zahara.resilience.retries).toBeDefined();
    // branding keeps theme and show_logo, which the form does not edit.
    expect(data.extensions.zahara.branding).toEqual({ theme: "zahara", show_logo: true });
  });

  it("keeps what is not a number or not JSON as text, for the schema to report", () => {
    const form = formOf(manifestText("agent-demo.ossa.yaml"));
    const edited: BuilderForm = {
      ...form,
      values: { ...form.values, openMs: "soon", retryOn500: "maybe" },
      capabilities: form.capabilities.map((c, i) => (i === 0 ? { ...c, inputSchema: '{ "type": "object", ' } : c)),
    };
    const { yaml } = roundTrip(edited);
    const data = parse(yaml);
    expect(data.extensions.zahara.resilience.breaker.open_ms).toBe("soon");
    expect(data.extensions.zahara.resilience.retries.retry_on_500).toBe("maybe");
    expect(data.spec.tools[0].input_schema).toBe('{ "type": "object", ');
  });

  it("any form's YAML is a fixed point; numbers and JSON come back in canonical spelling", () => {
    const form = formOf(manifestText("agent-demo.ossa.yaml"));
    const edited: BuilderForm = {
      ...form,
      values: { ...form.values, temperature: "0.50", openMs: " 1e4 " },
      capabilities: form.capabilities.map((c, i) => (i === 0 ? { ...c, inputSchema: '{"type":"object"}' } : c)),
    };
    const yaml = yamlFromForm(edited);
    const back = formOf(yaml);
    expect(back.values.temperature).toBe("0.5");
    expect(back.values.openMs).toBe("10000");
    expect(back.capabilities[0]?.inputSchema).toBe('{\n  "type": "object"\n}');
    expect(yamlFromForm(back)).toBe(yaml);
    roundTrip(back);
  });

  it("fills in an empty document, in the fields' order, and over empty `key:` placeholders", () => {
    const empty = formOf("");
    expect(Object.values(empty.values).every((v) => v === "")).toBe(true);
    const filled: BuilderForm = {
      ...empty,
      values: { ...empty.values, name: "x", openMs: "5000" },
      capabilities: [{ ...newCapability(), name: "run" }],
    };
    const { yaml } = roundTrip(filled);
    expect(yaml).toBe(
      [
        "metadata:",
        "  name: x",
        "spec:",
        "  tools:",
        "    - type: function",
        "      name: run",
        "      input_schema:",
        "        type: object",
        "extensions:",
        "  zahara:",
        "    resilience:",
        "      breaker:",
        "        open_ms: 5000",
        "",
      ].join("\n"),
    );
    const placeholder = formOf("metadata:\n  name: x\nextensions:\n  zahara:\n    resilience:\n");
    const { yaml: y2 } = roundTrip({ ...placeholder, values: { ...placeholder.values, maxRetries: "1" } });
    expect(parse(y2).extensions.zahara.resilience).toEqual({ retries: { max_retries: 1 } });
  });

  it("keeps a tool entry that is not a mapping as it is", () => {
    const form = formOf("spec:\n  tools:\n    - just-a-string\n    - type: function\n      name: a\n");
    expect("raw" in (form.capabilities[0] ?? {})).toBe(true);
    const { yaml } = roundTrip({ ...form, capabilities: [...form.capabilities, { ...newCapability(), name: "b" }] });
    expect(parse(yaml).spec.tools[0]).toBe("just-a-string");
  });
});

describe("reading YAML", () => {
  it("reports YAML syntax errors with their line", () => {
    const read = formFromYaml("metadata:\n  name: x\n   bad: [\n");
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.problems[0]?.line).toBeGreaterThan(1);
  });

  it("refuses a document that is not a mapping", () => {
    const read = formFromYaml("- a\n- b\n");
    expect(read.ok).toBe(false);
  });

  it("reads JSON too", () => {
    const form = formOf(JSON.stringify({ metadata: { name: "j" }, extensions: { zahara: { fallbacks: ["a"] } } }));
    expect(form.values.name).toBe("j");
    expect(form.fallbacks).toEqual(["a"]);
    roundTrip({ ...form, values: { ...form.values, version: "1.0.0" } });
  });
});

describe("fields", () => {
  it("field ids and paths are unique", () => {
    expect(new Set(FIELDS.map((f) => f.id)).size).toBe(FIELDS.length);
    expect(new Set(FIELDS.map((f) => f.path.join("/"))).size).toBe(FIELDS.length);
  });

  it("the defaults shown match the gateway's", () => {
    const d = RESILIENCE_DEFAULTS;
    expect(RESILIENCE_DEFAULT_TEXT).toEqual({
      failureThreshold: String(d.failureThreshold),
      openMs: String(d.openMs),
      halfOpenProbes: String(d.halfOpenProbes),
      maxRetries: String(d.maxRetries),
      baseMs: String(d.baseMs),
      capMs: String(d.capMs),
      retryOn500: String(d.retryOn500),
      retryRatio: String(d.retryRatio),
      retryMinPerWindow: String(d.retryMinPerWindow),
      retryWindowMs: String(d.retryWindowMs),
      tokenEstimate: String(d.tokenEstimate),
    });
  });

  it("valueOfText: empty is absent, numbers and booleans are typed, anything else stays text", () => {
    expect(valueOfText("number", "")).toBeUndefined();
    expect(valueOfText("number", "12")).toBe(12);
    expect(valueOfText("number", "-0.5")).toBe(-0.5);
    expect(valueOfText("number", "0x10")).toBe("0x10");
    expect(valueOfText("number", "12 ms")).toBe("12 ms");
    expect(valueOfText("boolean", "false")).toBe(false);
    expect(valueOfText("text", "42")).toBe("42");
  });
});
