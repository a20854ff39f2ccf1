/**
 * The simulation Web Worker: a run of a few thousand requests takes a few
 * hundred milliseconds, so it runs here, off the page's main thread. One
 * message in ({@link RunRequest}), one out ({@link RunResponse}).
 */
import type { RunRequest, RunResponse } from "../sim-plot";
import { runScenario } from "./run";

/** The little of a dedicated worker's global scope this file uses (typed here: this file is checked without the DOM's worker lib). */
interface WorkerScope {
  onmessage: ((event: { data: RunRequest }) => void) | null;
  postMessage(message: RunResponse): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (event) => {
  runScenario(event.data.manifest, event.data.scenario).then(
    (plot) => scope.postMessage({ ok: true, plot }),
    (error: unknown) =>
      scope.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) }),
  );
};
