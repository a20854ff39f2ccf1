/**
 * Wizard step 1: a manifest from a file, an example, or pasted text,
 * validated with the project's own schema (OSSA v0.3.x plus the Zahara agent
 * rules); each error is shown at its line, next to the text.
 */
import { useState } from "preact/hooks";
import type { ManifestIssue, ZaharaAgentManifest } from "../../../../workers/shared/manifest";
import { EXAMPLE_MANIFESTS } from "../../examples";

/** A validated manifest and where it came from. */
export interface LoadedManifest {
  fileName: string;
  manifest: ZaharaAgentManifest;
}

/** Validates `text` with the project's schema (loaded on first use, so the rest of the dashboard stays small). */
export async function validateManifest(text: string, fileName: string) {
  const { loadZaharaAgentManifest } = await import("../../manifest");
  return loadZaharaAgentManifest(text, fileName);
}

/** Props of {@link ManifestStep}. */
export interface ManifestStepProps {
  onValid: (loaded: LoadedManifest) => void;
}

/** The step. */
export function ManifestStep({ onValid }: ManifestStepProps) {
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState("manifest.yaml");
  const [issues, setIssues] = useState<ManifestIssue[] | undefined>();
  const [checking, setChecking] = useState(false);

  async function check(t = text, name = fileName) {
    setChecking(true);
    const result = await validateManifest(t, name);
    setChecking(false);
    if (result.ok) {
      setIssues([]);
      onValid({ fileName: name, manifest: result.manifest });
    } else {
      setIssues(result.issues);
    }
  }

  async function upload(file: File | undefined) {
    if (!file) return;
    const t = await file.text();
    setText(t);
    setFileName(file.name);
    await check(t, file.name);
  }

  const lines = text.split("\n");
  const bad = new Set((issues ?? []).flatMap((i) => (i.line ? [i.line] : [])));
  return (
    <section class="panel" aria-labelledby="step-manifest">
      <h2 id="step-manifest">1. Manifest</h2>
      <div class="wizard-sources">
        <label class="button button--quiet">
          Upload a manifest (YAML or JSON)
          <input
            type="file"
            accept=".yaml,.yml,.json,application/json,text/yaml"
            class="visually-hidden"
            onChange={(e) => void upload(e.currentTarget.files?.[0])}
          />
        </label>
        {EXAMPLE_MANIFESTS.map((ex) => (
          <button
            key={ex.fileName}
            type="button"
            class="button button--quiet"
            onClick={() => (setText(ex.text), setFileName(ex.fileName), void check(ex.text, ex.fileName))}
          >
            Use {ex.fileName}
          </button>
        ))}
      </div>
      <label for="manifest-text">Or paste it here</label>
      <textarea
        id="manifest-text"
        class="code"
        rows={14}
        value={text}
        spellcheck={false}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <div class="wizard-actions">
        <button type="button" class="button" disabled={checking || text.trim() === ""} onClick={() => void check()}>
          {checking ? "Checking…" : "Validate"}
        </button>
      </div>
      {issues && issues.length > 0 ? (
        <div role="alert" class="issues">
          <p class="error">
            {issues.length} problem{issues.length === 1 ? "" : "s"} in {fileName}:
          </p>
          <ul>
            {issues.map((i, n) => (
              <li key={n}>
                {i.line ? (
                  <strong>
                    Line {i.line}
                    {i.column ? `:${i.column}` : ""}
                  </strong>
                ) : (
                  <strong>Document</strong>
                )}{" "}
                {i.path ? <code>{i.path}</code> : null} — {i.message}
              </li>
            ))}
          </ul>
          <ol class="source" aria-label="The manifest, problem lines marked" tabIndex={0}>
            {lines.map((l, n) => (
              <li key={n} class={bad.has(n + 1) ? "source__bad" : ""} value={n + 1}>
                <code>{l || " "}</code>
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}
