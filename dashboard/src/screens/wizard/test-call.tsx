/**
 * Wizard deploy steps 3 and 4: a test call of the agent just deployed. Pick one of the manifest's capabilities,
 * write its parameters as JSON (started from the capability's input schema when it is simple), and call it through
 * the gateway (`POST /agents/:name/execute`, as any caller would); then the answer or the error, with the request id
 * and its logged timeline.
 */
import { useState } from "preact/hooks";
import { capabilitiesOf } from "../../../../workers/shared/agents";
import type { ZaharaAgentManifest } from "../../../../workers/shared/manifest";
import { type ApiResult, api } from "../../api";
import { LoggedTimeline } from "./logged-timeline";
import { type Deployed, type WizardEvent, parseParameters, sampleParameters } from "./wizard-state";

/** Props of {@link TestCall}. */
export interface TestCallProps {
  name: string;
  manifest: ZaharaAgentManifest;
  deployed: Deployed;
  /** Which of the two steps is shown. */
  step: "test" | "result";
  dispatch: (event: WizardEvent) => void;
  jaegerUiUrl: string | null;
}

/** The steps. */
export function TestCall({ name, manifest, deployed, step, dispatch, jaegerUiUrl }: TestCallProps) {
  const caps = capabilitiesOf(manifest);
  const [capability, setCapability] = useState(caps.length === 1 ? (caps[0]?.name ?? "") : "");
  const [params, setParams] = useState(() => sampleParameters(caps.length === 1 ? caps[0]?.input_schema : undefined));
  const [paramsError, setParamsError] = useState<string | undefined>();
  const [running, setRunning] = useState(false);
  const [run, setRun] = useState<{ requestId: string; result: ApiResult<unknown> } | undefined>();

  function choose(next: string) {
    setCapability(next);
    setParams(sampleParameters(caps.find((c) => c.name === next)?.input_schema));
    setParamsError(undefined);
  }

  async function call() {
    const parsed = parseParameters(params);
    if (!parsed.ok) {
      setParamsError(parsed.error);
      document.getElementById("test-parameters")?.focus();
      return;
    }
    setParamsError(undefined);
    setRunning(true);
    const requestId = `wizard-${crypto.randomUUID()}`;
    const path = `/agents/${encodeURIComponent(name)}/execute` as const;
    const result = await api.gateway.post(path, { task: capability, parameters: parsed.parameters }, { requestId });
    setRunning(false);
    setRun({ requestId, result });
    dispatch({ type: "tested" });
  }

  if (step === "result" && run) {
    const { result } = run;
    return (
      <section class="panel" aria-labelledby="step-tested">
        <h2 id="step-tested" class="wizard-step-heading" tabIndex={-1}>
          4. Result of {capability}
        </h2>
        {result.ok ? (
          <p role="status" class="ok">
            Succeeded: version {deployed.version} of {name} answered.
          </p>
        ) : (
          <p role="alert" class="error">
            {result.error.error} ({result.error.code}, HTTP {result.status})
          </p>
        )}
        <p>
          Request id: <code data-testid="request-id">{run.requestId}</code>
        </p>
        <pre class="code" data-testid="test-answer">
          {JSON.stringify(result.ok ? result.data : result.error, null, 2)}
        </pre>
        <LoggedTimeline requestId={run.requestId} jaegerUiUrl={jaegerUiUrl} />
        <div class="wizard-actions">
          <button type="button" class="button button--quiet" onClick={() => dispatch({ type: "go", step: "test" })}>
            Call again
          </button>
          <button type="button" class="button button--quiet" onClick={() => dispatch({ type: "go", step: "manifest" })}>
            Edit the manifest
          </button>
        </div>
      </section>
    );
  }

  return (
    <section class="panel" aria-labelledby="step-test">
      <h2 id="step-test" class="wizard-step-heading" tabIndex={-1}>
        3. Test call of {name}
      </h2>
      {deployed.unchanged ? (
        <p role="status">Version {deployed.version} is being served; nothing was deployed.</p>
      ) : (
        <p role="status" class="ok" data-testid="deployed-version">
          {deployed.created ? "Created" : "Deployed"} version {deployed.version} of {name}: the gateway serves it now.
        </p>
      )}
      {deployed.warnings.length > 0 ? (
        <div class="notice">
          <p>The gateway accepted the manifest with {deployed.warnings.length} warning(s):</p>
          <ul>
            {deployed.warnings.map((w, n) => (
              <li key={n}>
                {w.line ? <strong>Line {w.line}: </strong> : null}
                {w.path ? <code>{w.path}</code> : null} {w.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <fieldset>
        <legend>Capability</legend>
        {caps.map((c) => (
          <label key={c.name} class="choice">
            <input
              type="radio"
              name="test-capability"
              value={c.name}
              checked={capability === c.name}
              onChange={() => choose(c.name)}
            />
            <strong>{c.name}</strong> <span class="muted">{c.description}</span>
          </label>
        ))}
      </fieldset>
      <div class="field">
        <label for="test-parameters">Parameters (JSON)</label>
        <textarea
          id="test-parameters"
          class="code"
          rows={8}
          spellcheck={false}
          value={params}
          aria-invalid={paramsError ? true : undefined}
          aria-describedby={paramsError ? "test-parameters-error" : undefined}
          onInput={(e) => setParams(e.currentTarget.value)}
        />
        {paramsError ? (
          <p id="test-parameters-error" class="error">
            {paramsError}
          </p>
        ) : null}
      </div>
      <div class="wizard-actions">
        <button type="button" class="button button--quiet" onClick={() => dispatch({ type: "go", step: "changes" })}>
          Back to the changes
        </button>
        <button type="button" class="button" disabled={!capability || running} onClick={() => void call()}>
          {running ? "Calling…" : "Call through the gateway"}
        </button>
      </div>
    </section>
  );
}
