/**
 * One request id: for each logged request that carried it (usually one; a caller may reuse an id, so each
 * says who made it), its outcome, its waterfall (backoffs, attempts with the agent's spans, refusals,
 * gateway time) and a link to its trace in Jaeger.
 */
import { type RequestLogEntry, api } from "../../api";
import { href } from "../../router";
import { usePoll } from "./use-poll";
import { type TimelineEntry, layoutWaterfall } from "./waterfall";

/** One logged request with its attempt timeline. */
type RequestDetailData = RequestLogEntry & { timeline: TimelineEntry[] };
/** `GET /v1/requests/:id`: every logged request that carried the id, newest first. */
interface RequestsById {
  request_id: string;
  requests: RequestDetailData[];
}

/** Props of {@link RequestDetail}. */
export interface RequestDetailProps {
  requestId: string;
  jaegerUiUrl: string | null;
  /** Shown inside another screen (the Wizard's result): no back link, a smaller heading. */
  embedded?: boolean;
}

/** The detail view. */
export function RequestDetail({ requestId, jaegerUiUrl, embedded = false }: RequestDetailProps) {
  const res = usePoll(
    (signal) => api.gateway.get<RequestsById>(`/v1/requests/${encodeURIComponent(requestId)}`, { signal }),
    0,
    [requestId],
  );
  const rows = res.data?.requests ?? [];
  return (
    <section class="panel" aria-labelledby="request-title">
      {embedded ? (
        <h3 id="request-title">In the request log</h3>
      ) : (
        <>
          <p>
            <a href={href("clinic")}>← Back to the Clinic</a>
          </p>
          <h1 id="request-title" class="request-title">
            Request {requestId}
          </h1>
        </>
      )}
      {res.loading ? <p class="muted">Loading…</p> : null}
      {res.error ? (
        <p class="error" role="alert">
          {res.error.code === "REQUEST_NOT_FOUND"
            ? "This request is not in the log (not written yet, unknown, or past retention)."
            : `${res.error.error} (${res.error.code})`}
        </p>
      ) : null}
      {rows.length > 1 ? (
        <p class="muted">{rows.length} requests carried this id (newest first); each shows its caller.</p>
      ) : null}
      {rows.map((r) => (
        <Waterfall key={r.log_id} data={r} jaegerUiUrl={jaegerUiUrl} />
      ))}
    </section>
  );
}

function Waterfall({ data: r, jaegerUiUrl }: { data: RequestDetailData; jaegerUiUrl: string | null }) {
  const { bars, total } = layoutWaterfall(r.timeline, r.duration_ms);
  const trace = r.trace_id && jaegerUiUrl ? `${jaegerUiUrl.replace(/\/$/, "")}/trace/${r.trace_id}` : null;
  return (
    <>
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>
            {r.status}
            {r.code ? ` ${r.code}` : ""}
          </dd>
        </div>
        <div>
          <dt>Agent</dt>
          <dd>
            {r.agent ?? "—"}
            {r.served_by && r.served_by !== r.agent ? ` (served by ${r.served_by})` : ""}
          </dd>
        </div>
        <div>
          <dt>Task</dt>
          <dd>{r.task ?? "—"}</dd>
        </div>
        <div>
          <dt>Caller</dt>
          <dd>{r.key_id ?? "—"}</dd>
        </div>
        <div>
          <dt>When</dt>
          <dd>
            <time dateTime={r.time}>{new Date(r.time).toLocaleString()}</time>
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{r.duration_ms} ms</dd>
        </div>
        <div>
          <dt>Trace</dt>
          <dd>
            {trace ? (
              <a href={trace} target="_blank" rel="noreferrer">
                Open in Jaeger
              </a>
            ) : r.trace_id ? (
              <code>{r.trace_id}</code>
            ) : (
              "not traced"
            )}
          </dd>
        </div>
      </dl>
      <h3>Waterfall</h3>
      {bars.length === 0 ? (
        <p class="muted">No attempt was made (the request was answered by the gateway itself).</p>
      ) : null}
      <ol class="waterfall" aria-label={`Waterfall, ${total} ms in all`}>
        {bars.map((b, i) => (
          <li
            key={i}
            class={`waterfall__row waterfall__row--${b.kind}${b.depth > 0 ? " waterfall__row--nested" : ""}${b.failed ? " waterfall__row--failed" : ""}`}
          >
            <span class="waterfall__label">{b.label}</span>
            <span class="waterfall__track" aria-hidden="true">
              <span
                class="waterfall__bar"
                style={{
                  left: `${(b.start / total) * 100}%`,
                  width: b.duration === 0 ? "2px" : `${Math.max(0.5, (b.duration / total) * 100)}%`,
                }}
              />
            </span>
          </li>
        ))}
      </ol>
      <p class="muted">
        Indented rows are the agent's own spans, as it reported them (Server-Timing).
        {!jaegerUiUrl ? " Set JAEGER_UI_URL on the dashboard to link each request to its full trace." : null}
      </p>
    </>
  );
}
