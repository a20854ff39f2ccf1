/**
 * The resilience simulator panel: a fault pattern and traffic in, and what
 * callers would get under the manifest's breaker, retry and rate-limit
 * settings out — per-second outcomes, the load on the agent, the breaker's
 * state, and totals. The run uses the gateway's own executor and the guard's
 * own policies (dashboard/src/simulator), in a Web Worker.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { ZaharaAgentManifest } from "../../../../workers/shared/manifest";
import { LineChart } from "../clinic/line-chart";
import { BreakerBand, STATE_STYLE } from "./breaker-band";
import { DEFAULT_SCENARIO, MAX_SIM_REQUESTS, type ScenarioText, parseScenario } from "./scenario";
import { runInWorker } from "./sim-client";
import type { SimulationPlot } from "./sim-plot";

/** Props of {@link SimulatorPanel}. */
export interface SimulatorPanelProps {
  /** The validated manifest, or undefined while the form has problems (or is being checked). */
  manifest: ZaharaAgentManifest | undefined;
  /** The YAML `manifest` came from: a run remembers it, to say when the settings changed since. */
  manifestYaml: string | undefined;
  /** The form's YAML now. */
  currentYaml: string | undefined;
  /** Why there is no manifest to simulate ("" to say nothing, e.g. while it is being checked). */
  unavailableReason: string;
}

type RunState =
  | { status: "idle" }
  | { status: "running" }
  | { status: "done"; plot: SimulationPlot; yaml: string | undefined; ms: number }
  | { status: "error"; message: string };

const INPUTS: {
  key: Exclude<keyof ScenarioText, "outage" | "outageMode" | "tokenBudget">;
  label: string;
  unit?: string;
  group: "traffic" | "faults" | "outage" | "run";
}[] = [
  { key: "rps", label: "Requests per second", group: "traffic" },
  { key: "seconds", label: "Length", unit: "s", group: "traffic" },
  { key: "keys", label: "API keys", group: "traffic" },
  { key: "errorRatePct", label: "Error rate", unit: "%", group: "faults" },
  { key: "p50", label: "Latency p50", unit: "ms", group: "faults" },
  { key: "p95", label: "Latency p95", unit: "ms", group: "faults" },
  { key: "outageStart", label: "Outage from", unit: "s", group: "outage" },
  { key: "outageEnd", label: "Outage until", unit: "s", group: "outage" },
  { key: "seed", label: "Seed", group: "run" },
];

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const REASON: Record<string, string> = {
  circuit_open: "breaker open",
  rate_limited: "agent rate limit",
  key_rate_limited: "per-key rate limit",
  concurrency: "concurrency limit",
  token_budget: "daily token budget",
  key_token_budget: "key's token budget",
  retry_budget: "retry budget",
  deadline: "deadline",
};

/** The panel. */
export function SimulatorPanel({ manifest, manifestYaml, currentYaml, unavailableReason }: SimulatorPanelProps) {
  const [text, setText] = useState<ScenarioText>(DEFAULT_SCENARIO);
  const [run, setRun] = useState<RunState>({ status: "idle" });
  const abort = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => abort.current?.abort(), []);
  const parsed = parseScenario(text);
  const errors = parsed.ok ? {} : parsed.errors;

  async function start() {
    if (!parsed.ok || !manifest) return;
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setRun({ status: "running" });
    const started = performance.now();
    try {
      const plot = await runInWorker({ manifest, scenario: parsed.scenario }, controller.signal);
      setRun({ status: "done", plot, yaml: manifestYaml, ms: Math.round(performance.now() - started) });
    } catch (error) {
      if (controller.signal.aborted) return;
      setRun({ status: "error", message: error instanceof Error ? error.message : String(error) });
    }
  }
  function cancel() {
    abort.current?.abort();
    setRun({ status: "idle" });
  }

  const input = (i: (typeof INPUTS)[number]) => {
    const id = `builder-sim-${i.key}`;
    const error = errors[i.key];
    return (
      <div class="builder-field" key={i.key}>
        <label for={id}>
          {i.label}
          {i.unit ? <span class="muted"> ({i.unit})</span> : null}
        </label>
        <input
          id={id}
          type="text"
          inputMode="decimal"
          autoComplete="off"
          value={text[i.key]}
          disabled={i.group === "outage" && !text.outage}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? `${id}-problem` : undefined}
          onInput={(e) => setText({ ...text, [i.key]: e.currentTarget.value })}
        />
        {error ? (
          <p id={`${id}-problem`} class="builder-problems">
            {error}
          </p>
        ) : null}
      </div>
    );
  };

  const plot = run.status === "done" ? run.plot : undefined;
  const stale = run.status === "done" && run.yaml !== currentYaml;
  return (
    <section class="builder-panel" aria-labelledby="builder-sim-title">
      <h2 id="builder-sim-title">Resilience simulator</h2>
      <p class="muted">
        What callers would get from this agent under a fault pattern, with the breaker, retry, budget and rate-limit
        settings above — computed with the gateway's own executor and the guard's own policies on a virtual clock (the
        gateway's default 10 s timeout; each request on one of the API keys in turn; no fallbacks).
      </p>
      <div class="builder-sim-inputs">
        <fieldset class="builder-group">
          <legend>Traffic</legend>
          <div class="builder-grid builder-grid--narrow">{INPUTS.filter((i) => i.group === "traffic").map(input)}</div>
        </fieldset>
        <fieldset class="builder-group">
          <legend>Faults</legend>
          <div class="builder-grid builder-grid--narrow">{INPUTS.filter((i) => i.group === "faults").map(input)}</div>
        </fieldset>
        <fieldset class="builder-group">
          <legend>Outage window</legend>
          <label class="builder-check">
            <input
              type="checkbox"
              checked={text.outage}
              onChange={(e) => setText({ ...text, outage: e.currentTarget.checked })}
            />{" "}
            The agent is down for a while
          </label>
          <div class="builder-grid builder-grid--narrow">
            {INPUTS.filter((i) => i.group === "outage").map(input)}
            <div class="builder-field">
              <label for="builder-sim-outageMode">During it, attempts</label>
              <select
                id="builder-sim-outageMode"
                value={text.outageMode}
                disabled={!text.outage}
                onChange={(e) => setText({ ...text, outageMode: e.currentTarget.value === "hang" ? "hang" : "refuse" })}
              >
                <option value="refuse">fail at once</option>
                <option value="hang">hang until timed out</option>
              </select>
            </div>
          </div>
        </fieldset>
        <fieldset class="builder-group">
          <legend>Run</legend>
          <div class="builder-grid builder-grid--narrow">{INPUTS.filter((i) => i.group === "run").map(input)}</div>
          <label class="builder-check">
            <input
              type="checkbox"
              checked={text.tokenBudget}
              aria-describedby="builder-sim-tokens-hint"
              onChange={(e) => setText({ ...text, tokenBudget: e.currentTarget.checked })}
            />{" "}
            Count the daily token budget
          </label>
          <p id="builder-sim-tokens-hint" class="builder-hint">
            From a fresh day: each call reserves the token estimate against maxTokensPerDay (agent-demo's run out after
            about 200 calls).
          </p>
          <p class="builder-hint">
            {parsed.ok ? `${parsed.requests.toLocaleString("en")} requests` : "—"} (at most{" "}
            {MAX_SIM_REQUESTS.toLocaleString("en")}). The same seed gives the same run.
          </p>
        </fieldset>
      </div>
      <div class="builder-actions">
        <button
          type="button"
          class="button"
          disabled={!manifest || !parsed.ok || run.status === "running"}
          aria-describedby={!manifest && unavailableReason ? "builder-sim-unavailable" : undefined}
          onClick={() => void start()}
        >
          {run.status === "running" ? "Running…" : "Run the simulation"}
        </button>
        {run.status === "running" ? (
          <button type="button" class="button button--quiet" onClick={cancel}>
            Cancel
          </button>
        ) : null}
        <button type="button" class="button button--quiet" onClick={() => setText(DEFAULT_SCENARIO)}>
          Reset inputs
        </button>
      </div>
      {!manifest && unavailableReason ? (
        <p id="builder-sim-unavailable" class="notice">
          {unavailableReason}
        </p>
      ) : null}
      <div aria-live="polite">
        {run.status === "running" ? <p class="muted">Simulating…</p> : null}
        {run.status === "error" ? (
          <p class="error" role="alert">
            The simulation failed: {run.message}
          </p>
        ) : null}
        {run.status === "done" ? (
          <p class="muted">
            Simulated {run.plot.totals.requests.toLocaleString("en")} requests in {run.ms} ms.
            {stale ? <strong> The manifest has changed since; run again to see the new settings.</strong> : null}
          </p>
        ) : null}
      </div>
      {plot ? (
        <SimulationResults plot={plot} />
      ) : run.status === "idle" ? (
        <p class="muted">No run yet. Set a fault pattern and run it.</p>
      ) : null}
    </section>
  );
}

/** The plots, totals, breaker transitions and settings of one run. */
function SimulationResults({ plot }: { plot: SimulationPlot }) {
  const t = plot.totals;
  const seconds = plot.breaker.length;
  const transitions = t.transitions.slice(0, 20);
  return (
    <div class="builder-sim-results">
      <dl class="builder-facts">
        <div>
          <dt>Success for callers</dt>
          <dd>
            <strong>{pct(t.successRate)}</strong> ({t.ok.toLocaleString("en")} of {t.requests.toLocaleString("en")})
          </dd>
        </div>
        <div>
          <dt>Agent calls per request</dt>
          <dd>{t.attemptsPerRequest.toFixed(2)}</dd>
        </div>
        <div>
          <dt>Failed (502)</dt>
          <dd>{t.failed.toLocaleString("en")}</dd>
        </div>
        <div>
          <dt>Rejected (503 / 429)</dt>
          <dd>{t.rejected.toLocaleString("en")}</dd>
        </div>
        <div>
          <dt>Timed out (504)</dt>
          <dd>{t.timedOut.toLocaleString("en")}</dd>
        </div>
        <div>
          <dt>Breaker transitions</dt>
          <dd>{t.transitions.length}</dd>
        </div>
        <div>
          <dt>Latency of successes p50 / p95</dt>
          <dd>{t.latencyMs ? `${Math.round(t.latencyMs.p50)} / ${Math.round(t.latencyMs.p95)} ms` : "n/a"}</dd>
        </div>
      </dl>
      <div class="builder-charts">
        <div>
          <LineChart
            title={`What callers got, per second (0–${seconds - 1} s)`}
            series={plot.outcomes}
            format={(v) => v.toFixed(0)}
          />
          <BreakerBand breaker={plot.breaker} />
        </div>
        <LineChart title="Load on the agent, per second" series={plot.load} format={(v) => v.toFixed(0)} />
      </div>
      <div class="builder-grid">
        <div>
          <h3>Rejections</h3>
          {t.rejectedBy.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <ul class="builder-list">
              {t.rejectedBy.map(([reason, n]) => (
                <li key={reason}>
                  {REASON[reason] ?? reason}: {n.toLocaleString("en")}
                </li>
              ))}
            </ul>
          )}
          <h3>Retries not made, because of</h3>
          {t.retriesStoppedBy.length === 0 ? (
            <p class="muted">Nothing: every due retry ran.</p>
          ) : (
            <ul class="builder-list">
              {t.retriesStoppedBy.map(([reason, n]) => (
                <li key={reason}>
                  {REASON[reason] ?? reason}: {n.toLocaleString("en")}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h3>Breaker transitions</h3>
          {transitions.length === 0 ? (
            <p class="muted">The breaker stayed closed.</p>
          ) : (
            <ol class="builder-list">
              {transitions.map((x, i) => (
                <li key={i}>
                  {(x.atMs / 1000).toFixed(1)} s: {STATE_STYLE[x.from].label} → {STATE_STYLE[x.to].label}{" "}
                  <span class="muted">({x.cause})</span>
                </li>
              ))}
            </ol>
          )}
          {t.transitions.length > transitions.length ? (
            <p class="muted">and {t.transitions.length - transitions.length} more.</p>
          ) : null}
        </div>
      </div>
      <details class="builder-settings">
        <summary>Settings this run used</summary>
        <dl class="builder-facts">
          {plot.settings.map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      </details>
    </div>
  );
}
