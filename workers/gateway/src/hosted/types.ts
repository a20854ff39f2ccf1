/**
 * What the hosted-agent API answers with, shared by the gateway and the
 * dashboard: runtime-neutral (no Workers types), like runs/types.ts.
 */

/** A hosted agent as listed (`GET /v1/agents`). */
export interface HostedAgentView {
  name: string;
  display_name: string;
  version: number;
  /** How many versions are kept. */
  versions: number;
  updated_at: string;
  updated_by: string;
  digest: string;
}

/** One kept version (`GET /v1/agents/:name/versions`). */
export interface HostedVersionView {
  version: number;
  created_at: string;
  created_by: string;
  digest: string;
  size_bytes: number;
  current: boolean;
}

/** Limits a gateway applies to hosted agents (`GET /v1/agents`). */
export interface HostedLimits {
  max_agents: number;
  max_versions: number;
  max_manifest_bytes: number;
}
