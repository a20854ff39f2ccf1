/**
 * One agent's guard as a pure object: the breaker, the per-agent rate limit,
 * concurrency permits, the daily token budget and the retry budget, combined
 * with the calling key's limits ({@link KeyLimiter}) into one atomic
 * admission ("check everything, then commit everything", so a refused
 * attempt consumes nothing) and one outcome report. The Durable Object
 * persists {@link GuardState} and each key's cells. The {@link LeaseBook}
 * records what isolates may admit on their own (leases/): the rate tokens
 * they hold cap the cells, here as in a renewal.
 */
import { type BreakerSnapshot, CircuitBreaker, ConcurrencyLimiter, Gcra, RetryBudget, TokenBudget } from "./policies";
import { type KeyLimiter, remainingNow } from "./keys";
import { AGENT_LEASE, LeaseBook, type LeaseBookSnapshot } from "./leases/book";
import type { AdmitRequest, AdmitResult, GuardConfig, GuardSnapshot, RateLimitReport, ReportRequest } from "./types";

/** Persisted form of a {@link Guard}: one snapshot per policy. */
export interface GuardState {
  breaker?: BreakerSnapshot;
  rate?: ReturnType<Gcra["toJSON"]>;
  concurrency?: ReturnType<ConcurrencyLimiter["toJSON"]>;
  tokens?: ReturnType<TokenBudget["toJSON"]>;
  retries?: ReturnType<RetryBudget["toJSON"]>;
  leases?: LeaseBookSnapshot;
  /** Names this guard's life since it was created or reset: reports from before a reset are dropped. */
  epoch?: string;
}

/** The policies of one agent, built from its config and (optionally) a persisted state. */
export class Guard {
  readonly breaker: CircuitBreaker;
  readonly rate: Gcra | undefined;
  readonly concurrency: ConcurrencyLimiter | undefined;
  readonly tokens: TokenBudget | undefined;
  readonly retries: RetryBudget;
  readonly leases: LeaseBook;
  readonly epoch: string;

  constructor(
    readonly config: GuardConfig,
    state: GuardState = {},
  ) {
    const breakerConfig = { ...config.breaker, probeLeaseMs: config.leaseMs };
    this.breaker = state.breaker
      ? CircuitBreaker.restore(breakerConfig, state.breaker)
      : new CircuitBreaker(breakerConfig);
    this.rate =
      config.rateLimit && (state.rate ? Gcra.restore(config.rateLimit, state.rate) : new Gcra(config.rateLimit));
    const concurrencyConfig = config.maxConcurrent
      ? { maxConcurrent: config.maxConcurrent, leaseMs: config.leaseMs }
      : undefined;
    this.concurrency =
      concurrencyConfig &&
      (state.concurrency
        ? ConcurrencyLimiter.restore(concurrencyConfig, state.concurrency)
        : new ConcurrencyLimiter(concurrencyConfig));
    // A reservation whose report never comes expires with the permit's lease, not at UTC midnight.
    const tokenConfig = config.maxTokensPerDay
      ? { maxTokensPerDay: config.maxTokensPerDay, leaseMs: config.leaseMs }
      : undefined;
    this.tokens =
      tokenConfig && (state.tokens ? TokenBudget.restore(tokenConfig, state.tokens) : new TokenBudget(tokenConfig));
    this.retries = state.retries
      ? RetryBudget.restore(config.retryBudget, state.retries)
      : new RetryBudget(config.retryBudget);
    this.leases = LeaseBook.restore(state.leases);
    this.epoch = typeof state.epoch === "string" ? state.epoch : crypto.randomUUID();
  }

  /** The persisted form. */
  toJSON(): GuardState {
    return {
      breaker: this.breaker.toJSON(),
      ...(this.rate ? { rate: this.rate.toJSON() } : {}),
      ...(this.concurrency ? { concurrency: this.concurrency.toJSON() } : {}),
      ...(this.tokens ? { tokens: this.tokens.toJSON() } : {}),
      retries: this.retries.toJSON(),
      leases: this.leases.toJSON(),
      epoch: this.epoch,
    };
  }

  /**
   * Admits one attempt or says why not. First attempts pass the agent's and
   * the key's rate limits; retries skip them but need the retry budget. Every
   * attempt reserves its estimate against the agent's and the key's daily
   * token budgets. Nothing is consumed (here or in `key`) unless everything admits.
   */
  admit(now: number, request: AdmitRequest, key?: KeyLimiter): AdmitResult {
    const first = request.attempt <= 1;
    const breaker = this.breaker.peek(now);
    const reject = (
      reason: Extract<AdmitResult, { admitted: false }>["reason"],
      retryAfterMs: number,
      rateLimit?: RateLimitReport,
    ): AdmitResult => ({
      admitted: false,
      reason,
      retryAfterMs: Math.max(0, retryAfterMs),
      breaker: this.breaker.peek(now).state,
      ...(rateLimit ? { rateLimit } : {}),
    });
    if (breaker.state === "open" || breaker.state === "isolated") return reject("circuit_open", breaker.retryAfterMs);
    if (!first && this.retries.stats(now).available < 1) return reject("retry_budget", 1000);
    let agentReport: RateLimitReport | undefined;
    let keyReport: RateLimitReport | undefined;
    const rated = first && (!request.leasedRate || request.leasedRate === "key");
    const keyRated = first && request.leasedRate !== true && request.leasedRate !== "key";
    if (rated && this.rate && this.config.rateLimit) {
      // Tokens isolates hold on leases count against the cell: the bucket plus them never exceed a burst.
      this.rate.capLevel(now, this.config.rateLimit.burst - this.leases.outstanding(now, AGENT_LEASE));
      const decision = this.rate.peek(now);
      agentReport = { scope: "agent", config: this.config.rateLimit, decision };
      if (!decision.allowed) return reject("rate_limited", decision.retryAfterMs, agentReport);
    }
    if (keyRated && key?.rate && key.rateLimit) {
      if (request.keyId !== undefined)
        key.rate.capLevel(now, key.rateLimit.burst - this.leases.outstanding(now, request.keyId));
      const decision = key.rate.peek(now);
      keyReport = { scope: "key", config: key.rateLimit, decision };
      if (!decision.allowed) return reject("key_rate_limited", decision.retryAfterMs, keyReport);
    }
    const owner = this.permitOwner(request);
    if (this.concurrency && this.config.maxConcurrent !== undefined) {
      const wait = Math.min(1000, Math.max(1, (this.concurrency.nextExpiry() ?? now + 1000) - now));
      if (this.concurrency.inFlight(now) >= this.config.maxConcurrent) return reject("concurrency", wait);
      if (owner && !this.concurrency.ownerHasRoom(now, request.callId, owner)) return reject("key_concurrency", wait);
    }
    const estimate = this.tokens ? Math.min(request.estimateTokens, this.config.maxTokensPerDay ?? Infinity) : 0;
    if (this.tokens) {
      const usage = this.tokens.usage(now);
      if (usage.remaining < Math.max(1, estimate)) return reject("token_budget", usage.resetsInMs);
    }
    const keyEstimate = key?.estimate(request.estimateTokens) ?? 0;
    const keyUsage = key?.tokenUsage(now);
    if (keyUsage && keyUsage.remaining < Math.max(1, keyEstimate))
      return reject("key_token_budget", keyUsage.resetsInMs);
    const admission = this.breaker.tryAcquire(now, request.callId);
    if (!admission.allowed) return reject("circuit_open", admission.retryAfterMs);
    // Commit: every check passed above, so none of these can refuse.
    if (first) {
      if (rated && this.rate && this.config.rateLimit)
        agentReport = { scope: "agent", config: this.config.rateLimit, decision: this.rate.take(now) };
      if (keyRated && key?.rate && key.rateLimit)
        keyReport = { scope: "key", config: key.rateLimit, decision: key.rate.take(now) };
      this.retries.recordRequest(now);
    } else {
      this.retries.tryRetry(now);
    }
    this.concurrency?.tryAcquire(now, request.callId, owner);
    this.tokens?.reserve(now, request.callId, estimate);
    key?.reserve(now, request.callId, keyEstimate);
    const rateLimit = pickTighter(agentReport, keyReport);
    return { admitted: true, probe: admission.probe, breaker: admission.state, ...(rateLimit ? { rateLimit } : {}) };
  }

  /** The calling key as a permit owner with its fair share of the agent's permits, when both are known. */
  private permitOwner(request: AdmitRequest): { id: string; max: number } | undefined {
    const max = this.config.keyMaxConcurrent;
    return request.keyId !== undefined && max !== undefined ? { id: request.keyId, max } : undefined;
  }

  /** Applies one attempt's outcome: breaker, permit release, token settlement (the key's too). Idempotent per callId. */
  report(now: number, request: ReportRequest, key?: KeyLimiter): void {
    // The caller is the breaker's principal: one caller's failures alone cannot open it while others call.
    if (request.outcome === "success") this.breaker.onSuccess(now, request.callId, request.keyId);
    else if (request.outcome === "failure") this.breaker.onFailure(now, request.callId, request.keyId);
    else this.breaker.onNeutral(now, request.callId, request.keyId);
    this.concurrency?.release(request.callId);
    if (this.tokens) {
      if (request.tokens && request.tokens > 0) this.tokens.settle(now, request.callId, request.tokens);
      else this.tokens.release(request.callId);
    }
    key?.settle(now, request.callId, request.tokens);
  }

  /** Drops expired permits and token reservations (a holder that died never leaks either). */
  expire(now: number): void {
    this.concurrency?.expire(now);
    this.tokens?.expire(now);
    this.expireLeases(now);
  }

  /**
   * Drops the admission leases expired at `now` (their holders stopped renewing: an isolate died or went
   * quiet): their tokens count as used. The permits of their blocks and their budget reservations are left to
   * end with their own leases (deadline + 5 s), since attempts admitted from a lease may still be in flight after
   * it expires; they come back then, as a lost attempt's do.
   */
  expireLeases(now: number): void {
    // Cap the agent's bucket while the expiring tokens still count (see renewLease): they are spent, not refunded.
    if (this.rate && this.config.rateLimit)
      this.rate.capLevel(now, this.config.rateLimit.burst - this.leases.outstanding(now, AGENT_LEASE, true));
    this.leases.expire(now);
  }

  /**
   * When the earliest permit lease expires, for the alarm. Token reservation
   * leases are left out on purpose: the budgets expire them lazily (`usage`
   * and `reserve` ignore expired ones, `reserve` drops them), so an alarm would
   * change no decision or reading, only tidy the stored snapshot earlier, at
   * the cost of an extra wake-up per lease. The keys' budgets (one SQLite row
   * per key) are likewise expired when next read or written.
   */
  nextExpiry(): number | undefined {
    return this.concurrency?.nextExpiry();
  }

  /** A read-only view for admin, metrics and the dashboard (`transitions` filled by the caller). */
  snapshot(now: number): Omit<GuardSnapshot, "transitions"> {
    const b = this.breaker.peek(now);
    const stats = this.breaker.stats(now);
    return {
      agent: this.config.agent,
      at: now,
      breaker: {
        state: b.state,
        retryAfterMs: b.retryAfterMs,
        consecutiveFailures: stats.consecutiveFailures,
        ...(b.openUntil !== undefined ? { openUntil: b.openUntil } : {}),
      },
      inFlight: this.concurrency?.inFlight(now) ?? 0,
      ...(this.rate && this.config.rateLimit
        ? { rateLimit: remainingNow(this.rate.peek(now), this.config.rateLimit.burst) }
        : {}),
      ...(this.tokens ? { tokens: pickUsage(this.tokens.usage(now)) } : {}),
      retryBudget: this.retries.stats(now),
    };
  }
}

function pickUsage({ day, used, reserved, remaining }: ReturnType<TokenBudget["usage"]>) {
  return { day, used, reserved, remaining };
}

/** The decision with fewer requests left (the one a caller will hit first). */
function pickTighter(a: RateLimitReport | undefined, b: RateLimitReport | undefined): RateLimitReport | undefined {
  if (!a || !b) return a ?? b;
  return b.decision.remaining < a.decision.remaining ? b : a;
}
