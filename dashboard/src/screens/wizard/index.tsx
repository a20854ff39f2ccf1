/**
 * Upload Wizard: a manifest (a file, an example, pasted, or handed over by the Builder's "Deploy in Wizard"),
 * checked in the browser with each error at its line. Then, for an agent deployed as a Worker, the try-it steps
 * (try-flow.tsx); for any other name, the hosted-agent deploy: the changes against the version being served,
 * deploy, a test call and its result (wizard-state.ts decides each step; the gateway's own problems with an upload
 * come back to the manifest at their lines).
 */
import { useEffect, useReducer, useRef, useState } from "preact/hooks";
import { type AgentSummary, api } from "../../api";
import { ScreenHeader } from "../../components/screen-header";
import { type ManifestHandoff, tabStorage, takeManifest } from "../../handoff";
import type { ScreenProps } from "../../screens";
import { ChangesStep } from "./changes-step";
import { type LoadedManifest, ManifestStep } from "./manifest-step";
import { Stepper, useStepFocus } from "./stepper";
import { TestCall } from "./test-call";
import { TryFlow } from "./try-flow";
import "./wizard.css";
import { INITIAL_STATE, wizardReducer } from "./wizard-state";

const DEPLOY_STEPS = [
  { id: "manifest", label: "Manifest" },
  { id: "changes", label: "Changes and deploy" },
  { id: "test", label: "Test call" },
  { id: "result", label: "Result" },
];

export function WizardScreen({ session }: ScreenProps) {
  const [handoff] = useState<ManifestHandoff | undefined>(() => {
    const storage = tabStorage();
    return storage ? takeManifest(storage) : undefined;
  });
  const [state, dispatch] = useReducer(wizardReducer, INITIAL_STATE);
  const [loaded, setLoaded] = useState<LoadedManifest | undefined>();
  const [agents, setAgents] = useState<AgentSummary[] | undefined>();
  // The agents the gateway fronts, read once: a manifest validated before they arrive waits for them.
  const agentsRead = useRef<Promise<AgentSummary[] | undefined> | undefined>(undefined);
  if (!agentsRead.current) agentsRead.current = api.agents().then((r) => (r.ok ? r.data.agents : undefined));
  useEffect(() => void agentsRead.current?.then(setAgents), []);
  useStepFocus(state.step);

  async function validated(l: LoadedManifest) {
    const known = await agentsRead.current;
    const name = l.manifest.metadata.name;
    // A Worker's agent is tried as it is served; any other name (or an unknown list) is deployed as a hosted agent.
    const compiled = known?.some((a) => a.name === name && a.hosted === undefined) ?? false;
    setLoaded(l);
    dispatch({ type: "validated", draft: { name, text: l.text, fileName: l.fileName }, compiled });
  }

  const draft = state.draft;
  const initial = draft
    ? { text: draft.text, fileName: draft.fileName }
    : handoff
      ? { ...handoff, check: true }
      : undefined;
  return (
    <>
      <ScreenHeader
        title="Upload Wizard"
        description="Check a manifest, deploy it as a hosted agent (reviewing what changes), and call it through the gateway."
      />
      {handoff && state.step === "manifest" && !draft ? (
        <p class="muted" role="status">
          The Builder's manifest ({handoff.fileName}) is loaded below.
        </p>
      ) : null}
      {state.step === "try" && loaded ? (
        <TryFlow
          loaded={loaded}
          deployed={agents}
          jaegerUiUrl={session.jaeger_ui_url}
          onAnotherManifest={() => dispatch({ type: "go", step: "manifest" })}
        />
      ) : (
        <Stepper steps={DEPLOY_STEPS} current={state.step} />
      )}
      {state.step === "manifest" ? (
        <ManifestStep
          key={`${state.load}-${state.serverIssues.length}`}
          onValid={(l) => void validated(l)}
          initial={initial}
          serverIssues={state.serverIssues}
          notice={state.notice?.text}
        />
      ) : null}
      {state.step === "changes" && draft ? <ChangesStep state={state} draft={draft} dispatch={dispatch} /> : null}
      {(state.step === "test" || state.step === "result") && draft && loaded && state.deployed ? (
        <TestCall
          name={draft.name}
          manifest={loaded.manifest}
          deployed={state.deployed}
          step={state.step}
          dispatch={dispatch}
          jaegerUiUrl={session.jaeger_ui_url}
        />
      ) : null}
    </>
  );
}
