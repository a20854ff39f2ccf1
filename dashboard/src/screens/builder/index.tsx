/**
 * Builder: visual configuration of an agent manifest — metadata, branding,
 * capabilities with their schemas, LLM, constraints and resilience — with
 * live validation, a YAML preview that round-trips, download, and the
 * resilience simulator. The Builder itself (builder-app.tsx, with the YAML
 * library) loads when the screen is first opened, so the dashboard's main
 * bundle stays small.
 */
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ScreenHeader } from "../../components/screen-header";
import type { ScreenProps } from "../../screens";
// The simulator plots reuse the Clinic's LineChart and its chart styles.
import "../clinic/clinic.css";
import "./builder.css";

type Loaded = { status: "loading" } | { status: "ready"; App: ComponentType } | { status: "error"; message: string };

export function BuilderScreen(_props: ScreenProps) {
  const [loaded, setLoaded] = useState<Loaded>({ status: "loading" });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setLoaded({ status: "loading" });
    import("./builder-app").then(
      (m) => live && setLoaded({ status: "ready", App: m.BuilderApp }),
      (error: unknown) =>
        live && setLoaded({ status: "error", message: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      live = false;
    };
  }, [attempt]);
  return (
    <>
      <ScreenHeader
        title="Builder"
        description="Configure an agent manifest — capabilities, LLM, limits and resilience — check it, download it, and simulate how it behaves under faults."
      />
      {loaded.status === "loading" ? (
        <p class="muted" aria-busy="true">
          Loading the Builder…
        </p>
      ) : null}
      {loaded.status === "error" ? (
        <div role="alert">
          <p class="error">The Builder could not load: {loaded.message}</p>
          <button type="button" class="button" onClick={() => setAttempt((n) => n + 1)}>
            Retry
          </button>
        </div>
      ) : null}
      {loaded.status === "ready" ? <loaded.App /> : null}
    </>
  );
}
