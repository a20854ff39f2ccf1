/**
 * Recent long-running runs (started with `Prefer: respond-async` on `/execute`), newest first, filtered by
 * status and paged. The list is live: read again every 2 s while a listed run is queued or running, else
 * every 10 s. A row opens to the run's result or error and its webhook deliveries; a queued or running run
 * can be cancelled. A gateway without runs (404 `NOT_FOUND` on `/v1/runs`) gets a quiet note, not an error.
 */
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { type RunStatus, type RunView, api } from "../../api";
import { CursorPager } from "../../components/cursor-pager";
import { href } from "../../router";
import { RunDetail } from "./run-detail";
import { isActive, runDuration } from "./run-time";
import { usePoll } from "./use-poll";

/** How often the list is read while a listed run is queued or running, and otherwise. */
const ACTIVE_REFRESH_MS = 2000;
const IDLE_REFRESH_MS = 10_000;
const STATUSES: readonly RunStatus[] = ["queued", "running", "succeeded", "failed", "cancelled"];
const COLUMNS = 10;

/** An HTML id for a run's detail row. */
const detailId = (runId: string) => `run-detail-${runId.replace(/[^A-Za-z0-9_-]/g, "_")}`;

/** Props of {@link Runs}. */
export interface RunsProps {
  /** The gateway's public URL (for the hint on starting a run), or null. */
  gatewayUrl: string | null;
}

/** The runs section. */
export function Runs({ gatewayUrl }: RunsProps) {
  const [status, setStatus] = useState<RunStatus | "">("");
  const [cursors, setCursors] = useState<string[]>([]);
  const [open, setOpen] = useState<string | undefined>();
  const [cancelling, setCancelling] = useState<string | undefined>();
  const [message, setMessage] = useState<{ text: string; error: boolean } | undefined>();
  const [active, setActive] = useState(false);
  const [unavailable, setUnavailable] = useState(false);
  const cursor = cursors[cursors.length - 1];
  const page = usePoll(
    async (signal) => {
      const res = await api.runs.list({ ...(status ? { status } : {}), ...(cursor ? { cursor } : {}), signal });
      if (!signal.aborted) {
        setUnavailable(!res.ok && res.status === 404 && res.error.code === "NOT_FOUND");
        if (res.ok) setActive(res.data.runs.some(isActive));
      }
      return res;
    },
    unavailable ? 0 : active ? ACTIVE_REFRESH_MS : IDLE_REFRESH_MS,
    [status, cursor],
  );
  const rows = page.data?.runs ?? [];
  const now = Date.now();
  async function cancel(run: RunView) {
    if (!window.confirm(`Cancel run ${run.run_id} (${run.agent}, ${run.task})?`)) return;
    setCancelling(run.run_id);
    const res = await api.runs.cancel(run.run_id);
    setCancelling(undefined);
    setMessage(
      res.ok
        ? { text: `Run ${run.run_id} cancelled.`, error: false }
        : { text: `Run ${run.run_id} was not cancelled: ${res.error.error} (${res.error.code})`, error: true },
    );
    page.refresh();
  }
  return (
    <section aria-labelledby="runs-title" class="panel">
      <h2 id="runs-title">Runs</h2>
      {unavailable ? (
        <p class="muted">Runs are not available on this gateway.</p>
      ) : (
        <>
          <form class="filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              Status
              <select
                value={status}
                onChange={(e) => (setStatus(e.currentTarget.value as RunStatus | ""), setCursors([]))}
              >
                <option value="">Any</option>
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
          </form>
          {message ? (
            <p role="status" class={message.error ? "error" : "muted"}>
              {message.text}
            </p>
          ) : null}
          {page.error ? (
            <p class="error" role="alert">
              The runs could not be read: {page.error.error} ({page.error.code})
            </p>
          ) : null}
          {page.loading && !page.data ? <p class="muted">Loading…</p> : null}
          {page.data && rows.length === 0 ? (
            status || cursor ? (
              <p class="muted">No runs match this filter.</p>
            ) : (
              <p class="muted runs__hint">
                No runs yet. Start one with{" "}
                <code>{`curl -H 'Prefer: respond-async' -H 'X-API-Key: <key>' -H 'Content-Type: application/json' -d '{"task": "<task>"}' ${gatewayUrl ?? "https://<your gateway>"}/execute`}</code>
              </p>
            )
          ) : null}
          {rows.length > 0 ? (
            <div class="table-wrap">
              <table class="table table--stack runs">
                <thead>
                  <tr>
                    <th scope="col">Run</th>
                    <th scope="col">Status</th>
                    <th scope="col">Agent</th>
                    <th scope="col">Task</th>
                    <th scope="col">Created</th>
                    <th scope="col">Duration</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Webhook</th>
                    <th scope="col">Request id</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <Fragment key={r.run_id}>
                      <tr data-testid={`run-${r.run_id}`}>
                        <td data-label="Run">
                          <button
                            type="button"
                            class="runs__toggle"
                            aria-expanded={open === r.run_id}
                            {...(open === r.run_id ? { "aria-controls": detailId(r.run_id) } : {})}
                            title={r.run_id}
                            onClick={() => setOpen(open === r.run_id ? undefined : r.run_id)}
                          >
                            <span aria-hidden="true">{open === r.run_id ? "▾ " : "▸ "}</span>
                            <span class="runs__id">{r.run_id}</span>
                          </button>
                        </td>
                        <td data-label="Status">
                          <span class={`badge badge--${r.status}`} data-testid="run-status">
                            {r.status}
                          </span>
                        </td>
                        <td data-label="Agent">
                          {r.served_by && r.served_by !== r.agent ? `${r.agent} → ${r.served_by}` : r.agent}
                        </td>
                        <td data-label="Task">{r.task}</td>
                        <td data-label="Created">
                          <time dateTime={r.created_at}>{new Date(r.created_at).toLocaleTimeString()}</time>
                        </td>
                        <td data-label="Duration">{runDuration(r, now)}</td>
                        <td data-label="Attempts">{r.attempts}</td>
                        <td data-label="Webhook">
                          {r.callback ? (
                            <span class={`badge badge--${r.callback.state}`}>{r.callback.state}</span>
                          ) : (
                            "—"
                          )}
                        </td>
                        <td data-label="Request id">
                          <a class="runs__request" href={href("clinic", "request", r.request_id)} title={r.request_id}>
                            {r.request_id}
                          </a>
                        </td>
                        <td data-label="Actions">
                          {isActive(r) ? (
                            <button
                              type="button"
                              class="button button--quiet"
                              disabled={cancelling === r.run_id}
                              onClick={() => void cancel(r)}
                              aria-label={`Cancel run ${r.run_id}`}
                            >
                              Cancel
                            </button>
                          ) : null}
                        </td>
                      </tr>
                      {open === r.run_id ? (
                        <tr id={detailId(r.run_id)} class="runs__detail">
                          <td colSpan={COLUMNS}>
                            <RunDetail run={r} />
                          </td>
                        </tr>
                      ) : null}
                    </Fragment>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {cursors.length > 0 || page.data?.next_cursor ? (
            <CursorPager cursors={cursors} next={page.data?.next_cursor} onChange={setCursors} />
          ) : null}
        </>
      )}
    </section>
  );
}
