/**
 * One API key's limits inside one agent's guard: its rate-limit cell (GCRA,
 * under the key's own limit or the agent's per-key default) and its daily
 * token budget (reserve, then settle; an unsettled reservation is a lease
 * that expires after `GuardConfig.leaseMs`, like the agent's). Pure: the
 * Durable Object restores a {@link KeyLimiter} from SQLite for each call that
 * names a key, {@link Guard} checks and commits it with the agent's policies,
 * and the Durable Object writes {@link KeyLimiter.toJSON} back.
 */
import {
  Gcra,
  TokenBudget,
  msUntilUtcMidnight,
  reservedInSnapshot,
  utcDay,
  type RateLimitConfig,
  type RateLimitDecision,
  type TokenBudgetSnapshot,
  type TokenUsage,
} from "./policies";
import { requireNonNegative } from "./policies/validate";
import type { GuardConfig, KeyLimits, KeyUsage } from "./types";

/**
 * A key's rate limit, never above the agent's own (`agent`): the lower rate
 * and the lower burst. A key may not be promised more than the agent takes.
 */
export function capRate(key: RateLimitConfig, agent: RateLimitConfig | undefined): RateLimitConfig {
  if (!agent) return key;
  const faster = key.limit / key.periodMs > agent.limit / agent.periodMs;
  const burst = Math.min(key.burst, agent.burst);
  if (!faster && burst === key.burst) return key;
  return {
    ...(faster ? { limit: agent.limit, periodMs: agent.periodMs } : { limit: key.limit, periodMs: key.periodMs }),
    burst,
  };
}

/** A key's persisted cells: the GCRA theoretical arrival time and the token budget snapshot. */
export interface KeyCellState {
  tat?: number;
  tokens?: TokenBudgetSnapshot;
}

/**
 * The limits `keyId` runs under on this agent for one attempt: the key's own
 * rate limit, else the agent's per-key default (first attempts only, as
 * retries skip rate limits), and the key's daily token budget.
 */
export function keyLimitsFor(config: GuardConfig, limits: KeyLimits | undefined, attempt: number): KeyLimits {
  const own = attempt <= 1 ? (limits?.rateLimit ?? config.keyRateLimit) : undefined;
  const rateLimit = own && capRate(own, config.rateLimit);
  return {
    ...(rateLimit ? { rateLimit } : {}),
    ...(limits?.maxTokensPerDay !== undefined ? { maxTokensPerDay: limits.maxTokensPerDay } : {}),
  };
}

/** A key's rate-limit cell and daily token budget on one agent. */
export class KeyLimiter {
  /** The rate limit in force for this key, if any. */
  readonly rateLimit: RateLimitConfig | undefined;
  /** The key's GCRA cell, when it has a rate limit. */
  readonly rate: Gcra | undefined;
  /** The key's daily token budget (0: no tokens at all), if any. */
  readonly maxTokensPerDay: number | undefined;
  private readonly budget: TokenBudget | undefined;
  /** With a budget of 0 nothing is reserved: the stored snapshot is kept as it was. */
  private readonly kept: TokenBudgetSnapshot | undefined;

  /**
   * Validates the limits (`RangeError`) and restores the cells (`TypeError` on
   * a malformed snapshot). `leaseMs` (`GuardConfig.leaseMs`) is how long a
   * reservation this limiter makes lives unsettled; without it, reservations
   * are held until settled or the day ends.
   */
  constructor(limits: KeyLimits, state: KeyCellState = {}, leaseMs?: number) {
    const max = limits.maxTokensPerDay;
    if (max !== undefined) requireNonNegative("keyLimits.maxTokensPerDay", max);
    this.rateLimit = limits.rateLimit;
    this.rate = limits.rateLimit && new Gcra(limits.rateLimit, state.tat ?? 0);
    this.maxTokensPerDay = max;
    const config = { maxTokensPerDay: max ?? 0, ...(leaseMs !== undefined ? { leaseMs } : {}) };
    this.budget = max
      ? state.tokens
        ? TokenBudget.restore(config, state.tokens)
        : new TokenBudget(config)
      : undefined;
    this.kept = max === 0 ? state.tokens : undefined;
  }

  /** Persisted form (`tokens` absent without a budget). */
  toJSON(): KeyCellState {
    const tokens = this.budget?.toJSON() ?? this.kept;
    return { ...(this.rate ? { tat: this.rate.toJSON().tat } : {}), ...(tokens ? { tokens } : {}) };
  }

  /** Today's budget figures at `now`, expired reservations not counted (nothing remains with a budget of 0); undefined without a budget. */
  tokenUsage(now: number): TokenUsage | undefined {
    if (this.budget) return this.budget.usage(now);
    if (this.maxTokensPerDay === undefined) return undefined;
    const day = utcDay(now);
    const today = this.kept?.day === day ? this.kept : undefined;
    const reserved = today ? reservedInSnapshot(today, now) : 0;
    return { day, used: today?.used ?? 0, reserved, remaining: 0, resetsInMs: msUntilUtcMidnight(now) };
  }

  /** The estimate a call reserves against the key's budget (clamped to it; 0 without one). */
  estimate(requested: number): number {
    return this.maxTokensPerDay ? Math.min(requested, this.maxTokensPerDay) : 0;
  }

  /** Reserves `tokens` under `callId` (call only after {@link KeyLimiter.tokenUsage} showed room). */
  reserve(now: number, callId: string, tokens: number): void {
    this.budget?.reserve(now, callId, tokens);
  }

  /** Tokens `id` holds in the key's budget at `now`. */
  reservedBy(id: string, now: number): number {
    return this.budget?.heldBy(id, now) ?? 0;
  }

  /** Settles `callId` with the actual tokens, or releases it when none were used. */
  settle(now: number, callId: string, tokens: number | undefined): void {
    if (!this.budget) return;
    if (tokens && tokens > 0) this.budget.settle(now, callId, tokens);
    else this.budget.release(callId);
  }

  /** What the key has used on this agent at `now` (for the `keyUsage` RPC). */
  usage(now: number): Pick<KeyUsage, "tokens" | "rateLimit"> {
    const tokens = this.tokenUsage(now);
    return {
      ...(tokens
        ? { tokens: { day: tokens.day, used: tokens.used, reserved: tokens.reserved, remaining: tokens.remaining } }
        : {}),
      ...(this.rate && this.rateLimit ? { rateLimit: remainingNow(this.rate.peek(now), this.rateLimit.burst) } : {}),
    };
  }
}

/** `peek` answers as if one more request were taken; a snapshot wants what is left right now. */
export function remainingNow(decision: RateLimitDecision, burst: number): RateLimitDecision {
  return decision.allowed ? { ...decision, remaining: Math.min(decision.remaining + 1, burst) } : decision;
}
