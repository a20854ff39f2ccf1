/**
 * Validation for the form: which schema issue belongs to which field
 * ({@link placeIssues}), and the checks a JSON Schema text area makes before
 * any schema runs ({@link jsonTextProblem}).
 */
import { FALLBACKS_PATH, FIELDS, type SectionId, TOOLS_PATH } from "./fields";
import type { BuilderForm } from "./form-model";

/** A manifest issue, as `loadZaharaAgentManifest` reports it (`path` with slashes; lines of the generated YAML). */
export interface Issue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** An issue shown next to a field; `at` is the rest of its path below the field ("" when it is the field itself). */
export interface PlacedIssue extends Issue {
  at: string;
}

/** Issues sorted by where they are shown: next to a field, or in the list. */
export interface PlacedIssues {
  /** By field key (see {@link fieldKeyOf}). */
  byField: Map<string, PlacedIssue[]>;
  /** Issues no field shows (the document, a key the form has no field for, …). */
  unplaced: Issue[];
}

/** Capability field keys. */
export type CapabilityPart = "name" | "description" | "input_schema" | "output_schema";

/** The key of a capability's field (`cap.2.input_schema`), or of the capability as a whole (`cap.2`). */
export function capabilityKey(index: number, part?: CapabilityPart): string {
  return part === undefined ? `cap.${index}` : `cap.${index}.${part}`;
}

/** The key of a fallback entry (`fallback.0`), or of the list (`fallbacks`). */
export function fallbackKey(index?: number): string {
  return index === undefined ? "fallbacks" : `fallback.${index}`;
}

/** The key of the capabilities list as a whole. */
export const CAPABILITIES_KEY = "capabilities";

/** Every field's manifest path (slashes) with its key, for a form with `capabilities` and `fallbacks` entries. */
export function fieldPaths(capabilities: number, fallbacks: number): Map<string, string> {
  const paths = new Map<string, string>();
  for (const f of FIELDS) paths.set(f.path.join("/"), f.id);
  const tools = TOOLS_PATH.join("/");
  paths.set(tools, CAPABILITIES_KEY);
  for (let i = 0; i < capabilities; i++) {
    paths.set(`${tools}/${i}`, capabilityKey(i));
    for (const part of ["name", "description", "input_schema", "output_schema"] as const)
      paths.set(`${tools}/${i}/${part}`, capabilityKey(i, part));
  }
  const fb = FALLBACKS_PATH.join("/");
  paths.set(fb, fallbackKey());
  for (let i = 0; i < fallbacks; i++) paths.set(`${fb}/${i}`, fallbackKey(i));
  return paths;
}

/**
 * The key of the field that shows an issue at `path`: the field whose path
 * is the longest prefix of it (`spec/tools/1/input_schema/properties` →
 * the input schema of capability 1), or undefined when none is.
 */
export function fieldKeyOf(path: string, paths: Map<string, string>): { key: string; at: string } | undefined {
  const segments = path === "" ? [] : path.split("/");
  for (let n = segments.length; n > 0; n--) {
    const key = paths.get(segments.slice(0, n).join("/"));
    if (key !== undefined) return { key, at: segments.slice(n).join("/") };
  }
  return undefined;
}

/** How a placed issue reads next to its field: the message, after the part of the value it is about. */
export function issueText(issue: PlacedIssue): string {
  return issue.at === "" ? issue.message : `${issue.at}: ${issue.message}`;
}

/** Sorts `issues` to the fields of `form` that show them; the rest go to the list. */
export function placeIssues(
  issues: readonly Issue[],
  form: Pick<BuilderForm, "capabilities" | "fallbacks">,
): PlacedIssues {
  const paths = fieldPaths(form.capabilities.length, form.fallbacks.length);
  const byField = new Map<string, PlacedIssue[]>();
  const unplaced: Issue[] = [];
  for (const issue of issues) {
    const found = fieldKeyOf(issue.path, paths);
    if (found === undefined) unplaced.push(issue);
    else byField.set(found.key, [...(byField.get(found.key) ?? []), { ...issue, at: found.at }]);
  }
  return { byField, unplaced };
}

/** The section a field key belongs to (for the per-section problem counts). */
export function sectionOfKey(key: string): SectionId {
  if (key === CAPABILITIES_KEY || key.startsWith("cap.")) return "capabilities";
  if (key === "fallbacks" || key.startsWith("fallback.")) return "resilience";
  return FIELDS.find((f) => f.id === key)?.section ?? "metadata";
}

/**
 * What is wrong with a JSON Schema text area's text before the manifest
 * schema sees it: not JSON (with the parser's message), or JSON that is not
 * an object or a boolean. Undefined when it is fine or empty.
 */
export function jsonTextProblem(text: string): string | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `Not valid JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (typeof value === "boolean" || (typeof value === "object" && value !== null && !Array.isArray(value)))
    return undefined;
  return "A JSON Schema is an object (or true / false)";
}
