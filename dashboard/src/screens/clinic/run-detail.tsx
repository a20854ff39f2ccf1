/**
 * One run opened in the Clinic's runs table: its result (read with `GET /v1/runs/:id` once the run has ended,
 * since the list leaves results out; read again whenever the list shows the run in a new state) or its error,
 * and how its webhook deliveries went. Everything but the result comes from the list's row, so it stays live.
 */
import { type RunView, api } from "../../api";
import { isActive } from "./run-time";
import { usePoll } from "./use-poll";

/** Props of {@link RunDetail}. */
export interface RunDetailProps {
  /** The run as the list shows it now (no `result`). */
  run: RunView;
}

/** The expanded run. */
export function RunDetail({ run }: RunDetailProps) {
  const active = isActive(run);
  const full = usePoll(
    (signal) =>
      active
        ? Promise.resolve({ ok: true as const, status: 200, data: run, requestId: null })
        : api.runs.get(run.run_id, { signal }),
    0,
    [run.run_id, run.status],
  );
  const error = run.error ?? full.data?.error;
  return (
    <div class="run-detail">
      <dl class="facts">
        <div>
          <dt>Run id</dt>
          <dd>
            <code>{run.run_id}</code>
          </dd>
        </div>
        {run.served_by && run.served_by !== run.agent ? (
          <div>
            <dt>Served by</dt>
            <dd>{run.served_by}</dd>
          </div>
        ) : null}
        {run.started_at ? (
          <div>
            <dt>Started</dt>
            <dd>
              <time dateTime={run.started_at}>{new Date(run.started_at).toLocaleString()}</time>
            </dd>
          </div>
        ) : null}
        {run.finished_at ? (
          <div>
            <dt>Finished</dt>
            <dd>
              <time dateTime={run.finished_at}>{new Date(run.finished_at).toLocaleString()}</time>
            </dd>
          </div>
        ) : null}
      </dl>
      {error ? (
        <>
          <h3 class="run-detail__title">Error</h3>
          <p class="error">
            {error.error} ({error.code}, {error.status})
          </p>
          {error.details !== undefined ? (
            <pre class="run-detail__json">{JSON.stringify(error.details, null, 2)}</pre>
          ) : null}
        </>
      ) : null}
      {full.error ? (
        <p class="error" role="alert">
          The run could not be read: {full.error.error} ({full.error.code})
        </p>
      ) : null}
      {run.status === "succeeded" ? (
        <>
          <h3 class="run-detail__title">Result</h3>
          {full.data?.status === "succeeded" ? (
            <pre class="run-detail__json" data-testid="run-result">
              {JSON.stringify(full.data.result ?? null, null, 2)}
            </pre>
          ) : full.error ? null : (
            <p class="muted">Loading the result…</p>
          )}
        </>
      ) : null}
      {active ? <p class="muted">No result yet: the run is {run.status}.</p> : null}
      {run.callback ? <Webhook callback={run.callback} /> : null}
    </div>
  );
}

function Webhook({ callback }: { callback: NonNullable<RunView["callback"]> }) {
  return (
    <>
      <h3 class="run-detail__title">
        Webhook <span class={`badge badge--${callback.state}`}>{callback.state}</span>
      </h3>
      <p>
        <code class="run-detail__url">{callback.url}</code>
      </p>
      {callback.deliveries.length === 0 ? (
        <p class="muted">No delivery yet (one is made when the run ends).</p>
      ) : (
        <ol class="history">
          {callback.deliveries.map((d) => (
            <li key={d.attempt}>
              Attempt {d.attempt}, <time dateTime={d.at}>{new Date(d.at).toLocaleTimeString()}</time>:{" "}
              <strong>{d.ok ? "delivered" : "failed"}</strong>
              {d.status !== undefined ? ` (HTTP ${d.status})` : ""}
              {d.error ? <span class="muted"> — {d.error}</span> : null}
              <span class="muted">, {d.duration_ms} ms</span>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
