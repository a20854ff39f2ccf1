/**
 * The screens, in navigation order. To add one: create
 * `screens/<id>/index.tsx` exporting a component that takes {@link ScreenProps},
 * and add an entry here; the header nav and the `#/<id>` route follow.
 */
import type { ComponentType } from "preact";
import type { SessionInfo } from "./api";
import { BuilderScreen } from "./screens/builder";
import { ClinicScreen } from "./screens/clinic";
import { WizardScreen } from "./screens/wizard";

/** What every screen receives. */
export interface ScreenProps {
  session: SessionInfo;
  /** Route segments after the screen id (`#/clinic/abc` → `["abc"]`). */
  params: string[];
}

/** A screen of the dashboard. */
export interface ScreenDef {
  /** Route id: `#/<id>`. */
  id: string;
  /** Label in the header nav. */
  label: string;
  component: ComponentType<ScreenProps>;
}

export const SCREENS: readonly ScreenDef[] = [
  { id: "wizard", label: "Upload Wizard", component: WizardScreen },
  { id: "builder", label: "Builder", component: BuilderScreen },
  { id: "clinic", label: "Clinic", component: ClinicScreen },
];

/** The screen shown for an empty or unknown route. */
export const DEFAULT_SCREEN = "clinic";
