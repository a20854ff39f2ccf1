/**
 * Settings of hosted agents, resolved from the gateway's vars with defaults
 * (wrangler.toml documents each): how stale an isolate's view of them may
 * be, how many there may be, how many versions each keeps, the largest
 * upload, and whether fields Zahara does not enforce are warnings or errors.
 */

/** Defaults: 2 s, 50 agents, 10 versions, 64 KiB. */
export const DEFAULT_HOSTED_REFRESH_MS = 2000;
export const DEFAULT_HOSTED_AGENTS_MAX = 50;
export const DEFAULT_HOSTED_VERSIONS_KEPT = 10;
export const DEFAULT_HOSTED_MAX_BYTES = 65_536;

/** The vars hosted agents read. */
export interface HostedVars {
  HOSTED_AGENTS_REFRESH_MS?: string;
  HOSTED_AGENTS_MAX?: string;
  HOSTED_AGENT_VERSIONS_KEPT?: string;
  HOSTED_AGENT_MAX_BYTES?: string;
  UNENFORCED_MANIFEST_FIELDS?: string;
}

/** Resolved hosted-agent settings. */
export interface HostedConfig {
  /** How old an isolate's view of the hosted agents may get before a request reloads it. */
  refreshMs: number;
  maxAgents: number;
  versionsKept: number;
  maxBytes: number;
  /** Severity of a field Zahara does not enforce: `error` refuses the upload. */
  unenforced: "error" | "warning";
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Resolves the hosted-agent settings; a missing or invalid value takes its default. */
export function resolveHostedConfig(env: HostedVars): HostedConfig {
  return {
    refreshMs: positiveInt(env.HOSTED_AGENTS_REFRESH_MS, DEFAULT_HOSTED_REFRESH_MS),
    maxAgents: positiveInt(env.HOSTED_AGENTS_MAX, DEFAULT_HOSTED_AGENTS_MAX),
    versionsKept: positiveInt(env.HOSTED_AGENT_VERSIONS_KEPT, DEFAULT_HOSTED_VERSIONS_KEPT),
    maxBytes: positiveInt(env.HOSTED_AGENT_MAX_BYTES, DEFAULT_HOSTED_MAX_BYTES),
    unenforced: env.UNENFORCED_MANIFEST_FIELDS?.trim().toLowerCase() === "error" ? "error" : "warning",
  };
}
