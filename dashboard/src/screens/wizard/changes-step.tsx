/**
 * Wizard deploy step 2: what deploying this manifest would change. Loads the hosted agent's served version (`GET
 * /v1/agents/:name/versions`, then that version's source as uploaded), shows the line diff against it (none for a
 * new agent), and deploys: `PUT /v1/agents/:name` with `If-Match` of the version diffed against (`If-None-Match: *`
 * for a new one), so a version someone else deployed meanwhile is refused (412) and shown here to review, rather
 * than overwritten.
 */
import { useEffect, useMemo } from "preact/hooks";
import { hostedApi } from "../../api-hosted";
import { DiffView } from "./diff-view";
import { diffLines, summarize, withContext } from "./line-diff";
import { type Draft, type WizardEvent, type WizardState, deployCondition } from "./wizard-state";

/** Props of {@link ChangesStep}. */
export interface ChangesStepProps {
  state: WizardState;
  draft: Draft;
  dispatch: (event: WizardEvent) => void;
}

/** Loads what `draft` is compared with, for the base load numbered `load`. */
async function loadBase(name: string, load: number, dispatch: (event: WizardEvent) => void): Promise<void> {
  const versions = await hostedApi.versions(name);
  if (!versions.ok) {
    if (versions.status === 404 && versions.error.code === "AGENT_NOT_FOUND")
      return dispatch({ type: "base-loaded", load, base: null });
    const message =
      versions.status === 404
        ? "This gateway has no hosted-agent API (GET /v1/agents/:name/versions answered 404)."
        : `The served version could not be read: ${versions.error.error} (${versions.error.code}).`;
    return dispatch({ type: "base-failed", load, message });
  }
  const source = await hostedApi.source(name, versions.data.current);
  if (!source.ok) {
    const message = `Version ${versions.data.current}'s manifest could not be read: ${source.error.error} (${source.error.code}).`;
    return dispatch({ type: "base-failed", load, message });
  }
  dispatch({ type: "base-loaded", load, base: { version: versions.data.current, source: source.data.source } });
}

/** The step. */
export function ChangesStep({ state, draft, dispatch }: ChangesStepProps) {
  const { base, load, deploying, notice } = state;
  useEffect(() => {
    if (base.status === "loading") void loadBase(draft.name, load, dispatch);
  }, [load]);
  const diff = useMemo(
    () => (base.status === "current" ? diffLines(base.source, draft.text) : undefined),
    [base, draft.text],
  );
  const summary = diff ? summarize(diff) : undefined;
  const unchanged = summary !== undefined && summary.added === 0 && summary.removed === 0;

  async function deploy() {
    dispatch({ type: "deploy-started" });
    const res = await hostedApi.deploy(draft.name, draft.text, deployCondition(base));
    if (res.ok) {
      const { agent, created, warnings } = res.data;
      dispatch({ type: "deploy-succeeded", version: agent.version, created, warnings: warnings ?? [] });
    } else {
      const { error, code, details } = res.error;
      dispatch({ type: "deploy-failed", status: res.status, code, message: error, ...(details ? { details } : {}) });
    }
  }

  return (
    <section class="panel" aria-labelledby="step-changes">
      <h2 id="step-changes" class="wizard-step-heading" tabIndex={-1}>
        2. Changes to {draft.name}
      </h2>
      <p class="muted">{draft.fileName} is valid. Deploying it makes it a hosted agent the gateway serves at once.</p>
      {notice ? (
        <p class={notice.kind === "conflict" ? "notice" : "error"} role="alert" data-testid="deploy-notice">
          {notice.text}
        </p>
      ) : null}
      {base.status === "loading" ? (
        <p class="muted" aria-busy="true">
          Reading the version being served…
        </p>
      ) : null}
      {base.status === "failed" ? (
        <div role="alert">
          <p class="error">{base.message}</p>
          <button type="button" class="button button--quiet" onClick={() => dispatch({ type: "reload-base" })}>
            Retry
          </button>
        </div>
      ) : null}
      {base.status === "new" ? (
        <p role="status" data-testid="diff-summary">
          No hosted agent is named {draft.name} yet: deploying creates it as version 1.
        </p>
      ) : null}
      {base.status === "current" && summary && diff ? (
        <>
          <p role="status" data-testid="diff-summary">
            {unchanged
              ? `No changes from version ${base.version}, the version being served.`
              : `Against version ${base.version}, the version being served: ${summary.added} line${summary.added === 1 ? "" : "s"} added, ${summary.removed} removed.`}
          </p>
          {unchanged ? null : (
            <DiffView rows={withContext(diff)} caption={`Version ${base.version} → ${draft.fileName}`} />
          )}
        </>
      ) : null}
      <div class="wizard-actions">
        <button type="button" class="button button--quiet" onClick={() => dispatch({ type: "go", step: "manifest" })}>
          Back
        </button>
        {unchanged ? (
          <button type="button" class="button" onClick={() => dispatch({ type: "test-served" })}>
            Test version {base.status === "current" ? base.version : ""} as served
          </button>
        ) : null}
        <button
          type="button"
          class={unchanged ? "button button--quiet" : "button"}
          disabled={deploying || base.status === "loading"}
          onClick={() => void deploy()}
        >
          {deploying
            ? "Deploying…"
            : base.status === "current"
              ? `Deploy over version ${base.version}`
              : base.status === "new"
                ? "Deploy"
                : "Deploy without checking for other changes"}
        </button>
      </div>
    </section>
  );
}
