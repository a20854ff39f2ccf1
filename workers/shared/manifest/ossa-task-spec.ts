/**
 * OSSA v0.3.x `TaskSpec`: the `spec` of a `kind: Task` manifest (a
 * deterministic, non-LLM unit of work). Strict, as in the JSON Schema;
 * `execution.type` is required.
 */
import { z } from "zod";
import {
  BackoffStrategySchema,
  JSONSchemaDefinitionSchema,
  LogLevelSchema,
  SNAKE_ID_PATTERN,
  StringMapSchema,
  uniqueArray,
} from "./ossa-common";

const ErrorActionSchema = z.enum(["fail", "retry", "fallback", "ignore"]);

const ConditionSchema = z.strictObject({ expression: z.string(), error_message: z.string().optional() });

/** `TaskSpec.execution` (strict). */
export const TaskExecutionSchema = z.strictObject({
  type: z.enum(["deterministic", "idempotent", "transactional"]),
  runtime: z.string().optional(),
  entrypoint: z.string().optional(),
  timeout_seconds: z.int().min(1).max(86400).optional(),
});

/** `TaskSpec.batch` (strict). */
export const TaskBatchSchema = z.strictObject({
  enabled: z.boolean().optional(),
  parallelism: z.int().min(1).max(1000).optional(),
  chunk_size: z.int().min(1).optional(),
  retry: z
    .strictObject({
      max_attempts: z.int().min(1).max(10).optional(),
      backoff_strategy: BackoffStrategySchema.optional(),
      initial_delay_ms: z.int().min(100).optional(),
    })
    .optional(),
  on_item_error: z.enum(["skip", "fail", "retry"]).optional(),
});

/** `TaskSpec` (strict). */
export const TaskSpecSchema = z.strictObject({
  execution: TaskExecutionSchema,
  capabilities: uniqueArray(
    z.string().regex(SNAKE_ID_PATTERN, { error: "Invalid capability: expected snake_case matching ^[a-z][a-z0-9_]*$" }),
  ).optional(),
  input: JSONSchemaDefinitionSchema.optional(),
  output: JSONSchemaDefinitionSchema.optional(),
  batch: TaskBatchSchema.optional(),
  dependencies: z
    .array(
      z.strictObject({
        ref: z.string(),
        kind: z.enum(["Task", "Agent"]).optional(),
        optional: z.boolean().optional(),
      }),
    )
    .optional(),
  preconditions: z.array(ConditionSchema).optional(),
  postconditions: z.array(ConditionSchema).optional(),
  error_handling: z
    .strictObject({
      on_error: ErrorActionSchema.optional(),
      fallback_task: z.string().optional(),
      error_mapping: z.record(z.string(), ErrorActionSchema).optional(),
    })
    .optional(),
  observability: z
    .strictObject({
      logging: z
        .looseObject({
          level: LogLevelSchema.optional(),
          include_input: z.boolean().optional(),
          include_output: z.boolean().optional(),
        })
        .optional(),
      metrics: z.looseObject({ enabled: z.boolean().optional(), custom_labels: StringMapSchema.optional() }).optional(),
      tracing: z
        .looseObject({ enabled: z.boolean().optional(), sample_rate: z.number().min(0).max(1).optional() })
        .optional(),
    })
    .optional(),
});

/** The `spec` of a `kind: Task` manifest. */
export type OssaTaskSpec = z.infer<typeof TaskSpecSchema>;
