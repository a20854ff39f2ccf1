/**
 * The form's sections: a heading with the section's problem count, its
 * scalar fields (from fields.ts, in their groups), and for Resilience the
 * fallbacks list.
 */
import type { ComponentChildren } from "preact";
import { Field } from "./field";
import { type FieldDef, type SectionId, SECTIONS, fieldsIn } from "./fields";
import { type PlacedIssue, fallbackKey, issueText } from "./issues";

/** Props of {@link FormSection}. */
export interface FormSectionProps {
  id: SectionId;
  /** Problems in the section (shown next to the heading). */
  problems: number;
  children: ComponentChildren;
}

/** A section of the form. */
export function FormSection({ id, problems, children }: FormSectionProps) {
  const def = SECTIONS.find((s) => s.id === id);
  return (
    <section class="builder-panel" aria-labelledby={`builder-sec-${id}`}>
      <div class="builder-panel__head">
        <h2 id={`builder-sec-${id}`}>{def?.title ?? id}</h2>
        {problems > 0 ? (
          <span class="builder-tag builder-tag--bad">
            {problems} problem{problems === 1 ? "" : "s"}
          </span>
        ) : null}
      </div>
      {def ? <p class="muted">{def.description}</p> : null}
      {children}
    </section>
  );
}

/** Props of {@link ScalarFields}. */
export interface ScalarFieldsProps {
  section: SectionId;
  values: Readonly<Record<string, string>>;
  onValue: (id: string, value: string) => void;
  issues: ReadonlyMap<string, PlacedIssue[]>;
  /** Datalist ids by field id (suggestions). */
  lists?: Readonly<Record<string, string>>;
}

/** The section's scalar fields; grouped ones under a fieldset with the group's name. */
export function ScalarFields({ section, values, onValue, issues, lists = {} }: ScalarFieldsProps) {
  const groups: { name: string | undefined; fields: FieldDef[] }[] = [];
  for (const f of fieldsIn(section)) {
    const last = groups.at(-1);
    if (last && last.name === f.group) last.fields.push(f);
    else groups.push({ name: f.group, fields: [f] });
  }
  const field = (f: FieldDef) => (
    <Field
      key={f.id}
      id={`builder-${f.id}`}
      label={f.label}
      kind={f.kind}
      value={values[f.id] ?? ""}
      onInput={(v) => onValue(f.id, v)}
      hint={f.hint}
      defaultText={f.defaultText}
      problems={(issues.get(f.id) ?? []).map(issueText)}
      list={lists[f.id]}
    />
  );
  return (
    <>
      {groups.map((g, i) =>
        g.name === undefined ? (
          <div key={i} class="builder-grid">
            {g.fields.map(field)}
          </div>
        ) : (
          <fieldset key={i} class="builder-group">
            <legend>{g.name}</legend>
            <div class="builder-grid">{g.fields.map(field)}</div>
          </fieldset>
        ),
      )}
    </>
  );
}

/** Props of {@link FallbacksEditor}. */
export interface FallbacksEditorProps {
  fallbacks: readonly string[];
  onChange: (next: string[]) => void;
  issues: ReadonlyMap<string, PlacedIssue[]>;
}

/** Most fallbacks the schema allows. */
const MAX_FALLBACKS = 5;

/** `extensions.zahara.fallbacks`: agent names tried in order when this one is open or out of retries. */
export function FallbacksEditor({ fallbacks, onChange, issues }: FallbacksEditorProps) {
  const listIssues = issues.get(fallbackKey()) ?? [];
  return (
    <fieldset class="builder-group">
      <legend>Fallbacks</legend>
      <p class="builder-hint">
        Agents (their metadata name) tried in order when this one's breaker is open or its retries are exhausted; at
        most {MAX_FALLBACKS}.
      </p>
      {listIssues.length > 0 ? (
        <ul class="builder-problems">
          {listIssues.map((x, n) => (
            <li key={n}>{issueText(x)}</li>
          ))}
        </ul>
      ) : null}
      {fallbacks.length === 0 ? <p class="muted">None.</p> : null}
      <ol class="builder-fallbacks">
        {fallbacks.map((name, i) => {
          const problems = (issues.get(fallbackKey(i)) ?? []).map(issueText);
          return (
            <li key={i}>
              <label for={`builder-fallback-${i}`} class="builder-sr-only">
                Fallback {i + 1}
              </label>
              <input
                id={`builder-fallback-${i}`}
                type="text"
                autoComplete="off"
                spellcheck={false}
                value={name}
                aria-invalid={problems.length > 0 ? "true" : undefined}
                aria-describedby={problems.length > 0 ? `builder-fallback-${i}-problems` : undefined}
                onInput={(e) => onChange(fallbacks.map((f, j) => (j === i ? e.currentTarget.value : f)))}
              />
              <button
                type="button"
                class="button button--quiet"
                aria-label={`Remove fallback ${name || i + 1}`}
                onClick={() => onChange(fallbacks.filter((_, j) => j !== i))}
              >
                Remove
              </button>
              {problems.length > 0 ? (
                <ul id={`builder-fallback-${i}-problems`} class="builder-problems">
                  {problems.map((p, n) => (
                    <li key={n}>{p}</li>
                  ))}
                </ul>
              ) : null}
            </li>
          );
        })}
      </ol>
      <button
        type="button"
        class="button button--quiet"
        disabled={fallbacks.length >= MAX_FALLBACKS}
        onClick={() => onChange([...fallbacks, ""])}
      >
        Add a fallback
      </button>
    </fieldset>
  );
}
