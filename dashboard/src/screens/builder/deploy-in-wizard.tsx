/**
 * The Builder's "Deploy in Wizard": hands the manifest the form produces to the Upload Wizard (through the tab's
 * sessionStorage, see handoff.ts) and opens it, where it is checked, diffed against the version being served and
 * deployed as a hosted agent. Offered whenever the form produces a manifest (the Wizard shows its problems).
 */
import { useState } from "preact/hooks";
import { offerManifest, tabStorage } from "../../handoff";
import { navigate } from "../../router";

/** Props of {@link DeployInWizard}. */
export interface DeployInWizardProps {
  /** The manifest, or undefined while it is invalid. */
  yaml: string | undefined;
  fileName: string;
}

/** The button. */
export function DeployInWizard({ yaml, fileName }: DeployInWizardProps) {
  const [failed, setFailed] = useState(false);
  function handOver() {
    const storage = tabStorage();
    if (yaml !== undefined && storage && offerManifest(storage, { text: yaml, fileName })) navigate("wizard");
    else setFailed(true);
  }
  return (
    <>
      <button type="button" class="button button--quiet" disabled={yaml === undefined} onClick={handOver}>
        Deploy in Wizard
      </button>
      {failed ? (
        <span class="error" role="alert">
          This browser refused to hand the manifest over: download it and upload it in the Wizard.
        </span>
      ) : null}
    </>
  );
}
