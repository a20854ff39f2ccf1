/**
 * Upstream-guard resilience policies: pure, serialisable state machines that
 * the upstream-guard Durable Object persists (`toJSON()`) and rebuilds
 * (`restore(config, snapshot)`). None of them reads the clock: every
 * time-dependent call takes `now` in ms.
 */
export {
  CircuitBreaker,
  type BreakerAdmission,
  type BreakerConfig,
  type BreakerSnapshot,
  type BreakerState,
  type BreakerStats,
  type BreakerTransition,
} from "./breaker";
export {
  Gcra,
  rateLimitHeaders,
  retryAfterSeconds,
  type GcraSnapshot,
  type RateLimitConfig,
  type RateLimitDecision,
} from "./rate-limit";
export {
  ConcurrencyLimiter,
  type ConcurrencyAdmission,
  type ConcurrencyConfig,
  type ConcurrencySnapshot,
} from "./concurrency";
export {
  TokenBudget,
  msUntilUtcMidnight,
  reservedInSnapshot,
  utcDay,
  type TokenBudgetConfig,
  type TokenBudgetSnapshot,
  type TokenReservation,
  type TokenUsage,
} from "./token-budget";
export { RetryBudget, type RetryBudgetConfig, type RetryBudgetSnapshot, type RetryBudgetStats } from "./retry-budget";
