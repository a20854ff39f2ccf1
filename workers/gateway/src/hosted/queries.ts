/**
 * Reads of the hosted agents' store (`ACCESS_DB`, migrations/access/0003):
 * what the served registry loads (the heads, then only the manifests it has
 * not cached) and what the admin API lists. Writes are in store.ts.
 */

import type { HostedAgentView, HostedVersionView } from "./types";

const iso = (ms: number) => new Date(ms).toISOString();

/** What the served registry needs of each hosted agent: which version, and how to tell it apart. */
export interface HostedHead {
  name: string;
  version: number;
  digest: string;
}

/** The served version of every live hosted agent. */
export async function readHeads(db: D1Database): Promise<HostedHead[]> {
  const { results } = await db
    .prepare(
      `SELECT h.name AS name, h.current_version AS version, v.digest AS digest
       FROM hosted_agents h JOIN hosted_agent_versions v ON v.name = h.name AND v.version = h.current_version
       WHERE h.current_version IS NOT NULL ORDER BY h.name`,
    )
    .all<HostedHead>();
  return results;
}

/** The served manifests (JSON text) of `heads`, by name; a version deleted meanwhile is left out. */
export async function readManifests(db: D1Database, heads: readonly HostedHead[]): Promise<Map<string, string>> {
  if (heads.length === 0) return new Map();
  const statement = db.prepare("SELECT name, manifest FROM hosted_agent_versions WHERE name = ? AND version = ?");
  const results = await db.batch<{ name: string; manifest: string }>(
    heads.map((h) => statement.bind(h.name, h.version)),
  );
  return new Map(results.flatMap((r) => r.results.map((row) => [row.name, row.manifest] as const)));
}

interface HeadRow {
  name: string;
  current_version: number;
  updated_at: number;
  updated_by: string;
  digest: string;
  manifest: string;
  versions: number;
}

const AGENT_SELECT = `SELECT h.name, h.current_version, h.updated_at, h.updated_by, v.digest, v.manifest,
    (SELECT COUNT(*) FROM hosted_agent_versions k WHERE k.name = h.name) AS versions
  FROM hosted_agents h JOIN hosted_agent_versions v ON v.name = h.name AND v.version = h.current_version
  WHERE h.current_version IS NOT NULL`;

function agentView(r: HeadRow): HostedAgentView {
  return {
    name: r.name,
    display_name: displayName(r.manifest) ?? r.name,
    version: r.current_version,
    versions: r.versions,
    updated_at: iso(r.updated_at),
    updated_by: r.updated_by,
    digest: r.digest,
  };
}

/** Every live hosted agent, by name. */
export async function listAgents(db: D1Database): Promise<HostedAgentView[]> {
  const { results } = await db.prepare(`${AGENT_SELECT} ORDER BY h.name`).all<HeadRow>();
  return results.map(agentView);
}

/** The one live hosted agent named `name`, or undefined. */
export async function readAgent(db: D1Database, name: string): Promise<HostedAgentView | undefined> {
  const row = await db.prepare(`${AGENT_SELECT} AND h.name = ?`).bind(name).first<HeadRow>();
  return row ? agentView(row) : undefined;
}

function displayName(manifest: string): string | undefined {
  try {
    const parsed = JSON.parse(manifest) as { extensions?: { zahara?: { branding?: { display_name?: unknown } } } };
    const name = parsed.extensions?.zahara?.branding?.display_name;
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The kept versions of a live agent, newest first; undefined when there is no such agent. */
export async function listVersions(
  db: D1Database,
  name: string,
): Promise<{ current: number; versions: HostedVersionView[] } | undefined> {
  const head = await db
    .prepare("SELECT current_version FROM hosted_agents WHERE name = ? AND current_version IS NOT NULL")
    .bind(name)
    .first<{ current_version: number }>();
  if (!head) return undefined;
  const { results } = await db
    .prepare(
      `SELECT version, created_at, created_by, digest, length(CAST(source AS BLOB)) AS size_bytes
       FROM hosted_agent_versions WHERE name = ? ORDER BY version DESC`,
    )
    .bind(name)
    .all<{ version: number; created_at: number; created_by: string; digest: string; size_bytes: number }>();
  return {
    current: head.current_version,
    versions: results.map((r) => ({
      ...r,
      created_at: iso(r.created_at),
      current: r.version === head.current_version,
    })),
  };
}

/** One version's upload as it was sent, or undefined. */
export async function readVersion(
  db: D1Database,
  name: string,
  version: number,
): Promise<{ source: string; content_type: string; created_at: string; created_by: string } | undefined> {
  const row = await db
    .prepare(
      `SELECT v.source, v.content_type, v.created_at, v.created_by FROM hosted_agent_versions v
       JOIN hosted_agents h ON h.name = v.name AND h.current_version IS NOT NULL WHERE v.name = ? AND v.version = ?`,
    )
    .bind(name, version)
    .first<{ source: string; content_type: string; created_at: number; created_by: string }>();
  return row ? { ...row, created_at: iso(row.created_at) } : undefined;
}
