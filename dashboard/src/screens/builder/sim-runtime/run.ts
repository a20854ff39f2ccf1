/**
 * Runs one scenario through the resilience simulator for a manifest and
 * returns what the panel draws. This module (and worker.ts) import the
 * simulator, whose types reach the gateway's Workers types, so
 * dashboard/tsconfig.json leaves `sim-runtime/` out and
 * test/builder/tsconfig.json type-checks it; the page reaches it only through
 * the Web Worker (sim-client.ts).
 */
import type { ZaharaAgentManifest } from "../../../../../workers/shared/manifest";
import { type SimulationInput, type SimulationResult, fromManifest, simulate } from "../../../simulator";
import type { Scenario } from "../scenario";
import { type InputLike, type ResultLike, type SimulationPlot, describeSettings, toPlot } from "../sim-plot";

/**
 * The simulator's input for `manifest` under `scenario` (the gateway's
 * default timeout; no caller timeout). Without `scenario.tokenBudget` the
 * agent's daily token budget is left out, as if the day had tokens to spare.
 */
export function inputFor(manifest: ZaharaAgentManifest, scenario: Scenario): SimulationInput {
  const input = fromManifest(manifest, { traffic: scenario.traffic, faults: scenario.faults, seed: scenario.seed });
  if (scenario.tokenBudget) return input;
  const { maxTokensPerDay: _ignored, ...guard } = input.guard;
  return { ...input, guard };
}

/** Simulates `scenario` against `manifest`'s resolved policies and returns the plot. */
export async function runScenario(manifest: ZaharaAgentManifest, scenario: Scenario): Promise<SimulationPlot> {
  const input = inputFor(manifest, scenario);
  const result: SimulationResult = await simulate(input);
  // The assignments check that the panel's structural types match the simulator's.
  const settingsOf: InputLike = input;
  const plotOf: ResultLike = result;
  return toPlot(plotOf, describeSettings(settingsOf));
}
