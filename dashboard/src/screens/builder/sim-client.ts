/**
 * The page's side of the simulation: each run starts a Web Worker
 * (sim-runtime/worker.ts, bundled by Vite from the `new URL(…)` below), sends
 * it the manifest and the scenario, and ends it when the answer comes, the
 * run is cancelled, or it takes too long.
 */
import type { RunRequest, RunResponse, SimulationPlot } from "./sim-plot";

/** A run that takes longer than this is abandoned (5 000 requests take well under a second). */
export const RUN_TIMEOUT_MS = 30_000;

/** Runs `request` in a new worker; rejects with a readable message when it fails, times out or is aborted. */
export function runInWorker(request: RunRequest, signal?: AbortSignal): Promise<SimulationPlot> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./sim-runtime/worker.ts", import.meta.url), {
        type: "module",
        name: "zahara-simulator",
      });
    } catch (error) {
      reject(new Error(`The simulator could not start: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    const done = (settle: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      worker.terminate();
      settle();
    };
    const onAbort = () => done(() => reject(new DOMException("The run was cancelled", "AbortError")));
    const timer = setTimeout(
      () => done(() => reject(new Error(`The simulation took longer than ${RUN_TIMEOUT_MS / 1000} s and was stopped`))),
      RUN_TIMEOUT_MS,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.onmessage = (event: MessageEvent<RunResponse>) => {
      const res = event.data;
      done(() => (res.ok ? resolve(res.plot) : reject(new Error(res.message))));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      done(() => reject(new Error(`The simulator failed: ${event.message || "the worker could not load"}`)));
    };
    worker.postMessage(request);
  });
}
