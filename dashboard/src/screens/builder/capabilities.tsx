/**
 * The capabilities editor: one card per `spec.tools[]` entry with its name,
 * description and input/output JSON Schemas (each text area checked as JSON
 * as you type, then by the manifest schema), add and remove.
 */
import { useRef } from "preact/hooks";
import { Field } from "./field";
import { type CapabilityForm, newCapability } from "./form-model";
import {
  CAPABILITIES_KEY,
  type CapabilityPart,
  type PlacedIssue,
  capabilityKey,
  issueText,
  jsonTextProblem,
} from "./issues";

/** Props of {@link CapabilitiesEditor}. */
export interface CapabilitiesEditorProps {
  capabilities: readonly CapabilityForm[];
  onChange: (next: CapabilityForm[]) => void;
  /** Schema issues by field key (`cap.1.name`, `cap.1`, `capabilities`). */
  issues: ReadonlyMap<string, PlacedIssue[]>;
}

/** Problems of one capability field: the JSON check first; then the schema's, unless they only repeat that the text is not JSON. */
export function capabilityProblems(
  c: CapabilityForm,
  index: number,
  part: CapabilityPart,
  issues: ReadonlyMap<string, PlacedIssue[]>,
): string[] {
  const schemaIssues = issues.get(capabilityKey(index, part)) ?? [];
  if (part !== "input_schema" && part !== "output_schema") return schemaIssues.map(issueText);
  const local = jsonTextProblem(part === "input_schema" ? c.inputSchema : c.outputSchema);
  if (local === undefined) return schemaIssues.map(issueText);
  return [local, ...schemaIssues.filter((i) => i.at !== "").map(issueText)];
}

/** The editor. */
export function CapabilitiesEditor({ capabilities, onChange, issues }: CapabilitiesEditorProps) {
  const update = (index: number, patch: Partial<CapabilityForm>) =>
    onChange(capabilities.map((c, i) => (i === index ? { ...c, ...patch } : c)));
  const addButton = useRef<HTMLButtonElement>(null);
  // The removed card's button goes away with it; focus moves to "Add a capability", not to the page's start.
  const remove = (index: number) => (onChange(capabilities.filter((_, i) => i !== index)), addButton.current?.focus());
  const listIssues = issues.get(CAPABILITIES_KEY) ?? [];
  return (
    <>
      {listIssues.length > 0 ? (
        <ul class="builder-problems">
          {listIssues.map((i, n) => (
            <li key={n}>{issueText(i)}</li>
          ))}
        </ul>
      ) : null}
      {capabilities.length === 0 ? <p class="muted">No capabilities yet. A Zahara agent needs at least one.</p> : null}
      <ol class="builder-caps">
        {capabilities.map((c, i) => {
          const id = `builder-cap-${i}`;
          const title = c.name.trim() || `Capability ${i + 1}`;
          const type = typeof c.rest.type === "string" ? c.rest.type : undefined;
          const rowIssues = issues.get(capabilityKey(i)) ?? [];
          return (
            <li key={i} class="builder-cap" aria-labelledby={`${id}-title`}>
              <div class="builder-cap__head">
                <h3 id={`${id}-title`}>{title}</h3>
                {type && type !== "function" ? <span class="builder-tag">type: {type}</span> : null}
                <button
                  type="button"
                  class="button button--quiet"
                  onClick={() => remove(i)}
                  aria-label={`Remove ${title}`}
                >
                  Remove
                </button>
              </div>
              {type !== undefined && type !== "function" ? (
                <p class="muted">Not a Zahara capability (only type: function tools are); kept as it is.</p>
              ) : null}
              {rowIssues.length > 0 ? (
                <ul class="builder-problems">
                  {rowIssues.map((x, n) => (
                    <li key={n}>{issueText(x)}</li>
                  ))}
                </ul>
              ) : null}
              {"raw" in c ? (
                <p class="builder-problems">This entry is not a mapping; edit or remove it in the YAML.</p>
              ) : (
                <div class="builder-grid">
                  <Field
                    id={`${id}-name`}
                    label="Name"
                    kind="text"
                    value={c.name}
                    onInput={(v) => update(i, { name: v })}
                    hint="snake_case, unique, e.g. summarize."
                    problems={capabilityProblems(c, i, "name", issues)}
                  />
                  <Field
                    id={`${id}-description`}
                    label="Description"
                    kind="multiline"
                    rows={2}
                    value={c.description}
                    onInput={(v) => update(i, { description: v })}
                    problems={capabilityProblems(c, i, "description", issues)}
                  />
                  <Field
                    id={`${id}-input`}
                    label="Input schema (JSON)"
                    kind="json"
                    value={c.inputSchema}
                    onInput={(v) => update(i, { inputSchema: v })}
                    hint="The parameters callers send. Empty: none."
                    problems={capabilityProblems(c, i, "input_schema", issues)}
                  />
                  <Field
                    id={`${id}-output`}
                    label="Output schema (JSON)"
                    kind="json"
                    value={c.outputSchema}
                    onInput={(v) => update(i, { outputSchema: v })}
                    hint="What the capability answers. Empty: not declared."
                    problems={capabilityProblems(c, i, "output_schema", issues)}
                  />
                </div>
              )}
            </li>
          );
        })}
      </ol>
      <button
        type="button"
        class="button button--quiet"
        ref={addButton}
        onClick={() => onChange([...capabilities, newCapability()])}
      >
        Add a capability
      </button>
    </>
  );
}
