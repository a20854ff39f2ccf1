/** Clinic: how the agents are doing — health, errors, latency, breakers, the request log. Placeholder. */
import { EmptyState } from "../../components/empty-state";
import { ScreenHeader } from "../../components/screen-header";
import type { ScreenProps } from "../../screens";

export function ClinicScreen(_props: ScreenProps) {
  return (
    <>
      <ScreenHeader title="Clinic" description="How the agents are doing: health, error rates, latency, breakers and the request log." />
      <EmptyState title="No diagnosis yet">
        <p>Agent health and the request log will appear here. This screen is not built yet.</p>
      </EmptyState>
    </>
  );
}
