/**
 * One parameter of the try-it form: the input its schema calls for (text, number, checkbox, a choice, a text area
 * or JSON), its label, help and error, wired for assistive technology (aria-invalid, aria-describedby).
 */
import type { Field } from "./schema-model";

/** The input of one parameter. */
export function FieldInput({
  field: f,
  value,
  error,
  onChange,
}: {
  field: Field;
  value: string;
  error: string | undefined;
  onChange: (v: string) => void;
}) {
  const id = `field-${f.name}`;
  const describedBy =
    [f.description ? `${id}-help` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  const common = { id, "aria-invalid": error ? true : undefined, "aria-describedby": describedBy };
  return (
    <div class="field">
      <label for={id}>
        {f.label}
        {f.required ? <span aria-hidden="true"> *</span> : null}
        {f.required ? <span class="visually-hidden"> (required)</span> : null}
      </label>
      {f.kind === "enum" ? (
        <select {...common} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">—</option>
          {f.options?.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : f.kind === "boolean" ? (
        <input
          {...common}
          type="checkbox"
          checked={value === "true"}
          onChange={(e) => onChange(e.currentTarget.checked ? "true" : "false")}
        />
      ) : f.kind === "textarea" || f.kind === "json" ? (
        <textarea
          {...common}
          class={f.kind === "json" ? "code" : ""}
          rows={f.kind === "json" ? 6 : 4}
          value={value}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
      ) : f.kind === "text" ? (
        <input {...common} type="text" value={value} onInput={(e) => onChange(e.currentTarget.value)} />
      ) : (
        <input
          {...common}
          type="number"
          step={f.kind === "integer" ? 1 : "any"}
          value={value}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
      )}
      {f.description ? (
        <p id={`${id}-help`} class="muted">
          {f.description}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} class="error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
