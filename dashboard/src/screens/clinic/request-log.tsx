/** The request log: filters (agent, status, since), newest first, paged; a row opens the request's waterfall. */
import { useState } from "preact/hooks";
import { type RequestLogEntry, api } from "../../api";
import { CursorPager } from "../../components/cursor-pager";
import { href } from "../../router";
import { usePoll } from "./use-poll";

const SINCE: Record<string, number | undefined> = {
  "15m": 15 * 60_000,
  "1h": 3_600_000,
  "24h": 86_400_000,
  all: undefined,
};

/** Props of {@link RequestLog}. */
export interface RequestLogProps {
  agents: string[];
}

/** The log. */
export function RequestLog({ agents }: RequestLogProps) {
  const [agent, setAgent] = useState("");
  const [status, setStatus] = useState("");
  const [since, setSince] = useState("1h");
  const [callsOnly, setCallsOnly] = useState(true);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const sinceMs = SINCE[since];
  const page = usePoll(
    (signal) =>
      api.requests(
        {
          ...(agent ? { agent } : {}),
          ...(status ? { status } : {}),
          kind: callsOnly ? "calls" : "all",
          ...(sinceMs !== undefined ? { since: String(Date.now() - sinceMs) } : {}),
          limit: 25,
          ...(cursor ? { cursor } : {}),
        },
        { signal },
      ),
    cursor ? 0 : 5000,
    [agent, status, since, callsOnly, cursor],
  );
  const reset = () => setCursors([]);
  const rows: RequestLogEntry[] = page.data?.requests ?? [];
  return (
    <section aria-labelledby="request-log-title" class="panel">
      <h2 id="request-log-title">Request log</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Agent
          <select value={agent} onChange={(e) => (setAgent(e.currentTarget.value), reset())}>
            <option value="">All</option>
            {agents.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => (setStatus(e.currentTarget.value), reset())}>
            <option value="">Any</option>
            <option value="2xx">2xx</option>
            <option value="4xx">4xx</option>
            <option value="5xx">5xx</option>
            <option value="429">429</option>
            <option value="503">503</option>
          </select>
        </label>
        <label>
          Since
          <select value={since} onChange={(e) => (setSince(e.currentTarget.value), reset())}>
            <option value="15m">15 minutes</option>
            <option value="1h">1 hour</option>
            <option value="24h">24 hours</option>
            <option value="all">Everything kept</option>
          </select>
        </label>
        <label class="filters__check">
          <input
            type="checkbox"
            checked={callsOnly}
            onChange={(e) => (setCallsOnly(e.currentTarget.checked), reset())}
          />
          Agent calls only
        </label>
      </form>
      {page.error ? (
        <p class="error" role="alert">
          The request log could not be read: {page.error.error} ({page.error.code})
        </p>
      ) : null}
      {page.loading && !page.data ? <p class="muted">Loading…</p> : null}
      {page.data && rows.length === 0 ? <p class="muted">No requests match these filters.</p> : null}
      {rows.length > 0 ? (
        <div class="table-wrap">
          <table class="table table--stack">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Status</th>
                <th scope="col">Agent</th>
                <th scope="col">Task</th>
                <th scope="col">Attempts</th>
                <th scope="col">Duration</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.log_id} class={r.status >= 500 ? "row--bad" : r.status >= 400 ? "row--warn" : ""}>
                  <td data-label="Time">
                    <time dateTime={r.time}>{new Date(r.ts).toLocaleTimeString()}</time>
                  </td>
                  <td data-label="Status">
                    {r.status}
                    {r.code ? <span class="muted"> {r.code}</span> : null}
                  </td>
                  <td data-label="Agent">
                    {r.served_by && r.served_by !== r.agent ? `${r.agent ?? "—"} → ${r.served_by}` : (r.agent ?? "—")}
                  </td>
                  <td data-label="Task">{r.task ?? "—"}</td>
                  <td data-label="Attempts">{r.attempts}</td>
                  <td data-label="Duration">{r.duration_ms} ms</td>
                  <td data-label="Request id">
                    <a href={href("clinic", "request", r.request_id)}>{r.request_id}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <CursorPager cursors={cursors} next={page.data?.next_cursor} onChange={setCursors} />
    </section>
  );
}
