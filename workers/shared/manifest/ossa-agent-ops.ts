/**
 * Operational parts of an OSSA v0.3.x agent spec: `autonomy`, `constraints`,
 * `state`, `observability` and `safety` (definitions `Autonomy`,
 * `Constraints`, `State`, `AgentObservability`, `Safety`). All of them allow
 * unknown keys, as in the JSON Schema.
 */
import { z } from "zod";
import { JsonObjectSchema, LogLevelSchema } from "./ossa-common";

/** Autonomy levels (snake_case: `semi-autonomous` is rejected). */
export const AutonomyLevelSchema = z.enum([
  "supervised",
  "assisted",
  "semi_autonomous",
  "autonomous",
  "fully_autonomous",
]);

/** `Autonomy`: how much the agent may do without a human. */
export const AutonomySchema = z.looseObject({
  level: AutonomyLevelSchema.optional(),
  approval_required: z
    .union([z.boolean(), z.array(z.string())], {
      error: "Invalid approval_required: expected a boolean or a list of strings",
    })
    .optional(),
  allowed_actions: z.array(z.string()).optional(),
  blocked_actions: z.array(z.string()).optional(),
  escalation_policy: z
    .looseObject({ triggers: z.array(z.string()).optional(), notify: z.array(z.string()).optional() })
    .optional(),
});

/** `Constraints`: cost, performance and resource limits (nested, not flat). */
export const ConstraintsSchema = z.looseObject({
  cost: z
    .looseObject({
      maxTokensPerDay: z.int().optional(),
      maxTokensPerRequest: z.int().optional(),
      maxCostPerDay: z.number().optional(),
      currency: z.string().optional(),
    })
    .optional(),
  performance: z
    .looseObject({
      maxLatencySeconds: z.number().optional(),
      maxConcurrentRequests: z.int().optional(),
      timeoutSeconds: z.number().optional(),
    })
    .optional(),
  resources: z.looseObject({ cpu: z.string().optional(), memory: z.string().optional() }).optional(),
});

/** `State`: `storage` must be an object (not a backend name string). */
export const StateSchema = z.looseObject({
  mode: z.enum(["stateless", "session", "long_running"]).optional(),
  storage: z
    .looseObject({
      type: z.enum(["memory", "vector-db", "kv", "rdbms", "custom"]).optional(),
      retention: z.string().optional(),
      config: z
        .looseObject({
          provider: z.string().optional(),
          prefix: z.string().optional(),
          endpoint: z.string().optional(),
        })
        .optional(),
      encryption: z
        .looseObject({
          enabled: z.boolean().optional(),
          algorithm: z.string().optional(),
          keyRef: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
  context_window: z
    .looseObject({
      max_messages: z.int().optional(),
      max_tokens: z.int().optional(),
      strategy: z.enum(["truncation", "summarization", "sliding_window"]).optional(),
    })
    .optional(),
});

const exporterFields = {
  enabled: z.boolean().optional(),
  exporter: z.string().optional(),
  endpoint: z.string().optional(),
};

/** `AgentObservability`: `metrics` is an object (its custom metrics go under `customMetrics`). */
export const AgentObservabilitySchema = z.looseObject({
  tracing: z.looseObject(exporterFields).optional(),
  metrics: z
    .looseObject({
      ...exporterFields,
      port: z.int().optional(),
      customMetrics: z
        .array(
          z.looseObject({
            name: z.string().optional(),
            type: z.enum(["counter", "gauge", "histogram"]).optional(),
            description: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  logging: z.looseObject({ level: LogLevelSchema.optional(), format: z.enum(["json", "text"]).optional() }).optional(),
  alerting: z
    .looseObject({
      enabled: z.boolean().optional(),
      channels: z.array(z.string()).optional(),
      rules: z.array(JsonObjectSchema).optional(),
    })
    .optional(),
  slo: z
    .looseObject({
      availability: z.number().optional(),
      latency_p95_ms: z.int().optional(),
      error_budget: z.number().optional(),
    })
    .optional(),
});

const filterAction = z.enum(["warn", "block", "redact"]);

/** `Safety`: content filtering, PII detection, rate limiting, guardrails, human-in-the-loop. */
export const SafetySchema = z.looseObject({
  content_filtering: z
    .looseObject({
      enabled: z.boolean().optional(),
      categories: z.array(z.string()).optional(),
      threshold: z.enum(["low", "medium", "high"]).optional(),
      action: filterAction.optional(),
    })
    .optional(),
  pii_detection: z
    .looseObject({
      enabled: z.boolean().optional(),
      types: z.array(z.string()).optional(),
      action: filterAction.optional(),
    })
    .optional(),
  rate_limiting: z
    .looseObject({
      enabled: z.boolean().optional(),
      requests_per_minute: z.int().optional(),
      burst_limit: z.int().optional(),
    })
    .optional(),
  guardrails: z
    .looseObject({
      enabled: z.boolean().optional(),
      policies: z.array(JsonObjectSchema).optional(),
      max_tool_calls: z.int().optional(),
      max_execution_time_seconds: z.int().optional(),
    })
    .optional(),
  human_in_loop: z
    .looseObject({ enabled: z.boolean().optional(), triggers: z.array(z.string()).optional() })
    .optional(),
});

/** `spec.autonomy`. */
export type OssaAutonomy = z.infer<typeof AutonomySchema>;
/** `spec.constraints`. */
export type OssaConstraints = z.infer<typeof ConstraintsSchema>;
/** `spec.state`. */
export type OssaState = z.infer<typeof StateSchema>;
/** `spec.observability` of an agent. */
export type OssaAgentObservability = z.infer<typeof AgentObservabilitySchema>;
/** `spec.safety`. */
export type OssaSafety = z.infer<typeof SafetySchema>;
