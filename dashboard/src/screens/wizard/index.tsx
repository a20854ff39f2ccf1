/** Upload Wizard: bring an agent in from its OSSA manifest. Placeholder. */
import { EmptyState } from "../../components/empty-state";
import { ScreenHeader } from "../../components/screen-header";
import type { ScreenProps } from "../../screens";

export function WizardScreen(_props: ScreenProps) {
  return (
    <>
      <ScreenHeader title="Upload Wizard" description="Bring an agent in from its OSSA manifest, step by step." />
      <EmptyState title="No upload in progress">
        <p>Start by choosing an OSSA manifest (<code>.ossa.yaml</code>). This screen is not built yet.</p>
      </EmptyState>
    </>
  );
}
