/**
 * Typed client of the gateway's hosted-agent API (admin scope, through the dashboard's proxy like every other
 * gateway call): upload a manifest as a new version (`PUT /v1/agents/:agent`, conditional on the version it was
 * reviewed against), list the hosted agents and their kept versions, read a version's source as uploaded, roll back
 * and delete. Like `api`, every call resolves to an {@link ApiResult} and never throws. The answers' types are the
 * gateway's own (./hosted.ts, re-exported here).
 */
import { type ApiResult, type CallOptions, call } from "./api";
import {
  type DeployCondition,
  type DeployResult,
  type HostedAgentView,
  type HostedLimits,
  type HostedSource,
  type HostedVersions,
  conditionHeaders,
  manifestMediaType,
} from "./hosted";

export * from "./hosted";

const agentPath = (name: string) => `/api/gw/v1/agents/${encodeURIComponent(name)}`;

/** The hosted-agent API. */
export const hostedApi = {
  /** The hosted agents and the gateway's limits; a gateway without them answers 404 `NOT_FOUND`. */
  list: (opts?: CallOptions): Promise<ApiResult<{ agents: HostedAgentView[]; limits: HostedLimits }>> =>
    call("GET", "/api/gw/v1/agents", undefined, opts),
  /** Uploads `text` as the agent's next version; 400 `INVALID_MANIFEST` carries `details.issues` with their lines. */
  deploy: (
    name: string,
    text: string,
    condition: DeployCondition,
    opts?: CallOptions,
  ): Promise<ApiResult<DeployResult>> =>
    call(
      "PUT",
      agentPath(name),
      { raw: text, contentType: manifestMediaType(text) },
      {
        ...opts,
        ...conditionHeaders(condition),
      },
    ),
  /** The kept versions; 404 `AGENT_NOT_FOUND` when no hosted agent has this name. */
  versions: (name: string, opts?: CallOptions): Promise<ApiResult<HostedVersions>> =>
    call("GET", `${agentPath(name)}/versions`, undefined, opts),
  source: (name: string, version: number, opts?: CallOptions): Promise<ApiResult<HostedSource>> =>
    call("GET", `${agentPath(name)}/versions/${version}`, undefined, opts),
  /** Serves a kept version again; 404 `VERSION_NOT_FOUND` when it is not kept. */
  rollback: (
    name: string,
    version: number,
    opts?: CallOptions,
  ): Promise<ApiResult<{ agent: HostedAgentView; rolled_back_from: number }>> =>
    call("POST", `${agentPath(name)}/rollback`, { version }, opts),
  remove: (name: string, opts?: CallOptions): Promise<ApiResult<{ deleted: string }>> =>
    call("DELETE", agentPath(name), undefined, opts),
};
