/**
 * Wizard step 1: a manifest from a file, an example, pasted text, or handed over by the Builder, validated with the
 * project's own schema (OSSA v0.3.x plus the Zahara agent rules; a manifest without `extensions.zahara`'s binding
 * is checked as the hosted agent the gateway would serve it as); each error is shown at its line, next to the text,
 * with the problems the gateway found in the last upload (`INVALID_MANIFEST`) marked the same way.
 */
import { useEffect, useState } from "preact/hooks";
import type { ManifestIssue, ZaharaAgentManifest } from "../../../../workers/shared/manifest";
import { HOSTED_BINDING, HOSTED_SERVICE } from "../../../../workers/shared/manifest/hosted-names";
import type { HostedIssue } from "../../hosted";
import { EXAMPLE_MANIFESTS } from "../../examples";

/** A validated manifest and where it came from. */
export interface LoadedManifest {
  fileName: string;
  text: string;
  manifest: ZaharaAgentManifest;
}

/** The binding and Worker that serve every hosted agent (the gateway fills them in for an upload). */
const HOSTED_DEFAULTS = { binding: HOSTED_BINDING, service: HOSTED_SERVICE };

/** Fills in `extensions.zahara`'s binding and service where the manifest has none, as the gateway does for an upload. */
function withHostedDefaults(data: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(data)) return data;
  const extensions = data.extensions ?? {};
  if (!isObject(extensions)) return data;
  const zahara = extensions.zahara ?? {};
  if (!isObject(zahara) || zahara.binding !== undefined || zahara.service !== undefined) return data;
  return { ...data, extensions: { ...extensions, zahara: { ...zahara, ...HOSTED_DEFAULTS } } };
}

/** Validates `text` with the project's schema (loaded on first use, so the rest of the dashboard stays small). */
export async function validateManifest(text: string, fileName: string) {
  const { loadZaharaAgentManifest } = await import("../../manifest");
  return loadZaharaAgentManifest(text, fileName, withHostedDefaults);
}

/** Props of {@link ManifestStep}. */
export interface ManifestStepProps {
  onValid: (loaded: LoadedManifest) => void;
  /** The text to start with (going back, or handed over by the Builder), checked at once when `check` is set. */
  initial?: { text: string; fileName: string; check?: boolean };
  /** The gateway's problems with this text's last upload. */
  serverIssues?: readonly HostedIssue[];
  /** Why the gateway refused the last upload. */
  notice?: string;
}

type ShownIssue = ManifestIssue & { severity?: HostedIssue["severity"]; fromGateway?: boolean };

/** The step. */
export function ManifestStep({ onValid, initial, serverIssues = [], notice }: ManifestStepProps) {
  const [text, setText] = useState(initial?.text ?? "");
  const [fileName, setFileName] = useState(initial?.fileName ?? "manifest.yaml");
  const [issues, setIssues] = useState<ShownIssue[] | undefined>(() =>
    serverIssues.length > 0 ? serverIssues.map((i) => ({ path: "", ...i, fromGateway: true })) : undefined,
  );
  const [checking, setChecking] = useState(false);

  useEffect(() => {
    if (initial?.check) void check(initial.text, initial.fileName);
  }, []);

  async function check(t = text, name = fileName) {
    setChecking(true);
    const result = await validateManifest(t, name);
    setChecking(false);
    if (result.ok) {
      setIssues([]);
      onValid({ fileName: name, text: t, manifest: result.manifest });
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
  const bad = new Set((issues ?? []).flatMap((i) => (i.line && i.severity !== "warning" ? [i.line] : [])));
  const errors = (issues ?? []).filter((i) => i.severity !== "warning").length;
  return (
    <section class="panel" aria-labelledby="step-manifest">
      <h2 id="step-manifest" class="wizard-step-heading" tabIndex={-1}>
        1. Manifest
      </h2>
      {notice ? (
        <p class="error" role="alert">
          {notice}
        </p>
      ) : null}
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
            {errors} problem{errors === 1 ? "" : "s"} in {fileName}
            {issues.some((i) => i.fromGateway) ? " (found by the gateway)" : ""}:
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
                {i.severity === "warning" ? <span class="badge badge--half_open">warning</span> : null}{" "}
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
