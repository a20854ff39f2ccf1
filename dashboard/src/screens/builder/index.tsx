/** Builder: compose and edit an agent's capabilities, limits and fallbacks. Placeholder. */
import { EmptyState } from "../../components/empty-state";
import { ScreenHeader } from "../../components/screen-header";
import type { ScreenProps } from "../../screens";

export function BuilderScreen(_props: ScreenProps) {
  return (
    <>
      <ScreenHeader title="Builder" description="Compose an agent: capabilities, limits, resilience and fallbacks." />
      <EmptyState title="No agent open">
        <p>Pick an agent to edit, or start a new one. This screen is not built yet.</p>
      </EmptyState>
    </>
  );
}
