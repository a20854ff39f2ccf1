/**
 * A form model from a capability's JSON Schema (the manifest's
 * `input_schema`): one field per top-level property a person can fill
 * (string, number, integer, boolean, enum), a JSON text area for anything
 * else, and the conversion of the filled form back to `parameters`, with
 * the errors a person can fix (required, not a number, not JSON).
 */

type Schema = Record<string, unknown>;

/** One form field. */
export interface Field {
  name: string;
  label: string;
  kind: "text" | "textarea" | "number" | "integer" | "boolean" | "enum" | "json";
  required: boolean;
  description?: string;
  options?: string[];
  initial: string;
}

/** The form for a schema; `free` when the schema names no properties (one JSON area for all parameters). */
export function fieldsOf(schema: unknown): { fields: Field[]; free: boolean } {
  const s = (schema ?? {}) as Schema;
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const names = Object.keys(props);
  if (names.length === 0)
    return {
      fields: [{ name: "parameters", label: "Parameters (JSON object)", kind: "json", required: false, initial: "{}" }],
      free: true,
    };
  return {
    free: false,
    fields: names.map((name) => {
      const p = props[name] ?? {};
      const type = Array.isArray(p.type)
        ? (p.type as string[]).find((t) => t !== "null")
        : (p.type as string | undefined);
      const base = {
        name,
        label: (p.title as string | undefined) ?? name,
        required: required.has(name),
        ...(typeof p.description === "string" ? { description: p.description } : {}),
      };
      const dflt = p.default;
      if (Array.isArray(p.enum))
        return {
          ...base,
          kind: "enum",
          options: (p.enum as unknown[]).map(String),
          initial: dflt !== undefined ? String(dflt) : "",
        };
      if (type === "boolean") return { ...base, kind: "boolean", initial: dflt === true ? "true" : "false" };
      if (type === "integer" || type === "number")
        return { ...base, kind: type, initial: dflt !== undefined ? String(dflt) : "" };
      if (type === "string")
        return {
          ...base,
          kind: typeof p.maxLength === "number" && p.maxLength <= 200 ? "text" : "textarea",
          initial: dflt !== undefined ? String(dflt) : "",
        };
      return { ...base, kind: "json", initial: dflt !== undefined ? JSON.stringify(dflt, null, 2) : "" };
    }),
  };
}

/** Converts the filled form to `parameters`, or lists each field's error. */
export function toParameters(
  fields: readonly Field[],
  values: Record<string, string>,
  free: boolean,
): { ok: true; parameters: Record<string, unknown> } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = (values[f.name] ?? f.initial).trim();
    if (raw === "" && f.kind !== "boolean") {
      if (f.required) errors[f.name] = "Required";
      continue;
    }
    if (f.kind === "number" || f.kind === "integer") {
      const n = Number(raw);
      if (!Number.isFinite(n) || (f.kind === "integer" && !Number.isInteger(n)))
        errors[f.name] = f.kind === "integer" ? "Enter a whole number" : "Enter a number";
      else out[f.name] = n;
    } else if (f.kind === "boolean") {
      out[f.name] = raw === "true";
    } else if (f.kind === "json") {
      try {
        out[f.name] = JSON.parse(raw);
      } catch {
        errors[f.name] = "Not valid JSON";
      }
    } else {
      out[f.name] = raw;
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  if (free) {
    const p = out.parameters ?? {};
    if (typeof p !== "object" || p === null || Array.isArray(p))
      return { ok: false, errors: { parameters: "Must be a JSON object" } };
    return { ok: true, parameters: p as Record<string, unknown> };
  }
  return { ok: true, parameters: out };
}
