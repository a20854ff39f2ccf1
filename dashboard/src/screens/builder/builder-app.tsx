/**
 * The Builder itself (loaded on demand by index.tsx): the form in sections,
 * the YAML it produces, live validation with the project's schema (each
 * issue at its field, or listed with its line), load / upload / download,
 * the hand-over to the Wizard to deploy it, and the resilience simulator.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { ZaharaAgentManifest } from "../../../../workers/shared/manifest";
import { CapabilitiesEditor, capabilityProblems } from "./capabilities";
import { DeployInWizard } from "./deploy-in-wizard";
import { downloadText, manifestFileName } from "./download";
import { SECTIONS, type SectionId } from "./fields";
import { type BuilderForm, type CapabilityForm, type YamlProblem, formFromYaml, yamlFromForm } from "./form-model";
import { type Issue, CAPABILITIES_KEY, capabilityKey, placeIssues, sectionOfKey } from "./issues";
import { FallbacksEditor, FormSection, ScalarFields } from "./sections";
import { SimulatorPanel } from "./simulator-panel";
import { STARTING_POINTS, loadDraft, saveDraft } from "./sources";
import { manifestModule, validateYaml } from "./validation";
import { YamlPanel } from "./yaml-panel";

/** How long typing pauses before the manifest is validated (and the draft saved). */
const VALIDATE_AFTER_MS = 300;

type Check =
  | { status: "checking"; issues: readonly Issue[] }
  | { status: "valid"; yaml: string; manifest: ZaharaAgentManifest; issues: readonly Issue[] }
  | { status: "invalid"; yaml: string; issues: readonly Issue[] }
  | { status: "failed"; message: string; issues: readonly Issue[] };

interface Notice {
  text: string;
  error?: boolean;
  problems?: YamlProblem[];
  /** The form before the change the notice reports, for "Undo". */
  undo?: BuilderForm;
}

function startingForm(): { form: BuilderForm; notice?: Notice } {
  const draft = loadDraft();
  const read = draft === undefined ? undefined : formFromYaml(draft);
  if (read?.ok) return { form: read.form, notice: { text: "Restored the draft kept in this browser." } };
  const first = STARTING_POINTS[0];
  const example = first ? formFromYaml(first.text) : undefined;
  if (example?.ok) return { form: example.form, notice: { text: `Started from ${first?.label}.` } };
  return { form: { values: {}, capabilities: [], fallbacks: [], base: "" } };
}

/** The Builder. */
export function BuilderApp() {
  const start = useMemo(startingForm, []);
  const [form, setForm] = useState<BuilderForm>(start.form);
  const [notice, setNotice] = useState<Notice | undefined>(start.notice);
  const [check, setCheck] = useState<Check>({ status: "checking", issues: [] });
  const [source, setSource] = useState(STARTING_POINTS[0]?.id ?? "");
  const [providers, setProviders] = useState<readonly string[]>([]);
  const [retry, setRetry] = useState(0);
  const latest = useRef("");

  const generated = useMemo(() => {
    try {
      return { yaml: yamlFromForm(form) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }, [form]);
  const yaml = generated.yaml;
  const fileName = manifestFileName(form.values.name ?? "");

  useEffect(() => {
    void manifestModule().then(
      (m) => setProviders(m.LLM_PROVIDERS),
      () => undefined,
    );
  }, []);

  useEffect(() => {
    if (yaml === undefined) return;
    latest.current = yaml;
    setCheck((c) => ({ status: "checking", issues: c.issues }));
    const timer = setTimeout(() => {
      saveDraft(yaml);
      validateYaml(yaml, fileName).then(
        (r) => {
          if (latest.current !== yaml) return;
          setCheck(
            r.ok
              ? { status: "valid", yaml, manifest: r.manifest, issues: [] }
              : { status: "invalid", yaml, issues: r.issues },
          );
        },
        (error: unknown) =>
          latest.current === yaml &&
          setCheck({ status: "failed", message: error instanceof Error ? error.message : String(error), issues: [] }),
      );
    }, VALIDATE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [yaml, retry]);

  const placed = useMemo(
    () => placeIssues(check.issues, form),
    [check.issues, form.capabilities.length, form.fallbacks.length],
  );
  const sectionProblems = (id: SectionId): number => {
    if (id === "capabilities") {
      const parts = ["name", "description", "input_schema", "output_schema"] as const;
      const perCap = form.capabilities.reduce(
        (n, c, i) =>
          n +
          (placed.byField.get(capabilityKey(i))?.length ?? 0) +
          parts.reduce((m, p) => m + capabilityProblems(c, i, p, placed.byField).length, 0),
        0,
      );
      return perCap + (placed.byField.get(CAPABILITIES_KEY)?.length ?? 0);
    }
    let n = 0;
    for (const [key, list] of placed.byField)
      if (!key.startsWith("cap.") && key !== CAPABILITIES_KEY && sectionOfKey(key) === id) n += list.length;
    return n;
  };

  function replaceForm(next: BuilderForm, text: string) {
    setNotice({ text, undo: form });
    setForm(next);
  }
  function loadStartingPoint() {
    const point = STARTING_POINTS.find((p) => p.id === source);
    if (!point) return;
    const read = formFromYaml(point.text);
    if (read.ok) replaceForm(read.form, `Loaded ${point.label}.`);
    else setNotice({ text: `${point.label} could not be read.`, error: true, problems: read.problems });
  }
  async function upload(file: File | undefined) {
    if (!file) return;
    let text: string;
    try {
      text = await file.text();
    } catch {
      setNotice({ text: `${file.name} could not be read.`, error: true });
      return;
    }
    const read = formFromYaml(text);
    if (read.ok) replaceForm(read.form, `Loaded ${file.name}.`);
    else
      setNotice({
        text: `${file.name} is not YAML or JSON the Builder can read:`,
        error: true,
        problems: read.problems,
      });
  }
  const setValue = (id: string, value: string) => setForm((f) => ({ ...f, values: { ...f.values, [id]: value } }));
  const setCapabilities = (capabilities: CapabilityForm[]) => setForm((f) => ({ ...f, capabilities }));
  const setFallbacks = (fallbacks: string[]) => setForm((f) => ({ ...f, fallbacks }));

  const problems = check.issues.length;
  const status =
    check.status === "checking"
      ? "Checking…"
      : check.status === "valid"
        ? "Valid: the gateway can deploy this manifest."
        : check.status === "invalid"
          ? `${problems} problem${problems === 1 ? "" : "s"} to fix.`
          : `Validation is unavailable: ${check.message}`;

  return (
    <div class="builder">
      <div class="builder-toolbar">
        <div class="builder-toolbar__start">
          <label for="builder-source">Start from</label>
          <div class="builder-inline">
            <select id="builder-source" value={source} onChange={(e) => setSource(e.currentTarget.value)}>
              {STARTING_POINTS.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                </option>
              ))}
            </select>
            <button type="button" class="button button--quiet" onClick={loadStartingPoint}>
              Load
            </button>
          </div>
        </div>
        <label class="button button--quiet builder-upload">
          Upload YAML or JSON
          <input
            type="file"
            accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"
            class="builder-sr-only"
            onChange={(e) => (void upload(e.currentTarget.files?.[0]), (e.currentTarget.value = ""))}
          />
        </label>
        <button
          type="button"
          class="button"
          disabled={yaml === undefined}
          onClick={() => yaml !== undefined && downloadText(yaml, fileName)}
        >
          Download {fileName}
        </button>
        <DeployInWizard yaml={yaml} fileName={fileName} />
        <p role="status" class={`builder-status builder-status--${check.status}`}>
          {status}
          {check.status === "failed" ? (
            <button type="button" class="button button--quiet" onClick={() => setRetry((n) => n + 1)}>
              Retry
            </button>
          ) : null}
        </p>
      </div>
      {notice ? (
        <div
          class={notice.error ? "builder-notice builder-notice--error" : "builder-notice"}
          role={notice.error ? "alert" : "status"}
        >
          <span>{notice.text}</span>
          {notice.problems ? (
            <ul>
              {notice.problems.map((p, n) => (
                <li key={n}>
                  {p.line ? <strong>Line {p.line}: </strong> : null}
                  {p.message}
                </li>
              ))}
            </ul>
          ) : null}
          {notice.undo ? (
            <button
              type="button"
              class="button button--quiet"
              onClick={() => (notice.undo && setForm(notice.undo), setNotice({ text: "Undone." }))}
            >
              Undo
            </button>
          ) : null}
          <button
            type="button"
            class="button button--quiet"
            aria-label="Dismiss the message"
            onClick={() => setNotice(undefined)}
          >
            Dismiss
          </button>
        </div>
      ) : null}
      {generated.error ? (
        <p class="error" role="alert">
          The YAML could not be generated: {generated.error}
        </p>
      ) : null}
      <div class="builder-layout">
        <form class="builder-form" aria-label="Manifest" onSubmit={(e) => e.preventDefault()}>
          {SECTIONS.map((s) => (
            <FormSection key={s.id} id={s.id} problems={sectionProblems(s.id)}>
              {s.id === "capabilities" ? (
                <CapabilitiesEditor
                  capabilities={form.capabilities}
                  onChange={setCapabilities}
                  issues={placed.byField}
                />
              ) : (
                <ScalarFields
                  section={s.id}
                  values={form.values}
                  onValue={setValue}
                  issues={placed.byField}
                  lists={{ provider: "builder-providers" }}
                />
              )}
              {s.id === "resilience" ? (
                <FallbacksEditor fallbacks={form.fallbacks} onChange={setFallbacks} issues={placed.byField} />
              ) : null}
            </FormSection>
          ))}
          <datalist id="builder-providers">
            {providers.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
        </form>
        <div class="builder-side">
          <YamlPanel
            yaml={yaml ?? ""}
            issues={check.issues}
            unplaced={placed.unplaced}
            onApply={(next) => replaceForm(next, "Applied the edited YAML.")}
          />
        </div>
      </div>
      <SimulatorPanel
        manifest={check.status === "valid" ? check.manifest : undefined}
        manifestYaml={check.status === "valid" ? check.yaml : undefined}
        currentYaml={yaml}
        unavailableReason={
          check.status === "checking"
            ? ""
            : check.status === "failed"
              ? "The manifest could not be checked, so it cannot be simulated."
              : "The simulator runs the validated manifest: fix the problems above first."
        }
      />
    </div>
  );
}
