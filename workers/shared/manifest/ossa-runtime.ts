/**
 * Top-level siblings of `spec` in an OSSA v0.3.x manifest: `runtime`
 * (definition `RuntimeBinding`, strict) and the MCP extension under
 * `extensions.mcp` (definitions `MCPExtension`, `MCPTool`, `MCPResource`,
 * `MCPPrompt`, `MCPPromptArgument`).
 */
import { z } from "zod";
import { JSONSchemaDefinitionSchema, JsonObjectSchema, UriStringSchema, uniqueArray } from "./ossa-common";

/** `SchedulingConfig` (strict). */
export const SchedulingConfigSchema = z.strictObject({
  strategy: z.enum(["fair", "priority", "deadline", "cost-optimized"]).optional(),
  priority: z.enum(["critical", "high", "normal", "low", "background"]).optional(),
  max_concurrent: z.int().min(1).optional(),
  timeout_seconds: z.int().min(1).optional(),
});

/** `ResourceLimits` (strict). */
export const ResourceLimitsSchema = z.strictObject({
  memory_mb: z.int().min(64).optional(),
  cpu_millicores: z.int().min(100).optional(),
  gpu_required: z.boolean().optional(),
  gpu_type: z.string().optional(),
});

/** `RuntimeExtension` (strict): `type` and `name` are required. */
export const RuntimeExtensionSchema = z.strictObject({
  type: z.enum(["http", "grpc", "mcp", "websocket", "kafka", "pubsub"]),
  name: z.string(),
  endpoint: z.string().optional(),
  credentials_ref: z.string().optional(),
});

/** `RuntimeBinding` (strict): the top-level `runtime`. */
export const RuntimeBindingSchema = z.strictObject({
  type: z
    .enum([
      "unified",
      "google-a2a",
      "gitlab-duo",
      "ossa-mesh",
      "mcp",
      "local",
      "drupal",
      "symfony_messenger",
      "kagent",
      "temporal",
      "node",
    ])
    .optional(),
  supports: uniqueArray(
    z.enum([
      "google-a2a",
      "gitlab-duo",
      "ossa-mesh",
      "mcp",
      "local-execution",
      "kubernetes",
      "serverless",
      "lambda",
      "cloudflare-workers",
      "drupal",
      "symfony",
    ]),
  ).optional(),
  transport: z.string().optional(),
  scheduling: SchedulingConfigSchema.optional(),
  resource_limits: ResourceLimitsSchema.optional(),
  extensions: z.array(RuntimeExtensionSchema).optional(),
  bindings: z
    .record(
      z.string(),
      z.strictObject({
        handler: z.string().optional(),
        mcp_server: z.string().optional(),
        tool: z.string().optional(),
        config: JsonObjectSchema.optional(),
      }),
    )
    .optional(),
});

/** `MCPTool`: `name` is required; unknown keys are allowed. */
export const MCPToolSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  input_schema: JSONSchemaDefinitionSchema.optional(),
  inputSchema: JSONSchemaDefinitionSchema.optional(),
});

/** `MCPResource` (strict): `uri` (absolute URI) and `name` are required. */
export const MCPResourceSchema = z.strictObject({
  uri: UriStringSchema,
  name: z.string(),
  description: z.string().optional(),
  mimeType: z.string().optional(),
  metadata: JsonObjectSchema.optional(),
});

/** `MCPPrompt` (strict) with strict `arguments`. */
export const MCPPromptSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  arguments: z
    .array(z.strictObject({ name: z.string(), description: z.string().optional(), required: z.boolean().optional() }))
    .optional(),
});

/** `MCPExtension` (strict): `extensions.mcp`. */
export const MCPExtensionSchema = z.strictObject({
  enabled: z.boolean().optional(),
  server_type: z.enum(["stdio", "http", "sse"]).optional(),
  server_name: z.string().optional(),
  tools: z.array(MCPToolSchema).optional(),
  resources: z.array(MCPResourceSchema).optional(),
  prompts: z.array(MCPPromptSchema).optional(),
});

/** The top-level `runtime` of a manifest. */
export type OssaRuntimeBinding = z.infer<typeof RuntimeBindingSchema>;
/** `extensions.mcp`. */
export type OssaMcpExtension = z.infer<typeof MCPExtensionSchema>;
/** An entry of `extensions.mcp.tools`. */
export type OssaMcpTool = z.infer<typeof MCPToolSchema>;
