/**
 * The Clinic's hosted agents: the agents uploaded as manifests (the Wizard's deploy, or `PUT /v1/agents/:name`)
 * rather than deployed as Workers. Each shows the version served, when and by whom it was last changed, its kept
 * versions (hosted-versions.tsx: roll back to one) and a Delete; both ask first, and both are audited by the gateway.
 * The list is read every 10 s. A gateway without hosted agents (404 `NOT_FOUND` on `GET /v1/agents`) gets a quiet
 * note, as the runs do.
 */
import { useState } from "preact/hooks";
import { type HostedAgentView, hostedApi } from "../../api-hosted";
import { EmptyState } from "../../components/empty-state";
import { href } from "../../router";
import { HostedVersions } from "./hosted-versions";
import { usePoll } from "./use-poll";

const REFRESH_MS = 10_000;

/** A message after an action. */
export interface ActionMessage {
  text: string;
  error: boolean;
}

/** The section. */
export function HostedAgents() {
  const [unavailable, setUnavailable] = useState(false);
  const [message, setMessage] = useState<ActionMessage | undefined>();
  const list = usePoll(
    async (signal) => {
      const res = await hostedApi.list({ signal });
      if (!signal.aborted) setUnavailable(!res.ok && res.status === 404 && res.error.code === "NOT_FOUND");
      return res;
    },
    unavailable ? 0 : REFRESH_MS,
  );
  const agents = list.data?.agents ?? [];
  const limits = list.data?.limits;
  const changed = (m: ActionMessage) => (setMessage(m), list.refresh());
  return (
    <section class="panel" aria-labelledby="hosted-title" data-testid="hosted-agents">
      <h2 id="hosted-title">Hosted agents</h2>
      {unavailable ? (
        <p class="muted">Hosted agents are not available on this gateway.</p>
      ) : (
        <>
          {limits ? (
            <p class="muted">
              {agents.length} of {limits.max_agents} hosted agents; the last {limits.max_versions} versions of each are
              kept; manifests up to {Math.round(limits.max_manifest_bytes / 1024)} KiB.
            </p>
          ) : null}
          {message ? (
            <p role="status" class={message.error ? "error" : "muted"} data-testid="hosted-message">
              {message.text}
            </p>
          ) : null}
          {list.error ? (
            <p class="error" role="alert">
              The hosted agents could not be read: {list.error.error} ({list.error.code})
            </p>
          ) : null}
          {list.loading && !list.data ? <p class="muted">Loading…</p> : null}
          {list.data && agents.length === 0 ? (
            <EmptyState title="No hosted agents yet">
              <p>
                Deploy a manifest from the <a href={href("wizard")}>Upload Wizard</a> (or the Builder's “Deploy in
                Wizard”): it is served at once, with no Worker to build.
              </p>
            </EmptyState>
          ) : null}
          {agents.map((a) => (
            <HostedAgentItem key={a.name} agent={a} onChanged={changed} />
          ))}
        </>
      )}
    </section>
  );
}

/** One hosted agent. */
function HostedAgentItem({ agent: a, onChanged }: { agent: HostedAgentView; onChanged: (m: ActionMessage) => void }) {
  const [open, setOpen] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const id = `hosted-${a.name}`;
  async function remove() {
    if (!window.confirm(`Delete the hosted agent ${a.name} and all ${a.versions} of its versions? Callers get 404.`))
      return;
    setDeleting(true);
    const res = await hostedApi.remove(a.name);
    setDeleting(false);
    onChanged(
      res.ok
        ? { text: `Deleted ${a.name}.`, error: false }
        : { text: `${a.name} was not deleted: ${res.error.error} (${res.error.code})`, error: true },
    );
  }
  return (
    <article class="hosted-agent" aria-labelledby={id} data-testid={id}>
      <header class="agent-card__head">
        <h3 id={id}>{a.name}</h3>
        <span class="badge badge--ok" data-testid={`hosted-version-${a.name}`}>
          version {a.version}
        </span>
      </header>
      <dl class="facts">
        {a.display_name && a.display_name !== a.name ? (
          <div>
            <dt>Display name</dt>
            <dd>{a.display_name}</dd>
          </div>
        ) : null}
        <div>
          <dt>Changed</dt>
          <dd>
            <time dateTime={a.updated_at}>{new Date(a.updated_at).toLocaleString()}</time>
          </dd>
        </div>
        <div>
          <dt>By</dt>
          <dd>
            <code>{a.updated_by}</code>
          </dd>
        </div>
        <div>
          <dt>Versions kept</dt>
          <dd>{a.versions}</dd>
        </div>
      </dl>
      <div class="agent-card__actions">
        <button
          type="button"
          class="button button--quiet"
          aria-expanded={open}
          {...(open ? { "aria-controls": `${id}-versions` } : {})}
          onClick={() => setOpen(!open)}
        >
          {open ? "Hide versions" : "Versions"}
          <span class="visually-hidden"> of {a.name}</span>
        </button>
        <button
          type="button"
          class="button button--danger"
          disabled={deleting}
          onClick={() => void remove()}
          aria-label={`Delete ${a.name}`}
        >
          {deleting ? "Deleting…" : "Delete"}
        </button>
      </div>
      {open ? <HostedVersions id={`${id}-versions`} agent={a} onChanged={onChanged} /> : null}
    </article>
  );
}
