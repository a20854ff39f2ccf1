/**
 * OSSA v0.3.x `spec.identity` (definition `AgentIdentity`): the service
 * account an agent acts as on a code platform. Only the top level is strict;
 * the nested objects allow unknown keys, as in the JSON Schema.
 */
import { z } from "zod";
import { ENV_VAR_PATTERN, StringMapSchema, UriStringSchema, uniqueArray } from "./ossa-common";

/** Code platforms an identity can belong to. */
export const IdentityProviderSchema = z.enum(["gitlab", "github", "azure-devops", "bitbucket", "generic"]);

/** `service_account`: `username` and `email` are required. */
export const ServiceAccountSchema = z.looseObject({
  id: z.union([z.int(), z.string()]).optional(),
  username: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9_[\]-]+$/, { error: "Invalid username: expected lowercase letters, digits, _, -, [ or ]" }),
  email: z.email(),
  display_name: z.string().optional(),
  roles: z.array(z.enum(["developer", "maintainer", "owner", "reporter", "guest"])).optional(),
});

/** `token_source`: where the identity's token is read from. */
export const TokenSourceSchema = z.looseObject({
  env_var: z.string().regex(ENV_VAR_PATTERN, { error: "Invalid env_var: expected UPPER_SNAKE_CASE" }).optional(),
  file_path: z.string().optional(),
  vault: z
    .looseObject({ path: z.string().optional(), key: z.string().optional(), role: z.string().optional() })
    .optional(),
  kubernetes_secret: z
    .looseObject({ name: z.string().optional(), namespace: z.string().optional(), key: z.string().optional() })
    .optional(),
});

const AuthenticationSchema = z.looseObject({
  method: z
    .enum([
      "personal_access_token",
      "project_access_token",
      "group_access_token",
      "deploy_token",
      "oauth2",
      "ssh_key",
      "mtls",
      "github_app",
      "azure_service_principal",
    ])
    .optional(),
  scopes: z.array(z.string()).optional(),
  auto_refresh: z.boolean().optional(),
  expiry_warning_days: z.int().min(1).max(90).optional(),
  rotation_policy: z
    .looseObject({
      enabled: z.boolean().optional(),
      interval_days: z.int().min(7).max(365).optional(),
      notify_on_rotation: z.boolean().optional(),
    })
    .optional(),
});

const FallbackIdentitySchema = z.looseObject({
  provider: IdentityProviderSchema,
  service_account: ServiceAccountSchema,
  token_source: TokenSourceSchema.optional(),
  condition: z
    .looseObject({ pattern_match: z.array(z.string()).optional(), platform_unavailable: z.boolean().optional() })
    .optional(),
});

const DoraTrackingSchema = z.looseObject({
  enabled: z.boolean().optional(),
  metrics: uniqueArray(z.enum(["deployment_frequency", "lead_time", "change_failure_rate", "mttr"])).optional(),
  labels: StringMapSchema.optional(),
  prometheus: z.looseObject({ push_gateway: UriStringSchema.optional(), job_name: z.string().optional() }).optional(),
});

const SessionSchema = z.looseObject({
  init_on_start: z.boolean().optional(),
  propagate_to_subprocesses: z.boolean().optional(),
  git_attribution: z.boolean().optional(),
  heartbeat_interval: z.int().min(30).max(3600).optional(),
  timeout: z.int().min(60).max(86400).optional(),
  hooks: z.looseObject({ pre_prompt_submit: z.boolean().optional(), post_session: z.boolean().optional() }).optional(),
});

const IdentityObservabilitySchema = z.looseObject({
  service_name: z.string().optional(),
  service_namespace: z.string().optional(),
  service_version: z
    .string()
    .regex(/^[0-9]+\.[0-9]+\.[0-9]+(-[a-zA-Z0-9.]+)?$/, { error: "Invalid service_version: expected x.y.z[-pre]" })
    .optional(),
  service_instance_id: z.string().optional(),
  resource_attributes: StringMapSchema.optional(),
});

const IdentitySecuritySchema = z.looseObject({
  token_encryption: z.enum(["none", "at_rest", "in_transit", "both"]).optional(),
  minimum_token_length: z.int().optional(),
  prohibited_actions: z.array(z.string()).optional(),
  required_approvals: z
    .looseObject({
      force_push: z.boolean().optional(),
      delete_protected_branch: z.boolean().optional(),
      modify_ci_config: z.boolean().optional(),
    })
    .optional(),
  rate_limits: z
    .looseObject({
      requests_per_minute: z.int().optional(),
      requests_per_hour: z.int().optional(),
      git_operations_per_hour: z.int().optional(),
    })
    .optional(),
});

/** `AgentIdentity` (strict at the top level): `spec.identity`. */
export const AgentIdentitySchema = z.strictObject({
  provider: IdentityProviderSchema.optional(),
  service_account: ServiceAccountSchema.optional(),
  authentication: AuthenticationSchema.optional(),
  token_source: TokenSourceSchema.optional(),
  patterns: z.array(z.string()).optional(),
  fallback: z.array(FallbackIdentitySchema).optional(),
  dora_tracking: DoraTrackingSchema.optional(),
  session: SessionSchema.optional(),
  observability: IdentityObservabilitySchema.optional(),
  security: IdentitySecuritySchema.optional(),
});

/** `spec.identity` of an agent. */
export type OssaAgentIdentity = z.infer<typeof AgentIdentitySchema>;
