/**
 * Upload Wizard: manifest → capability → parameters (a form generated from
 * the capability's input schema) → review → run through the gateway → the
 * result with its request id and timeline.
 */
import { useEffect, useState } from "preact/hooks";
import { capabilitiesOf } from "../../../../workers/shared/agents";
import { type AgentSummary, type ApiResult, api } from "../../api";
import { ScreenHeader } from "../../components/screen-header";
import type { ScreenProps } from "../../screens";
import { RequestDetail } from "../clinic/request-detail";
import "./wizard.css";
import { type LoadedManifest, ManifestStep } from "./manifest-step";
import { type Field, fieldsOf, toParameters } from "./schema-model";

type Step = "manifest" | "capability" | "parameters" | "review" | "result";
const STEPS: { id: Step; label: string }[] = [
  { id: "manifest", label: "Manifest" },
  { id: "capability", label: "Capability" },
  { id: "parameters", label: "Parameters" },
  { id: "review", label: "Review" },
  { id: "result", label: "Result" },
];

export function WizardScreen({ session }: ScreenProps) {
  const [step, setStep] = useState<Step>("manifest");
  const [loaded, setLoaded] = useState<LoadedManifest | undefined>();
  const [capability, setCapability] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [deployed, setDeployed] = useState<AgentSummary[] | undefined>();
  const [run, setRun] = useState<{ requestId: string; result: ApiResult<unknown> } | undefined>();
  const [running, setRunning] = useState(false);
  // Text pieces of a streamed answer, shown as they arrive.
  const [live, setLive] = useState("");

  useEffect(() => {
    void api.agents().then((r) => r.ok && setDeployed(r.data.agents));
  }, []);

  const agentName = loaded?.manifest.metadata.name ?? "";
  const caps = loaded ? capabilitiesOf(loaded.manifest) : [];
  const cap = caps.find((c) => c.name === capability);
  const form = fieldsOf(cap?.input_schema);
  const isDeployed = deployed?.some((a) => a.name === agentName) ?? false;
  const parsed = toParameters(form.fields, values, form.free);

  async function execute() {
    if (!parsed.ok) return;
    setRunning(true);
    const requestId = `wizard-${crypto.randomUUID()}`;
    setLive("");
    let text = "";
    const path = `/agents/${encodeURIComponent(agentName)}/execute` as const;
    const result = await api.gateway.stream(
      path,
      { task: capability, parameters: parsed.parameters },
      (piece) => {
        if ("text" in piece) setLive((text += piece.text));
      },
      { requestId },
    );
    setRunning(false);
    setRun({ requestId, result });
    setStep("result");
  }

  const index = STEPS.findIndex((s) => s.id === step);
  return (
    <>
      <ScreenHeader
        title="Upload Wizard"
        description="Check a manifest, pick a capability, fill its parameters and run it through the gateway."
      />
      <ol class="stepper" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li
            key={s.id}
            class={i === index ? "stepper__current" : i < index ? "stepper__done" : ""}
            aria-current={i === index ? "step" : undefined}
          >
            {i + 1}. {s.label}
          </li>
        ))}
      </ol>
      {step === "manifest" ? (
        <ManifestStep onValid={(l) => (setLoaded(l), setCapability(""), setValues({}), setStep("capability"))} />
      ) : null}
      {step === "capability" && loaded ? (
        <section class="panel" aria-labelledby="step-capability">
          <h2 id="step-capability">2. Capability of {agentName}</h2>
          <p class="muted">{loaded.fileName} is valid.</p>
          {deployed && !isDeployed ? (
            <p class="notice" role="status">
              The gateway does not front an agent named {agentName}, so it cannot be run yet. Deploy it first (see the
              README's “Adding an agent”).
            </p>
          ) : null}
          <fieldset>
            <legend>Choose one</legend>
            {caps.map((c) => (
              <label key={c.name} class="choice">
                <input
                  type="radio"
                  name="capability"
                  value={c.name}
                  checked={capability === c.name}
                  onChange={() => setCapability(c.name)}
                />
                <strong>{c.name}</strong> <span class="muted">{c.description}</span>
              </label>
            ))}
          </fieldset>
          <div class="wizard-actions">
            <button type="button" class="button button--quiet" onClick={() => setStep("manifest")}>
              Back
            </button>
            <button type="button" class="button" disabled={!capability} onClick={() => setStep("parameters")}>
              Next
            </button>
          </div>
        </section>
      ) : null}
      {step === "parameters" && cap ? (
        <section class="panel" aria-labelledby="step-parameters">
          <h2 id="step-parameters">3. Parameters of {capability}</h2>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (parsed.ok) {
                setErrors({});
                setStep("review");
              } else {
                setErrors(parsed.errors);
              }
            }}
          >
            {form.fields.map((f) => (
              <FieldInput
                key={f.name}
                field={f}
                value={values[f.name] ?? f.initial}
                error={errors[f.name]}
                onChange={(v) => setValues({ ...values, [f.name]: v })}
              />
            ))}
            <div class="wizard-actions">
              <button type="button" class="button button--quiet" onClick={() => setStep("capability")}>
                Back
              </button>
              <button type="submit" class="button">
                Review
              </button>
            </div>
          </form>
        </section>
      ) : null}
      {step === "review" && parsed.ok ? (
        <section class="panel" aria-labelledby="step-review">
          <h2 id="step-review">4. Review</h2>
          <dl class="facts">
            <div>
              <dt>Agent</dt>
              <dd>{agentName}</dd>
            </div>
            <div>
              <dt>Capability</dt>
              <dd>{capability}</dd>
            </div>
          </dl>
          <pre class="code">{JSON.stringify({ task: capability, parameters: parsed.parameters }, null, 2)}</pre>
          <div class="wizard-actions">
            <button type="button" class="button button--quiet" onClick={() => setStep("parameters")}>
              Back
            </button>
            <button type="button" class="button" disabled={running || !isDeployed} onClick={() => void execute()}>
              {running ? "Running…" : "Run through the gateway"}
            </button>
          </div>
          {running && live ? (
            <pre class="code" aria-live="polite" data-testid="live-output">
              {live}
            </pre>
          ) : null}
        </section>
      ) : null}
      {step === "result" && run ? (
        <section class="panel" aria-labelledby="step-result">
          <h2 id="step-result">5. Result</h2>
          {run.result.ok ? (
            <p role="status" class="ok">
              Succeeded.
            </p>
          ) : (
            <p role="alert" class="error">
              {run.result.error.error} ({run.result.error.code}
              {run.result.status >= 400 ? `, HTTP ${run.result.status}` : ", during the stream"})
            </p>
          )}
          {live ? (
            <>
              <h3>Streamed text</h3>
              <pre class="code" data-testid="streamed-text">
                {live}
              </pre>
            </>
          ) : null}
          <p>
            Request id: <code data-testid="request-id">{run.requestId}</code>
          </p>
          <pre class="code">{JSON.stringify(run.result.ok ? run.result.data : run.result.error, null, 2)}</pre>
          <LoggedTimeline requestId={run.requestId} jaegerUiUrl={session.jaeger_ui_url} />
          <div class="wizard-actions">
            <button type="button" class="button button--quiet" onClick={() => setStep("parameters")}>
              Run again
            </button>
            <button type="button" class="button button--quiet" onClick={() => setStep("manifest")}>
              Another manifest
            </button>
          </div>
        </section>
      ) : null}
    </>
  );
}

function FieldInput({
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

/** The run's request-log entry (written just after the response): waits for it, then shows its timeline. */
function LoggedTimeline({ requestId, jaegerUiUrl }: { requestId: string; jaegerUiUrl: string | null }) {
  const [ready, setReady] = useState<boolean | undefined>();
  useEffect(() => {
    let stop = false;
    void (async () => {
      for (let i = 0; i < 20 && !stop; i++) {
        const r = await api.gateway.get(`/v1/requests/${encodeURIComponent(requestId)}`);
        if (r.ok) return setReady(true);
        await new Promise((res) => setTimeout(res, 300));
      }
      if (!stop) setReady(false);
    })();
    return () => void (stop = true);
  }, [requestId]);
  if (ready === undefined) return <p class="muted">Waiting for the request log…</p>;
  if (!ready)
    return <p class="muted">The request log has no entry for this request yet; find it later in the Clinic.</p>;
  return <RequestDetail requestId={requestId} jaegerUiUrl={jaegerUiUrl} embedded />;
}
