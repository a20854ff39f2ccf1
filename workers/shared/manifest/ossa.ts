/**
 * Zod schema for OSSA v0.3.x manifests (Open Standard for Software Agents),
 * hand-written to mirror the official JSON Schema `ossa-0.3.1.schema.json`:
 * `apiVersion`, `kind` (Agent | Task | Workflow), strict `metadata`, a `spec`
 * whose shape depends on `kind`, `extensions` (with strict `mcp` and, for
 * Zahara, strict `zahara`) and strict `runtime`.
 *
 * The sub-schemas live in the `ossa-*.ts` modules; this one assembles them.
 * Use {@link validateOssaManifest} rather than `OssaManifestSchema.safeParse`
 * to get every issue (also when `kind` is wrong) with readable messages.
 */
import { z } from "zod";
import { AgentSpecSchema } from "./ossa-agent-spec";
import { DNS1123_PATTERN, SEMVER_PATTERN, StringMapSchema } from "./ossa-common";
import { MCPExtensionSchema, RuntimeBindingSchema } from "./ossa-runtime";
import { TaskSpecSchema } from "./ossa-task-spec";
import { WorkflowSpecSchema } from "./ossa-workflow-spec";
import { ZaharaExtensionSchema } from "./zahara";

/** `apiVersion` pattern: ossa/v0.3.N (with suffixes), ossa/v0.2.2-9, ossa/v1. */
export const API_VERSION_PATTERN =
  /^ossa\/v(0\.3\.[0-9]+(-[a-zA-Z0-9]+)?|0\.2\.[2-9](-dev)?|1)(\.[0-9]+)?(-[a-zA-Z0-9]+)?$/;

/** `apiVersion`, e.g. `ossa/v0.3.1`. */
export const ApiVersionSchema = z.string().regex(API_VERSION_PATTERN, {
  error: "Invalid apiVersion: expected ossa/v0.3.x (or ossa/v0.2.2-9, ossa/v1)",
});

/** `kind`: Agent | Task | Workflow. */
export const OssaKindSchema = z.enum(["Agent", "Task", "Workflow"]);

/** `Metadata` (strict): DNS-1123 `name`, semver `version`, string `labels`/`annotations`. */
export const MetadataSchema = z.strictObject({
  name: z
    .string()
    .max(253)
    .regex(DNS1123_PATTERN, { error: "Invalid name: expected a DNS-1123 name (lowercase letters, digits and -)" }),
  version: z
    .string()
    .regex(SEMVER_PATTERN, { error: 'Invalid version: expected a semantic version without a leading "v", like 1.0.0' })
    .optional(),
  description: z.string().max(2000).optional(),
  labels: z.record(z.string(), z.string().max(63)).optional(),
  annotations: StringMapSchema.optional(),
});

/** Top-level `extensions`: any keys; `mcp` and `zahara` are validated when present. */
export const ExtensionsSchema = z.looseObject({
  mcp: MCPExtensionSchema.optional(),
  zahara: ZaharaExtensionSchema.optional(),
});

const envelope = {
  apiVersion: ApiVersionSchema,
  metadata: MetadataSchema,
  extensions: ExtensionsSchema.optional(),
  runtime: RuntimeBindingSchema.optional(),
};

/** A `kind: Agent` manifest; `spec` is required. */
export const OssaAgentManifestSchema = z.looseObject({ ...envelope, kind: z.literal("Agent"), spec: AgentSpecSchema });
/** A `kind: Task` manifest; `spec` is required. */
export const OssaTaskManifestSchema = z.looseObject({ ...envelope, kind: z.literal("Task"), spec: TaskSpecSchema });
/** A `kind: Workflow` manifest; `spec` is required. */
export const OssaWorkflowManifestSchema = z.looseObject({
  ...envelope,
  kind: z.literal("Workflow"),
  spec: WorkflowSpecSchema,
});

/** Any OSSA v0.3.x manifest, discriminated on `kind`. */
export const OssaManifestSchema = z.discriminatedUnion("kind", [
  OssaAgentManifestSchema,
  OssaTaskManifestSchema,
  OssaWorkflowManifestSchema,
]);

/**
 * The kind-independent part of a manifest, used when `kind` is missing or
 * unknown (the JSON Schema then still checks everything but `spec`).
 */
export const OssaManifestEnvelopeSchema = z.looseObject({
  ...envelope,
  kind: OssaKindSchema,
  spec: z.unknown().optional(),
});

/** Any valid OSSA manifest. */
export type OssaManifest = z.infer<typeof OssaManifestSchema>;
/** A valid `kind: Agent` manifest. */
export type OssaAgentManifest = z.infer<typeof OssaAgentManifestSchema>;
/** A valid `kind: Task` manifest. */
export type OssaTaskManifest = z.infer<typeof OssaTaskManifestSchema>;
/** A valid `kind: Workflow` manifest. */
export type OssaWorkflowManifest = z.infer<typeof OssaWorkflowManifestSchema>;
/** `metadata` of a manifest. */
export type OssaMetadata = z.infer<typeof MetadataSchema>;
/** Top-level `extensions` of a manifest. */
export type OssaExtensions = z.infer<typeof ExtensionsSchema>;
/** `kind` of a manifest. */
export type OssaKind = z.infer<typeof OssaKindSchema>;

function describeValue(input: unknown): string {
  if (input === null) return "null";
  if (input instanceof Date) return "a date (unquoted YAML timestamp; quote it to keep a string)";
  if (Array.isArray(input)) return "array";
  if (typeof input === "string") return `string "${input.length > 40 ? `${input.slice(0, 40)}…` : input}"`;
  if (typeof input === "number" || typeof input === "boolean") return `${typeof input} ${String(input)}`;
  return typeof input;
}

/** Error map giving short messages: `Required` for missing keys, and the received value for type errors. */
export const ossaErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.input === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value")) return "Required";
  if (issue.code !== "invalid_type") return undefined;
  return `Expected ${issue.expected}, received ${describeValue(issue.input)}`;
};

/** Result of {@link validateOssaManifest}. */
export type OssaValidationResult =
  { success: true; data: OssaManifest } | { success: false; issues: z.core.$ZodIssue[] };

/**
 * Validates parsed manifest data against {@link OssaManifestSchema}. When
 * `kind` is missing or unknown, the kind-independent fields are checked too,
 * so one run reports every problem.
 */
export function validateOssaManifest(data: unknown): OssaValidationResult {
  const result = OssaManifestSchema.safeParse(data, { error: ossaErrorMap });
  if (result.success) return { success: true, data: result.data };
  const unknownKind = result.error.issues.some((i) => i.code === "invalid_union" && i.path.join("/") === "kind");
  if (unknownKind) {
    const envelopeResult = OssaManifestEnvelopeSchema.safeParse(data, { error: ossaErrorMap });
    if (!envelopeResult.success) return { success: false, issues: envelopeResult.error.issues };
  }
  return { success: false, issues: result.error.issues };
}
