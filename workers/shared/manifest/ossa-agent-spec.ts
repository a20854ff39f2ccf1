/**
 * OSSA v0.3.x `AgentSpec`: the `spec` of a `kind: Agent` manifest, with its
 * `Tool`, `Capability` and `FunctionDefinition` definitions and the inline
 * `compliance` / `lifecycle` objects. The spec itself allows unknown keys.
 */
import { z } from "zod";
import { JSONSchemaDefinitionSchema, JsonObjectSchema, uniqueArray } from "./ossa-common";
import { AgentIdentitySchema } from "./ossa-identity";
import { LLMConfigSchema } from "./ossa-llm";
import { MessagingExtensionSchema } from "./ossa-messaging";
import {
  AgentObservabilitySchema,
  AutonomySchema,
  ConstraintsSchema,
  SafetySchema,
  StateSchema,
} from "./ossa-agent-ops";

/** Tool types the OSSA schema knows. */
export const TOOL_TYPES = [
  "mcp",
  "kubernetes",
  "http",
  "api",
  "grpc",
  "function",
  "a2a",
  "webhook",
  "schedule",
  "pipeline",
  "workflow",
  "artifact",
  "git-commit",
  "ci-status",
  "comment",
  "library",
  "custom",
] as const;

/** `Capability`: a bare name, or an object with a `name` and optional schemas. */
export const CapabilitySchema = z.union(
  [
    z.string(),
    z.looseObject({
      name: z.string(),
      description: z.string().optional(),
      version: z.string().optional(),
      scopes: z.array(z.string()).optional(),
      transport: JsonObjectSchema.optional(),
      input_schema: JsonObjectSchema.optional(),
      output_schema: JsonObjectSchema.optional(),
    }),
  ],
  { error: "Invalid capability: expected a string or an object with a string name" },
);

/** `Tool`: `type` is required; unknown keys (e.g. `input_schema`) are allowed. */
export const ToolSchema = z.looseObject({
  type: z.enum(TOOL_TYPES),
  name: z.string().optional(),
  capabilities: z.array(CapabilitySchema).optional(),
});

/** `FunctionDefinition` (strict): an OpenAI-style function; `name`, `description`, `parameters` are required. */
export const FunctionDefinitionSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: "Invalid function name: expected ^[a-zA-Z_][a-zA-Z0-9_]*$" }),
  description: z.string(),
  parameters: JSONSchemaDefinitionSchema,
  returns: JSONSchemaDefinitionSchema.optional(),
  strict: z.boolean().optional(),
});

/** `spec.compliance` (strict). */
export const ComplianceSchema = z.strictObject({
  frameworks: uniqueArray(z.enum(["SOC2", "HIPAA", "GDPR", "FedRAMP", "PCI-DSS", "ISO27001"])).optional(),
  data_residency: z.string().optional(),
  audit_logging: z.enum(["required", "optional", "disabled"]).optional(),
  pii_handling: z.enum(["encrypt_at_rest", "anonymize", "redact", "none"]).optional(),
});

/** `spec.lifecycle` (strict): per-environment settings and dependencies. */
export const LifecycleSchema = z.strictObject({
  environments: z.record(z.string(), JsonObjectSchema).optional(),
  dependencies: z
    .array(
      z.strictObject({
        name: z.string(),
        version: z.string(),
        type: z.enum(["runtime", "build", "optional"]).optional(),
        source: z.string().optional(),
      }),
    )
    .optional(),
});

/** `AgentSpec`: every field is optional; unknown keys are allowed. */
export const AgentSpecSchema = z.looseObject({
  role: z.string().min(1).optional(),
  prompts: z
    .looseObject({
      system: z.looseObject({ template: z.string().optional(), version: z.string().optional() }).optional(),
    })
    .optional(),
  llm: LLMConfigSchema.optional(),
  tools: z.array(ToolSchema).optional(),
  autonomy: AutonomySchema.optional(),
  constraints: ConstraintsSchema.optional(),
  state: StateSchema.optional(),
  observability: AgentObservabilitySchema.optional(),
  safety: SafetySchema.optional(),
  messaging: MessagingExtensionSchema.optional(),
  functions: z.array(FunctionDefinitionSchema).optional(),
  identity: AgentIdentitySchema.optional(),
  compliance: ComplianceSchema.optional(),
  lifecycle: LifecycleSchema.optional(),
});

/** The `spec` of a `kind: Agent` manifest. */
export type OssaAgentSpec = z.infer<typeof AgentSpecSchema>;
/** An entry of `spec.tools`. */
export type OssaTool = z.infer<typeof ToolSchema>;
/** A tool `type`. */
export type OssaToolType = (typeof TOOL_TYPES)[number];
/** An entry of `spec.tools[].capabilities`. */
export type OssaCapability = z.infer<typeof CapabilitySchema>;
/** An entry of `spec.functions`. */
export type OssaFunctionDefinition = z.infer<typeof FunctionDefinitionSchema>;
/** `spec.compliance`. */
export type OssaCompliance = z.infer<typeof ComplianceSchema>;
/** `spec.lifecycle`. */
export type OssaLifecycle = z.infer<typeof LifecycleSchema>;
