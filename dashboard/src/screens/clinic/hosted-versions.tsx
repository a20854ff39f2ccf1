/**
 * One hosted agent's kept versions, newest first (`GET /v1/agents/:name/versions`), ten to a page with the Clinic's
 * cursor pager: when and by whom each was uploaded, its size, which is served, and "Roll back" on every other one
 * (asks first, then `POST /v1/agents/:name/rollback` and both lists are read again). Read again whenever the served
 * version changes.
 */
import { useState } from "preact/hooks";
import { type HostedAgentView, hostedApi } from "../../api-hosted";
import { CursorPager } from "../../components/cursor-pager";
import type { ActionMessage } from "./hosted-agents";
import { usePoll } from "./use-poll";

/** Versions shown per page. */
const PAGE = 10;

/** Props of {@link HostedVersions}. */
export interface HostedVersionsProps {
  /** The element's id (the toggle's aria-controls). */
  id: string;
  agent: HostedAgentView;
  onChanged: (m: ActionMessage) => void;
}

const size = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`);

/** The versions. */
export function HostedVersions({ id, agent, onChanged }: HostedVersionsProps) {
  // The pager's cursors are offsets into the list (the API answers every kept version at once).
  const [cursors, setCursors] = useState<string[]>([]);
  const [busy, setBusy] = useState<number | undefined>();
  const versions = usePoll((signal) => hostedApi.versions(agent.name, { signal }), 0, [agent.name, agent.version]);
  const all = versions.data?.versions ?? [];
  const offset = Number(cursors.at(-1) ?? 0);
  const rows = all.slice(offset, offset + PAGE);
  const next = offset + PAGE < all.length ? String(offset + PAGE) : null;

  async function rollback(version: number) {
    const served = versions.data?.current ?? agent.version;
    if (!window.confirm(`Serve version ${version} of ${agent.name} again, instead of version ${served}?`)) return;
    setBusy(version);
    const res = await hostedApi.rollback(agent.name, version);
    setBusy(undefined);
    onChanged(
      res.ok
        ? { text: `${agent.name} rolled back from version ${res.data.rolled_back_from} to ${version}.`, error: false }
        : { text: `${agent.name} was not rolled back: ${res.error.error} (${res.error.code})`, error: true },
    );
    versions.refresh();
  }

  return (
    <div id={id} class="hosted-versions">
      {versions.error ? (
        <p class="error" role="alert">
          The versions could not be read: {versions.error.error} ({versions.error.code})
        </p>
      ) : null}
      {versions.loading && !versions.data ? <p class="muted">Loading the versions…</p> : null}
      {rows.length > 0 ? (
        <div class="table-wrap">
          <table class="table table--stack">
            <caption class="visually-hidden">Versions of {agent.name}</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Uploaded</th>
                <th scope="col">By</th>
                <th scope="col">Size</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((v) => (
                <tr key={v.version} data-testid={`hosted-${agent.name}-v${v.version}`}>
                  <td data-label="Version">
                    {v.version}{" "}
                    {v.current ? (
                      <span class="badge badge--ok" data-testid="served">
                        served
                      </span>
                    ) : null}
                  </td>
                  <td data-label="Uploaded">
                    <time dateTime={v.created_at}>{new Date(v.created_at).toLocaleString()}</time>
                  </td>
                  <td data-label="By">
                    <code>{v.created_by}</code>
                  </td>
                  <td data-label="Size">{size(v.size_bytes)}</td>
                  <td data-label="Actions">
                    {v.current ? null : (
                      <button
                        type="button"
                        class="button button--quiet"
                        disabled={busy !== undefined}
                        onClick={() => void rollback(v.version)}
                      >
                        {busy === v.version ? "Rolling back…" : `Roll back to ${v.version}`}
                        <span class="visually-hidden"> ({agent.name})</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {cursors.length > 0 || next ? <CursorPager cursors={cursors} next={next} onChange={setCursors} /> : null}
    </div>
  );
}
