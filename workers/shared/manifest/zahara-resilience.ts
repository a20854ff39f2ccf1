/**
 * `extensions.zahara.resilience` and `extensions.zahara.fallbacks`: how the
 * gateway shields an agent and its callers. Every field is optional; the
 * schema validates what is *given* and the gateway resolves defaults
 * (`workers/gateway/src/resilience/config.ts`), so the two stay separate.
 *
 * ```yaml
 * extensions:
 *   zahara:
 *     fallbacks: [agent-custom]
 *     resilience:
 *       breaker: { failure_threshold: 5, open_ms: 60000, half_open_probes: 1,
 *                  failure_rate: { threshold: 0.5, window: 20, minimum_calls: 10 } }
 *       retries: { max_retries: 3, base_ms: 1000, cap_ms: 16000, retry_on_500: true }
 *       retry_budget: { ratio: 0.2, min_per_window: 10, window_ms: 10000 }
 *       rate_limit_per_key: { requests_per_minute: 120, burst: 20 }
 *       key_max_concurrent: 10
 *       token_estimate: 1000
 * ```
 *
 * The OSSA fields `spec.safety.rate_limiting`,
 * `spec.constraints.performance.maxConcurrentRequests`,
 * `spec.constraints.cost.maxTokensPerDay` and
 * `spec.constraints.performance.timeoutSeconds` set the per-agent limits.
 */
import { z } from "zod";

/** `resilience.breaker`: consecutive-failure and optional failure-rate strategies. */
export const ZaharaBreakerSchema = z.strictObject({
  failure_threshold: z.int().min(1).max(1000).optional(),
  failure_rate: z
    .strictObject({
      threshold: z.number().gt(0).max(1),
      window: z.int().min(2).max(1000),
      minimum_calls: z.int().min(1).max(1000),
    })
    .refine((r) => r.minimum_calls <= r.window, {
      error: "minimum_calls must not exceed window",
      path: ["minimum_calls"],
    })
    .optional(),
  open_ms: z.int().min(100).max(86_400_000).optional(),
  half_open_probes: z.int().min(1).max(100).optional(),
});

/** `resilience.retries`: exponential backoff with full jitter. */
export const ZaharaRetriesSchema = z
  .strictObject({
    max_retries: z.int().min(0).max(10).optional(),
    base_ms: z.int().min(1).max(60_000).optional(),
    cap_ms: z.int().min(1).max(300_000).optional(),
    retry_on_500: z.boolean().optional(),
  })
  .refine((r) => r.base_ms === undefined || r.cap_ms === undefined || r.base_ms <= r.cap_ms, {
    error: "base_ms must not exceed cap_ms",
    path: ["base_ms"],
  });

/** `resilience.retry_budget`: retries at most `ratio` of requests plus a floor per window. */
export const ZaharaRetryBudgetSchema = z.strictObject({
  ratio: z.number().min(0).max(1).optional(),
  min_per_window: z.int().min(0).max(10_000).optional(),
  window_ms: z.int().min(1000).max(3_600_000).optional(),
});

/** `resilience.rate_limit_per_key`: the limit each API key gets on this agent. */
export const ZaharaKeyRateLimitSchema = z.strictObject({
  requests_per_minute: z.int().min(1).max(1_000_000),
  burst: z.int().min(1).max(100_000).optional(),
});

/** `extensions.zahara.resilience` (strict, all optional). */
export const ZaharaResilienceSchema = z.strictObject({
  breaker: ZaharaBreakerSchema.optional(),
  retries: ZaharaRetriesSchema.optional(),
  retry_budget: ZaharaRetryBudgetSchema.optional(),
  rate_limit_per_key: ZaharaKeyRateLimitSchema.optional(),
  /**
   * Requests one API key may have in flight on this agent (a fair share of
   * `maxConcurrentRequests`, which it needs; default half of it, at least 1).
   */
  key_max_concurrent: z.int().min(1).max(100_000).optional(),
  /** Tokens reserved against `maxTokensPerDay` before a call; settled with the reported usage. */
  token_estimate: z.int().min(0).max(10_000_000).optional(),
});

/** `extensions.zahara.fallbacks`: agents (metadata.name) tried when this one is open or exhausted. */
export const ZaharaFallbacksSchema = z
  .array(z.string().min(1).max(253))
  .max(5)
  .refine((list) => new Set(list).size === list.length, { error: "fallbacks must not repeat an agent" });

/** Parsed `extensions.zahara.resilience` (as given; no defaults). */
export type ZaharaResilience = z.infer<typeof ZaharaResilienceSchema>;
