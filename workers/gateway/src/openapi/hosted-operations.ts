/**
 * The hosted-agent operations of the OpenAPI document (routes/hosted-agents.ts,
 * docs/hosted-agents.md) and the schemas of their answers, each held to the
 * TypeScript type the route answers with, as in admin-schemas.ts.
 */
import * as z from "zod/mini";
import type { HostedAgentView, HostedLimits, HostedVersionView } from "../hosted/types";
import type { HostedIssue } from "../../../shared/manifest/hosted";
import { RollbackSchema } from "../routes/hosted-agents";
import { ADMIN_HEADERS, JSON_BODY_ERRORS, type Operation, body, json } from "./operation";
import {
  type Expect,
  IsoTime,
  JsonObject,
  RequestId,
  type Same,
  named,
  requestRegistry,
  responseRegistry,
} from "./schemas";

const HostedAgentSchema = named(
  responseRegistry,
  z.strictObject({
    name: z.string(),
    display_name: z.string(),
    version: z.int(),
    versions: z.int(),
    updated_at: IsoTime,
    updated_by: z.string(),
    digest: z.string(),
  }),
  { id: "HostedAgent" },
);
type _Agent = Expect<Same<z.output<typeof HostedAgentSchema>, HostedAgentView>>;

const LimitsSchema = z.strictObject({ max_agents: z.int(), max_versions: z.int(), max_manifest_bytes: z.int() });
type _Limits = Expect<Same<z.output<typeof LimitsSchema>, HostedLimits>>;

const VersionSchema = z.strictObject({
  version: z.int(),
  created_at: IsoTime,
  created_by: z.string(),
  digest: z.string(),
  size_bytes: z.int(),
  current: z.boolean(),
});
type _Version = Expect<Same<z.output<typeof VersionSchema>, HostedVersionView>>;

/** A problem found in a manifest: where (`path`, 1-based `line` and `column`) and what. */
export const ManifestIssueSchema = named(
  responseRegistry,
  z.strictObject({
    path: z.string(),
    message: z.string(),
    line: z.optional(z.int()),
    column: z.optional(z.int()),
    severity: z.enum(["error", "warning"]),
  }),
  { id: "ManifestIssue" },
);
type _Issue = Expect<Same<z.output<typeof ManifestIssueSchema>, HostedIssue>>;

const HostedListSchema = named(
  responseRegistry,
  z.strictObject({ agents: z.array(HostedAgentSchema), limits: LimitsSchema, request_id: RequestId }),
  { id: "HostedAgentList" },
);
const DeployedSchema = named(
  responseRegistry,
  z.strictObject({
    agent: HostedAgentSchema,
    created: z.boolean(),
    warnings: z.array(ManifestIssueSchema),
    request_id: RequestId,
  }),
  { id: "HostedAgentDeployed" },
);
const VersionsSchema = named(
  responseRegistry,
  z.strictObject({ agent: z.string(), current: z.int(), versions: z.array(VersionSchema), request_id: RequestId }),
  { id: "HostedAgentVersions" },
);
const VersionSourceSchema = named(
  responseRegistry,
  z.strictObject({
    agent: z.string(),
    version: z.int(),
    source: z.string(),
    content_type: z.string(),
    created_at: IsoTime,
    created_by: z.string(),
    request_id: RequestId,
  }),
  { id: "HostedAgentVersion" },
);
const RolledBackSchema = named(
  responseRegistry,
  z.strictObject({ agent: HostedAgentSchema, rolled_back_from: z.int(), request_id: RequestId }),
  { id: "HostedAgentRolledBack" },
);
const DeletedSchema = named(responseRegistry, z.strictObject({ deleted: z.string(), request_id: RequestId }), {
  id: "HostedAgentDeleted",
});

const ManifestYaml = named(requestRegistry, z.string(), { id: "ManifestYaml", description: "An OSSA manifest, YAML" });
const ManifestJson = named(requestRegistry, JsonObject, { id: "ManifestJson", description: "An OSSA manifest, JSON" });

/** The hosted-agent operations, in the order of docs/hosted-agents.md. */
export const HOSTED_OPERATIONS: readonly Operation[] = [
  {
    id: "listHostedAgents",
    method: "GET",
    path: "/v1/agents",
    tag: "agents",
    summary: "The hosted agents and this gateway's limits",
    access: "admin",
    answers: [json(HostedListSchema, "The hosted agents")],
    errors: [503],
  },
  {
    id: "deployHostedAgent",
    method: "PUT",
    path: "/v1/agents/:agent",
    tag: "agents",
    summary: "Validates a manifest and serves it as the agent's next version (audited)",
    access: "admin",
    headers: [...ADMIN_HEADERS, "IfMatch", "IfNoneMatch"],
    upload: {
      description: "The manifest, as `npm run manifests:check` checks it (INVALID_MANIFEST names each problem's line)",
      media: { "application/yaml": ManifestYaml, "application/json": ManifestJson },
    },
    answers: [
      { ...json(DeployedSchema, "A new agent, served", 201), headers: { ETag: 'The version served, as `"1"`' } },
      { ...json(DeployedSchema, "A new version, served"), headers: { ETag: 'The version served, as `"2"`' } },
    ],
    errors: [...JSON_BODY_ERRORS, 409, 412, 503],
  },
  {
    id: "listHostedAgentVersions",
    method: "GET",
    path: "/v1/agents/:agent/versions",
    tag: "agents",
    summary: "The kept versions of a hosted agent, newest first",
    access: "admin",
    answers: [json(VersionsSchema, "The versions")],
    errors: [400, 404, 503],
  },
  {
    id: "getHostedAgentVersion",
    method: "GET",
    path: "/v1/agents/:agent/versions/:version",
    tag: "agents",
    summary: "One kept version, its manifest as uploaded",
    access: "admin",
    answers: [json(VersionSourceSchema, "The version")],
    errors: [400, 404, 503],
  },
  {
    id: "rollbackHostedAgent",
    method: "POST",
    path: "/v1/agents/:agent/rollback",
    tag: "agents",
    summary: "Serves a kept version again (audited)",
    access: "admin",
    headers: ADMIN_HEADERS,
    body: body(RollbackSchema, "Rollback"),
    answers: [json(RolledBackSchema, "The agent, at the version asked for")],
    errors: [...JSON_BODY_ERRORS, 404, 503],
  },
  {
    id: "deleteHostedAgent",
    method: "DELETE",
    path: "/v1/agents/:agent",
    tag: "agents",
    summary: "Deletes a hosted agent and its versions (audited); calls already routed to it finish",
    access: "admin",
    headers: ADMIN_HEADERS,
    answers: [json(DeletedSchema, "Deleted")],
    errors: [400, 404, 503],
  },
];
