/**
 * The Builder's form state and its two directions: YAML → form
 * ({@link formFromYaml}) and form → YAML ({@link yamlFromForm}).
 *
 * The form edits some fields of a manifest; `base` is the YAML it is laid
 * over, so everything the form does not show (apiVersion, labels, chaos,
 * branding theme, breaker failure_rate, comments…) comes through unchanged.
 *
 * Nothing typed is lost: text that is not a number where a number belongs,
 * or not JSON where a schema belongs, is written as a YAML string, which the
 * schema then reports at that field. So the YAML generated from a form
 * always parses back to the same form — for every state `formFromYaml`
 * produces (numbers and JSON in their canonical spelling), exactly; for any
 * state, the generated YAML is a fixed point (tests in test/builder).
 */
import { Scalar, parseDocument, visit } from "yaml";
import { MAX_NESTING_DEPTH, yamlNestingDepth } from "../../../../workers/shared/manifest/yaml-source";
import { FALLBACKS_PATH, FIELDS, type FieldDef, type FieldKind, TOOLS_PATH } from "./fields";
import { type DocPath, isPlainObject, reconcile, valueAt } from "./yaml-reconcile";

/** One capability: a `spec.tools[]` entry. */
export interface CapabilityForm {
  name: string;
  description: string;
  /** `input_schema` as JSON text ("" = none). */
  inputSchema: string;
  /** `output_schema` as JSON text ("" = none). */
  outputSchema: string;
  /** The entry's other keys (`type` and anything the form does not edit), kept as they are. */
  rest: Record<string, unknown>;
  /** Set when the entry is not a mapping at all: it is kept verbatim (and the schema reports it). */
  raw?: unknown;
}

/** The whole form. */
export interface BuilderForm {
  /** Scalar fields by {@link FieldDef.id}, as typed ("" = not set). */
  values: Record<string, string>;
  capabilities: CapabilityForm[];
  /** `extensions.zahara.fallbacks`: agent names, in order. */
  fallbacks: string[];
  /** The YAML document the form is laid over. */
  base: string;
}

/** A YAML problem with where it is. */
export interface YamlProblem {
  message: string;
  line?: number;
  column?: number;
}

/** Result of {@link formFromYaml}. */
export type FormFromYaml = { ok: true; form: BuilderForm } | { ok: false; problems: YamlProblem[] };

/** How the generated YAML is written: long lines are not folded (flow collections are padded: `{ a: 1 }`, `[ a ]`). */
const TO_STRING = { lineWidth: 0 } as const;

/** A new capability's entry. */
export function newCapability(): CapabilityForm {
  return {
    name: "",
    description: "",
    inputSchema: '{\n  "type": "object"\n}',
    outputSchema: "",
    rest: { type: "function" },
  };
}

/** The form text of a scalar manifest value. */
function textOfValue(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

const NUMBER_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * The manifest value of a field's text: undefined when empty; a number or a
 * boolean when the text is one; otherwise the text itself, for the schema
 * to report. A number too large for a double (`1e400`) stays text (as
 * Infinity it would be written `.inf` and read back as "Infinity"), and
 * `-0` is 0 (it would be read back as "0"), so the YAML is a fixed point.
 */
export function valueOfText(kind: FieldKind, text: string): unknown {
  if (text === "") return undefined;
  if (kind === "number" && NUMBER_TEXT.test(text) && Number.isFinite(Number(text))) return Number(text) + 0;
  if (kind === "boolean" && (text === "true" || text === "false")) return text === "true";
  return text;
}

/** JSON text of a schema value ("" when absent; a string stays the text it was). */
export function jsonTextOf(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

/**
 * A schema value from JSON text: undefined when blank, the parsed JSON, or
 * the text itself when it is not JSON, is a JSON string (`"1"` would read
 * back as the text `1`, then as a number), or has a number too large for a
 * double (`1e400` would be written `.inf` and read back as `null`).
 * Numbers are read as JSON.stringify writes them (`-0` is 0).
 */
export function valueOfJsonText(text: string): unknown {
  if (text.trim() === "") return undefined;
  let finite = true;
  try {
    const value = JSON.parse(text, (_, v: unknown) => {
      if (typeof v !== "number") return v;
      finite &&= Number.isFinite(v);
      return v + 0; // -0 is written -0 but read back as 0 (JSON.stringify)
    }) as unknown;
    return finite && typeof value !== "string" ? value : text;
  } catch {
    return text;
  }
}

function capabilityOf(tool: unknown): CapabilityForm {
  if (!isPlainObject(tool))
    return { name: "", description: "", inputSchema: "", outputSchema: "", rest: {}, raw: tool };
  const { name, description, input_schema, output_schema, ...rest } = tool;
  return {
    name: textOfValue(name),
    description: textOfValue(description),
    inputSchema: jsonTextOf(input_schema),
    outputSchema: jsonTextOf(output_schema),
    rest,
  };
}

/** The tool entry of a capability (the form's keys after the kept ones, empty ones left out). */
export function toolOf(c: CapabilityForm): Record<string, unknown> {
  const tool: Record<string, unknown> = { ...c.rest };
  const set = (key: string, value: unknown) => value !== undefined && (tool[key] = value);
  set("name", valueOfText("text", c.name));
  set("description", valueOfText("text", c.description));
  set("input_schema", valueOfJsonText(c.inputSchema));
  set("output_schema", valueOfJsonText(c.outputSchema));
  return tool;
}

function problemsOf(doc: ReturnType<typeof parseDocument>): YamlProblem[] {
  // yaml's messages end with " at line L, column C:" and a source excerpt; the line and column are given separately.
  return doc.errors.map((e) => ({
    message: (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ""),
    line: e.linePos?.[0].line,
    column: e.linePos?.[0].col,
  }));
}

/** Reads a form from YAML (or JSON) text. An empty text is an empty form over an empty document. */
export function formFromYaml(text: string): FormFromYaml {
  if (yamlNestingDepth(text) > MAX_NESTING_DEPTH)
    return {
      ok: false,
      problems: [{ message: `Mappings and lists nested more than ${MAX_NESTING_DEPTH} levels deep`, line: 1 }],
    };
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { ok: false, problems: problemsOf(doc) };
  let root: unknown;
  try {
    root = doc.toJS(); // throws on an alias bomb ("Excessive alias count…", yaml's maxAliasCount)
    doc.toString(TO_STRING); // throws on what yaml reads but will not write, such as an anchor `&\0`
  } catch (error) {
    return { ok: false, problems: [{ message: error instanceof Error ? error.message : String(error) }] };
  }
  if (root !== null && root !== undefined && !isPlainObject(root))
    return {
      ok: false,
      problems: [{ message: "A manifest is a YAML mapping (key: value lines), not a list or a single value", line: 1 }],
    };
  const values: Record<string, string> = {};
  for (const f of FIELDS) values[f.id] = textOfValue(valueAt(doc, f.path));
  const tools = valueAt(doc, TOOLS_PATH);
  const fallbacks = valueAt(doc, FALLBACKS_PATH);
  return {
    ok: true,
    form: {
      values,
      capabilities: Array.isArray(tools) ? tools.map(capabilityOf) : [],
      fallbacks: Array.isArray(fallbacks) ? fallbacks.map(textOfValue) : [],
      base: text,
    },
  };
}

/**
 * The order in which new keys are written (keys already in the document
 * keep their place): a manifest's usual order — metadata, spec (role, llm,
 * tools, constraints, safety), then extensions.zahara (binding, service,
 * branding, fallbacks, resilience).
 */
const WRITE_ORDER: readonly DocPath[] = [
  ["metadata"],
  ["spec", "role"],
  ["spec", "llm"],
  TOOLS_PATH,
  ["spec", "constraints"],
  ["spec", "safety"],
  ["extensions", "zahara", "binding"],
  ["extensions", "zahara", "service"],
  ["extensions", "zahara", "branding"],
  FALLBACKS_PATH,
  ["extensions", "zahara", "resilience"],
];

function writeRank(path: DocPath): number {
  const rank = WRITE_ORDER.findIndex((prefix) => prefix.every((key, i) => path[i] === key));
  return rank === -1 ? WRITE_ORDER.length : rank;
}

/** Every value the form writes, with where it goes (undefined: remove), in {@link WRITE_ORDER}. */
export function formEntries(form: BuilderForm): { path: DocPath; value: unknown }[] {
  const entries: { path: DocPath; value: unknown }[] = FIELDS.map((f: FieldDef) => ({
    path: f.path,
    value: valueOfText(f.kind, form.values[f.id] ?? ""),
  }));
  entries.push({
    path: TOOLS_PATH,
    value: form.capabilities.length > 0 ? form.capabilities.map((c) => ("raw" in c ? c.raw : toolOf(c))) : undefined,
  });
  entries.push({ path: FALLBACKS_PATH, value: form.fallbacks.length > 0 ? form.fallbacks : undefined });
  return entries.sort((a, b) => writeRank(a.path) - writeRank(b.path));
}

/** The manifest YAML of a form: `base` with every form value written in, comments and layout kept. */
export function yamlFromForm(form: BuilderForm): string {
  const doc = parseDocument(form.base);
  if (doc.errors.length > 0) throw new Error(`The base document does not parse: ${doc.errors[0]?.message ?? ""}`);
  for (const { path, value } of formEntries(form)) reconcile(doc, path, value);
  if (doc.contents === null) return "";
  // `yaml` writes a whitespace-only string with a newline (or kept as a `|` block) as a block that reads back
  // changed, and a new "" key as `? ""` that is written `"":` once read back: such strings are quoted.
  visit(doc, {
    Pair(_, pair) {
      if (pair.key === "") pair.key = new Scalar(""); // set by setIn as a bare string
    },
    Scalar(_, node) {
      if (typeof node.value === "string" && /^[ \t\n]*$/.test(node.value) && node.type !== "QUOTE_SINGLE")
        node.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString(TO_STRING);
}

/** The parts of a form that a person edits (everything but `base`): what the round trip preserves. */
export function editedParts(form: BuilderForm): Omit<BuilderForm, "base"> {
  return { values: form.values, capabilities: form.capabilities, fallbacks: form.fallbacks };
}
