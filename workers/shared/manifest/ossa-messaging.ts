/**
 * OSSA v0.3.x `spec.messaging` (definitions `MessagingExtension`,
 * `PublishedChannel`, `Subscription`, `Command`, `ReliabilityConfig`).
 */
import { z } from "zod";
import { CHANNEL_PATTERN, JsonObjectSchema, SNAKE_ID_PATTERN } from "./ossa-common";

const channelName = z.string().regex(CHANNEL_PATTERN, {
  error: "Invalid channel: expected dot-separated snake_case segments such as security.alerts",
});

const DELIVERY = [
  "at-least-once",
  "at-most-once",
  "exactly-once",
  "at_least_once",
  "at_most_once",
  "exactly_once",
] as const;

/** `PublishedChannel` (strict): a channel the agent publishes to; `schema` is required. */
export const PublishedChannelSchema = z.strictObject({
  channel: channelName,
  description: z.string().optional(),
  schema: JsonObjectSchema,
  contentType: z.string().optional(),
  examples: z.array(JsonObjectSchema).optional(),
  tags: z.array(z.string()).optional(),
});

/** `Subscription` (strict): a channel the agent consumes. */
export const SubscriptionSchema = z.strictObject({
  channel: channelName,
  description: z.string().optional(),
  schema: JsonObjectSchema.optional(),
  handler: z.string().optional(),
  filter: z
    .looseObject({
      expression: z.string().optional(),
      fields: JsonObjectSchema.optional(),
    })
    .optional(),
  priority: z.enum(["low", "normal", "high", "critical"]).optional(),
  maxConcurrency: z.int().min(1).optional(),
});

/** `Command`: a request/response operation; `name` must be snake_case. */
export const CommandSchema = z.looseObject({
  name: z
    .string()
    .regex(SNAKE_ID_PATTERN, { error: "Invalid command name: expected snake_case matching ^[a-z][a-z0-9_]*$" }),
  description: z.string().optional(),
  inputSchema: JsonObjectSchema.optional(),
  input_schema: JsonObjectSchema.optional(),
  outputSchema: JsonObjectSchema.optional(),
  output_schema: JsonObjectSchema.optional(),
  timeoutSeconds: z.int().min(1).max(3600).optional(),
  timeout_seconds: z.int().min(1).max(3600).optional(),
  idempotent: z.boolean().optional(),
  async: z.boolean().optional(),
});

/** `ReliabilityConfig.retry` (strict, with strict `backoff`). */
export const MessagingRetrySchema = z.strictObject({
  maxAttempts: z.int().min(0).max(10).optional(),
  backoff: z
    .strictObject({
      strategy: z.enum(["exponential", "linear", "constant"]).optional(),
      initialDelayMs: z.int().min(0).optional(),
      maxDelayMs: z.int().min(0).optional(),
      multiplier: z.number().min(1).optional(),
    })
    .optional(),
});

/** `ReliabilityConfig`: delivery, retry, DLQ, ordering and acknowledgment settings. */
export const ReliabilityConfigSchema = z.looseObject({
  deliveryGuarantee: z.enum(DELIVERY).optional(),
  delivery: z.enum(DELIVERY).optional(),
  retry: MessagingRetrySchema.optional(),
  dlq: z
    .strictObject({
      enabled: z.boolean().optional(),
      channel: z.string().optional(),
      retentionDays: z.int().min(1).max(90).optional(),
    })
    .optional(),
  ordering: z
    .looseObject({
      guarantee: z.enum(["per-source", "global"]).optional(),
      mode: z.enum(["global", "per_channel", "per-channel", "none"]).optional(),
      timeoutSeconds: z.int().min(1).optional(),
    })
    .optional(),
  acknowledgment: z
    .strictObject({
      mode: z.enum(["manual", "automatic"]).optional(),
      timeoutSeconds: z.int().min(1).optional(),
    })
    .optional(),
});

/** `MessagingExtension` (strict): `spec.messaging`. */
export const MessagingExtensionSchema = z.strictObject({
  publishes: z.array(PublishedChannelSchema).optional(),
  subscribes: z.array(SubscriptionSchema).optional(),
  commands: z.array(CommandSchema).optional(),
  reliability: ReliabilityConfigSchema.optional(),
});

/** `spec.messaging` of an agent. */
export type OssaMessaging = z.infer<typeof MessagingExtensionSchema>;
/** An entry of `spec.messaging.commands`. */
export type OssaCommand = z.infer<typeof CommandSchema>;
/** An entry of `spec.messaging.publishes`. */
export type OssaPublishedChannel = z.infer<typeof PublishedChannelSchema>;
/** An entry of `spec.messaging.subscribes`. */
export type OssaSubscription = z.infer<typeof SubscriptionSchema>;
/** `spec.messaging.reliability`. */
export type OssaReliabilityConfig = z.infer<typeof ReliabilityConfigSchema>;
