/**
 * OSSA v0.3.x `spec.llm` (definitions `LLMConfig`, `FallbackLLM`,
 * `RetryConfig`, `CostTracking`, `ExecutionProfiles`, `ExecutionProfileConfig`).
 */
import { z } from "zod";
import { ENV_REF_PATTERN, StringMapSchema } from "./ossa-common";

/** Providers the OSSA schema knows by name. */
export const LLM_PROVIDERS = [
  "openai",
  "anthropic",
  "google",
  "azure",
  "ollama",
  "mistral",
  "cohere",
  "groq",
  "together",
  "fireworks",
  "deepseek",
  "custom",
] as const;

const PROVIDER_MESSAGE = `Invalid provider: expected one of ${LLM_PROVIDERS.join("|")} or an env reference like \${LLM_PROVIDER:-openai}`;
const PROFILE_MESSAGE =
  "Invalid profile: expected one of fast|balanced|deep|safe or an env reference like ${LLM_PROFILE:-balanced}";

/** `provider`: a known provider name or an env reference such as `${LLM_PROVIDER:-openai}`. */
export const LLMProviderSchema = z.union(
  [z.enum(LLM_PROVIDERS), z.string().regex(ENV_REF_PATTERN, { error: PROVIDER_MESSAGE })],
  { error: (issue) => (issue.input === undefined ? "Required" : PROVIDER_MESSAGE) },
);

/** `profile`: fast|balanced|deep|safe or an env reference. */
export const LLMProfileSchema = z.union(
  [z.enum(["fast", "balanced", "deep", "safe"]), z.string().regex(ENV_REF_PATTERN, { error: PROFILE_MESSAGE })],
  { error: PROFILE_MESSAGE },
);

/** `temperature`: number in [0, 2]. */
const TemperatureSchema = z.number().min(0).max(2);

/** `RetryConfig` (strict): retries of calls to the model itself. */
export const RetryConfigSchema = z.strictObject({
  max_attempts: z.int().min(1).max(10).optional(),
  backoff_strategy: z.enum(["none", "linear", "exponential"]).optional(),
  initial_delay_ms: z.int().min(0).optional(),
  max_delay_ms: z.int().min(0).optional(),
});

/** `CostTracking` (strict). */
export const CostTrackingSchema = z.strictObject({
  enabled: z.boolean().optional(),
  budget_alert_threshold: z.number().min(0).optional(),
  cost_allocation_tags: StringMapSchema.optional(),
});

/** `ExecutionProfileConfig` (strict). */
export const ExecutionProfileConfigSchema = z.strictObject({
  description: z.string().optional(),
  maxTokens: z.int().min(1).optional(),
  temperature: TemperatureSchema.optional(),
  reasoning_enabled: z.boolean().optional(),
  validation_required: z.boolean().optional(),
  audit_log: z.boolean().optional(),
});

/** `ExecutionProfiles`: a default profile name and named profile configs. */
export const ExecutionProfilesSchema = z.looseObject({
  default: z.string().optional(),
  profiles: z.record(z.string(), ExecutionProfileConfigSchema).optional(),
});

/** `FallbackLLM`: a model tried when the primary one fails. */
export const FallbackLLMSchema = z.looseObject({
  provider: LLMProviderSchema,
  model: z.string(),
  temperature: TemperatureSchema.optional(),
  trigger: z
    .looseObject({
      on_error: z.boolean().optional(),
      max_retries: z.int().optional(),
      error_codes: z.array(z.int()).optional(),
      latency_threshold_ms: z.int().optional(),
    })
    .optional(),
});

/** `LLMConfig`: `provider` and `model` are required; unknown keys are allowed. */
export const LLMConfigSchema = z.looseObject({
  provider: LLMProviderSchema,
  model: z.string(),
  temperature: TemperatureSchema.optional(),
  maxTokens: z.int().min(1).optional(),
  fallback_models: z.array(FallbackLLMSchema).optional(),
  retry_config: RetryConfigSchema.optional(),
  cost_tracking: CostTrackingSchema.optional(),
  profile: LLMProfileSchema.optional(),
  execution_profiles: ExecutionProfilesSchema.optional(),
});

/** `spec.llm` of an agent. */
export type OssaLlmConfig = z.infer<typeof LLMConfigSchema>;
/** An entry of `spec.llm.fallback_models`. */
export type OssaFallbackLlm = z.infer<typeof FallbackLLMSchema>;
/** `spec.llm.retry_config`. */
export type OssaRetryConfig = z.infer<typeof RetryConfigSchema>;
/** `spec.llm.cost_tracking`. */
export type OssaCostTracking = z.infer<typeof CostTrackingSchema>;
/** A provider name or env reference. */
export type OssaLlmProvider = z.infer<typeof LLMProviderSchema>;
