/**
 * OSSA v0.3.x `WorkflowSpec`: the `spec` of a `kind: Workflow` manifest, with
 * the recursive `WorkflowStep` and `Trigger` definitions. `steps` is required
 * and non-empty; unknown keys are allowed where the JSON Schema allows them.
 */
import { z } from "zod";
import {
  BackoffStrategySchema,
  JSONSchemaDefinitionSchema,
  JsonObjectSchema,
  LogLevelSchema,
  StringMapSchema,
} from "./ossa-common";

/** `Trigger`: what starts a workflow. */
export const TriggerSchema = z.looseObject({
  type: z.enum(["webhook", "cron", "event", "manual"]),
  path: z.string().optional(),
  schedule: z.string().optional(),
  source: z.string().optional(),
  event: z.string().optional(),
  filter: JsonObjectSchema.optional(),
});

/** `WorkflowStep`: one (possibly nested) step of a workflow. */
export const WorkflowStepSchema = z.looseObject({
  id: z.string().regex(/^[a-z][a-z0-9_-]*$/, { error: "Invalid step id: expected ^[a-z][a-z0-9_-]*$" }),
  name: z.string().optional(),
  kind: z.enum(["Task", "Agent", "Parallel", "Conditional", "Loop"]).optional(),
  ref: z.string().optional(),
  inline: JsonObjectSchema.optional(),
  input: JsonObjectSchema.optional(),
  output: z.looseObject({ to: z.string().optional(), fields: z.array(z.string()).optional() }).optional(),
  condition: z.string().optional(),
  depends_on: z.array(z.string()).optional(),
  get parallel() {
    return z.array(WorkflowStepSchema).optional();
  },
  get branches() {
    return z.array(z.looseObject({ condition: z.string(), steps: z.array(WorkflowStepSchema) })).optional();
  },
  get else() {
    return z.array(WorkflowStepSchema).optional();
  },
  loop: z
    .looseObject({
      over: z.string(),
      as: z.string().optional(),
      index: z.string().optional(),
      parallelism: z.int().min(1).optional(),
    })
    .optional(),
  get steps() {
    return z.array(WorkflowStepSchema).optional();
  },
  retry: z
    .looseObject({
      max_attempts: z.int().min(1).max(10).optional(),
      backoff_strategy: BackoffStrategySchema.optional(),
      initial_delay_ms: z.int().min(100).optional(),
      retryable_errors: z.array(z.string()).optional(),
    })
    .optional(),
  timeout_seconds: z.int().min(1).max(86400).optional(),
  continue_on_error: z.boolean().optional(),
  get on_error() {
    return z
      .looseObject({
        action: z.enum(["fail", "continue", "goto", "compensate"]).optional(),
        goto: z.string().optional(),
        compensation: WorkflowStepSchema.optional(),
      })
      .optional();
  },
  labels: StringMapSchema.optional(),
});

/** `WorkflowSpec`: triggers, I/O schemas and at least one step. */
export const WorkflowSpecSchema = z.looseObject({
  triggers: z.array(TriggerSchema).optional(),
  inputs: JSONSchemaDefinitionSchema.optional(),
  outputs: JSONSchemaDefinitionSchema.optional(),
  steps: z.array(WorkflowStepSchema).min(1),
  context: z
    .strictObject({
      variables: JsonObjectSchema.optional(),
      secrets: z.array(z.looseObject({ name: z.string(), ref: z.string() })).optional(),
    })
    .optional(),
  concurrency: z.strictObject({ group: z.string().optional(), cancel_in_progress: z.boolean().optional() }).optional(),
  error_handling: z
    .looseObject({
      on_failure: z.enum(["halt", "continue", "rollback", "notify", "compensate", "compensation"]).optional(),
      compensation_steps: z.array(WorkflowStepSchema).optional(),
      notification: z
        .looseObject({
          channels: z.array(z.enum(["email", "slack", "webhook", "pagerduty"])).optional(),
          template: z.string().optional(),
        })
        .optional(),
      retry_policy: z
        .looseObject({
          max_attempts: z.int().min(1).max(10).optional(),
          backoff: BackoffStrategySchema.optional(),
          initial_delay_ms: z.int().min(100).optional(),
          max_delay_ms: z.int().optional(),
        })
        .optional(),
    })
    .optional(),
  timeout_seconds: z.int().min(1).max(86400).optional(),
  observability: z
    .looseObject({
      tracing: z.looseObject({ enabled: z.boolean().optional(), propagate_context: z.boolean().optional() }).optional(),
      metrics: z.looseObject({ enabled: z.boolean().optional(), custom_labels: StringMapSchema.optional() }).optional(),
      logging: z.looseObject({ level: LogLevelSchema.optional() }).optional(),
    })
    .optional(),
});

/** The `spec` of a `kind: Workflow` manifest. */
export type OssaWorkflowSpec = z.infer<typeof WorkflowSpecSchema>;
/** One step of `spec.steps` (recursive). */
export type OssaWorkflowStep = z.infer<typeof WorkflowStepSchema>;
/** An entry of `spec.triggers`. */
export type OssaTrigger = z.infer<typeof TriggerSchema>;
