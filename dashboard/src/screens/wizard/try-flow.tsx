/**
 * The Wizard's try-it steps for an agent deployed as a Worker (its manifest's name is one the gateway fronts):
 * capability → parameters (a form generated from the capability's input schema) → review → run through the gateway
 * (streamed) → the result with its request id and logged timeline.
 */
import { useState } from "preact/hooks";
import { capabilitiesOf } from "../../../../workers/shared/agents";
import { type AgentSummary, type ApiResult, api } from "../../api";
import { FieldInput } from "./field-input";
import { LoggedTimeline } from "./logged-timeline";
import type { LoadedManifest } from "./manifest-step";
import { fieldsOf, toParameters } from "./schema-model";
import { Stepper, useStepFocus } from "./stepper";

type Step = "manifest" | "capability" | "parameters" | "review" | "result";
const STEPS: { id: Step; label: string }[] = [
  { id: "manifest", label: "Manifest" },
  { id: "capability", label: "Capability" },
  { id: "parameters", label: "Parameters" },
  { id: "review", label: "Review" },
  { id: "result", label: "Result" },
];

/** Props of {@link TryFlow}. */
export interface TryFlowProps {
  loaded: LoadedManifest;
  /** The agents the gateway fronts (`GET /agents`), when known. */
  deployed: AgentSummary[] | undefined;
  jaegerUiUrl: string | null;
  onAnotherManifest: () => void;
}

/** The steps after the manifest. */
export function TryFlow({ loaded, deployed, jaegerUiUrl, onAnotherManifest }: TryFlowProps) {
  const [step, setStep] = useState<Step>("capability");
  const [capability, setCapability] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [run, setRun] = useState<{ requestId: string; result: ApiResult<unknown> } | undefined>();
  const [running, setRunning] = useState(false);
  // Text pieces of a streamed answer, shown as they arrive.
  const [live, setLive] = useState("");

  useStepFocus(step);

  const agentName = loaded.manifest.metadata.name;
  const caps = capabilitiesOf(loaded.manifest);
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

  return (
    <>
      <Stepper steps={STEPS} current={step} />
      {step === "capability" ? (
        <section class="panel" aria-labelledby="step-capability">
          <h2 id="step-capability" class="wizard-step-heading" tabIndex={-1}>
            2. Capability of {agentName}
          </h2>
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
            <button type="button" class="button button--quiet" onClick={onAnotherManifest}>
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
          <h2 id="step-parameters" class="wizard-step-heading" tabIndex={-1}>
            3. Parameters of {capability}
          </h2>
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
          <h2 id="step-review" class="wizard-step-heading" tabIndex={-1}>
            4. Review
          </h2>
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
          <h2 id="step-result" class="wizard-step-heading" tabIndex={-1}>
            5. Result
          </h2>
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
          <LoggedTimeline requestId={run.requestId} jaegerUiUrl={jaegerUiUrl} />
          <div class="wizard-actions">
            <button type="button" class="button button--quiet" onClick={() => setStep("parameters")}>
              Run again
            </button>
            <button type="button" class="button button--quiet" onClick={onAnotherManifest}>
              Another manifest
            </button>
          </div>
        </section>
      ) : null}
    </>
  );
}
