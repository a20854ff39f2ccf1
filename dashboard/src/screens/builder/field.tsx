/**
 * One labelled input of the Builder with its hint and its problems: a text
 * or number input, a text area, a JSON text area or a yes/no/not-set select.
 * Problems are tied to the input with aria-describedby and aria-invalid.
 */
import type { FieldDef } from "./fields";

/** Props of {@link Field}. */
export interface FieldProps {
  /** DOM id of the input (hint and problems get `-hint` / `-problems`). */
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  kind: FieldDef["kind"] | "json";
  hint?: string | undefined;
  /** Shown when empty; for a boolean, what "not set" means. */
  defaultText?: string | undefined;
  /** Problems to show under the input. */
  problems?: readonly string[] | undefined;
  /** Id of a `<datalist>` with suggestions (text inputs). */
  list?: string | undefined;
  rows?: number;
}

/** The input. */
export function Field({ id, label, value, onInput, kind, hint, defaultText, problems = [], list, rows }: FieldProps) {
  const hintId = hint ? `${id}-hint` : undefined;
  const problemsId = problems.length > 0 ? `${id}-problems` : undefined;
  const describedBy = [hintId, problemsId].filter(Boolean).join(" ") || undefined;
  const invalid = problems.length > 0 ? "true" : undefined;
  const common = { id, "aria-describedby": describedBy, "aria-invalid": invalid } as const;
  let input;
  if (kind === "boolean") {
    input = (
      <select {...common} value={value} onChange={(e) => onInput(e.currentTarget.value)}>
        <option value="">Not set{defaultText ? ` (default: ${defaultText === "true" ? "yes" : "no"})` : ""}</option>
        <option value="true">Yes</option>
        <option value="false">No</option>
        {value !== "" && value !== "true" && value !== "false" ? (
          <option value={value}>{value} (not a yes/no value)</option>
        ) : null}
      </select>
    );
  } else if (kind === "multiline" || kind === "json") {
    input = (
      <textarea
        {...common}
        class={kind === "json" ? "builder-code" : undefined}
        rows={rows ?? (kind === "json" ? Math.min(16, Math.max(4, value.split("\n").length + 1)) : 3)}
        value={value}
        spellcheck={kind !== "json"}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
    );
  } else {
    input = (
      <input
        {...common}
        type="text"
        inputMode={kind === "number" ? "decimal" : undefined}
        autoComplete="off"
        spellcheck={false}
        list={list}
        value={value}
        placeholder={defaultText ? `default ${defaultText}` : undefined}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
    );
  }
  return (
    <div class={`builder-field${kind === "multiline" || kind === "json" ? " builder-field--wide" : ""}`}>
      <label for={id}>{label}</label>
      {input}
      {hint ? (
        <p id={hintId} class="builder-hint">
          {hint}
        </p>
      ) : null}
      {problems.length > 0 ? (
        <ul id={problemsId} class="builder-problems">
          {problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
