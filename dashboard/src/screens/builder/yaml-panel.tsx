/**
 * The YAML preview: the manifest the form produces, with line numbers, the
 * lines that have problems marked, and the problems no field shows listed
 * with their line. "Edit YAML" turns it into a text area; "Apply" reads the
 * text back into the form (paste a manifest here).
 */
import { useRef, useState } from "preact/hooks";
import { type YamlProblem, formFromYaml, type BuilderForm } from "./form-model";
import type { Issue } from "./issues";

/** Props of {@link YamlPanel}. */
export interface YamlPanelProps {
  yaml: string;
  /** Every issue of the last validation (lines are lines of `yaml`). */
  issues: readonly Issue[];
  /** The issues no field shows: listed here. */
  unplaced: readonly Issue[];
  /** Takes the form read from edited YAML. */
  onApply: (form: BuilderForm) => void;
}

function where(i: { line?: number | undefined; column?: number | undefined }): string {
  return i.line ? `Line ${i.line}${i.column ? `:${i.column}` : ""}` : "Document";
}

/** The panel. */
export function YamlPanel({ yaml, issues, unplaced, onApply }: YamlPanelProps) {
  const [draft, setDraft] = useState<string | undefined>();
  const [problems, setProblems] = useState<YamlProblem[]>([]);
  const listRef = useRef<HTMLOListElement>(null);
  const areaRef = useRef<HTMLTextAreaElement>(null);
  const lines = yaml.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const bad = new Map<number, string[]>();
  for (const i of issues) if (i.line) bad.set(i.line, [...(bad.get(i.line) ?? []), i.message]);

  function showLine(line: number) {
    const li = listRef.current?.children[line - 1] as HTMLElement | undefined;
    li?.scrollIntoView({ block: "center" });
    li?.focus();
  }
  function apply() {
    if (draft === undefined) return;
    const read = formFromYaml(draft);
    if (!read.ok) {
      setProblems(read.problems);
      areaRef.current?.focus();
      return;
    }
    setProblems([]);
    setDraft(undefined);
    onApply(read.form);
  }

  return (
    <section class="builder-panel builder-yaml" aria-labelledby="builder-yaml-title">
      <div class="builder-panel__head">
        <h2 id="builder-yaml-title">YAML</h2>
        {draft === undefined ? (
          <button type="button" class="button button--quiet" onClick={() => (setDraft(yaml), setProblems([]))}>
            Edit YAML
          </button>
        ) : null}
      </div>
      {draft !== undefined ? (
        <>
          <label for="builder-yaml-edit">Edit or paste a manifest, then apply it to the form</label>
          <textarea
            id="builder-yaml-edit"
            ref={areaRef}
            class="builder-code"
            rows={24}
            spellcheck={false}
            value={draft}
            aria-invalid={problems.length > 0 ? "true" : undefined}
            aria-describedby={problems.length > 0 ? "builder-yaml-problems" : undefined}
            onInput={(e) => setDraft(e.currentTarget.value)}
          />
          {problems.length > 0 ? (
            <ul id="builder-yaml-problems" class="builder-problems" role="alert">
              {problems.map((p, n) => (
                <li key={n}>
                  <strong>{where(p)}</strong> — {p.message}
                </li>
              ))}
            </ul>
          ) : null}
          <div class="builder-actions">
            <button type="button" class="button" onClick={apply}>
              Apply
            </button>
            <button type="button" class="button button--quiet" onClick={() => (setDraft(undefined), setProblems([]))}>
              Cancel
            </button>
          </div>
        </>
      ) : (
        <>
          {unplaced.length > 0 ? (
            <div class="builder-unplaced">
              <p class="error">
                {unplaced.length} problem{unplaced.length === 1 ? "" : "s"} not shown at a field:
              </p>
              <ul>
                {unplaced.map((i, n) => (
                  <li key={n}>
                    {i.line ? (
                      <button type="button" class="builder-linkish" onClick={() => showLine(i.line as number)}>
                        {where(i)}
                      </button>
                    ) : (
                      <strong>{where(i)}</strong>
                    )}{" "}
                    {i.path ? <code>{i.path}</code> : null} — {i.message}
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
          {issues.length > unplaced.length ? (
            <p class="muted">
              {issues.length - unplaced.length} problem{issues.length - unplaced.length === 1 ? " is" : "s are"} shown
              next to {issues.length - unplaced.length === 1 ? "its field" : "their fields"};{" "}
              {issues.length - unplaced.length === 1 ? "its line is" : "their lines are"} marked below.
            </p>
          ) : null}
          <ol class="builder-source" ref={listRef} aria-label="The manifest YAML, problem lines marked" tabIndex={0}>
            {lines.map((l, n) => {
              const messages = bad.get(n + 1);
              return (
                <li
                  key={n}
                  value={n + 1}
                  tabIndex={-1}
                  class={messages ? "builder-source__bad" : undefined}
                  title={messages?.join("\n")}
                >
                  <code>{l || " "}</code>
                  {messages ? <span class="builder-sr-only"> (problem: {messages.join("; ")})</span> : null}
                </li>
              );
            })}
          </ol>
        </>
      )}
    </section>
  );
}
