/**
 * The hosted-agent API's payloads (the gateway's own types, workers/gateway/src/hosted/types.ts, and the shapes of
 * its answers) and the pure rules of an upload: which media type a manifest is sent as, and which conditional
 * headers say what it was reviewed against. No DOM and no fetch, so the Wizard's state machine and its tests use it
 * without the client (api-hosted.ts re-exports all of it).
 */
import type { HostedAgentView, HostedLimits, HostedVersionView } from "../../workers/gateway/src/hosted/types";

export type { HostedAgentView, HostedLimits, HostedVersionView };

/** One problem the gateway found in an upload: an error stops it, a warning does not. */
export interface HostedIssue {
  severity: "error" | "warning";
  message: string;
  path?: string;
  line?: number;
  column?: number;
}

/** `PUT /v1/agents/:agent`: 201 when `created`, else 200. */
export interface DeployResult {
  agent: HostedAgentView;
  created: boolean;
  warnings: HostedIssue[];
  request_id: string;
}

/** `GET /v1/agents/:agent/versions`: newest first. */
export interface HostedVersions {
  agent: string;
  current: number;
  versions: HostedVersionView[];
}

/** `GET /v1/agents/:agent/versions/:version`: the upload as it was sent. */
export interface HostedSource {
  agent: string;
  version: number;
  created_at: string;
  created_by: string;
  content_type: string;
  source: string;
}

/** What the upload is conditional on: the version it was reviewed against, or that there is none yet. */
export type DeployCondition = { version: number } | { absent: true } | undefined;

/** The media type a manifest is sent as: JSON when the text is a JSON object, else YAML. */
export function manifestMediaType(text: string): "application/json" | "application/yaml" {
  if (!text.trimStart().startsWith("{")) return "application/yaml";
  try {
    JSON.parse(text);
    return "application/json";
  } catch {
    return "application/yaml";
  }
}

/** The If-Match / If-None-Match options of a {@link DeployCondition}. */
export function conditionHeaders(condition: DeployCondition): { ifMatch?: string; ifNoneMatch?: string } {
  if (!condition) return {};
  return "version" in condition ? { ifMatch: `"${condition.version}"` } : { ifNoneMatch: "*" };
}
