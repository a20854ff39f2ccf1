/**
 * The Wizard's list of steps (the current one marked with `aria-current="step"`), and the focus rule that goes with
 * it: when the step changes, focus moves to the new step's heading (`.wizard-step-heading`, `tabIndex={-1}`), so a
 * keyboard or screen-reader user lands on what just appeared rather than on a button that went away.
 */
import { useEffect, useRef } from "preact/hooks";

/** One step of a {@link Stepper}. */
export interface StepDef {
  id: string;
  label: string;
}

/** The steps, numbered, the current one marked. */
export function Stepper({ steps, current }: { steps: readonly StepDef[]; current: string }) {
  const index = steps.findIndex((s) => s.id === current);
  return (
    <ol class="stepper" aria-label="Steps">
      {steps.map((s, i) => (
        <li
          key={s.id}
          class={i === index ? "stepper__current" : i < index ? "stepper__done" : ""}
          aria-current={i === index ? "step" : undefined}
        >
          {i + 1}. {s.label}
        </li>
      ))}
    </ol>
  );
}

/** Moves focus to the shown step's heading whenever `step` changes (not on the first render). */
export function useStepFocus(step: string): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>(".wizard-step-heading")?.focus();
  }, [step]);
}
