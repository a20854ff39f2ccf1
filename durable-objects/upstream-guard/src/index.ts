/**
 * `UpstreamGuard`: one SQLite-backed Durable Object per agent (named by the
 * agent), so its breaker, rate limits, permits and budgets are exact across
 * every gateway isolate. A thin shell: the policies live in {@link Guard};
 * this class restores them, writes every change through to SQLite in the same
 * turn (so eviction, restarts and redeploys lose nothing), records breaker
 * transitions once, and answers over RPC. A call that names an API key is
 * also checked against that key's rate-limit cell and daily token budget on
 * this agent ({@link KeyLimiter}), in the same atomic admission. It also
 * keeps the agent's request metrics ({@link AgentMetrics}): the gateway records each request once,
 * after the response (`recordRequest`), and `/metrics` and `/v1/stats` read
 * them (`metrics`, `stats`). The gateway's hot path uses one RPC, `exchange`
 * (exchange.ts): batched outcomes and records, an optional admission, and
 * the admission leases that let isolates admit without a round trip.
 */
import { DurableObject } from "cloudflare:workers";
import { type Logger, createLogger } from "../../../workers/shared/logger";
import { applyExchange } from "./exchange";
import { Guard, type GuardState } from "./guard";
import type { Exchange, ExchangeReply } from "./leases/protocol";
import { AgentMetrics, type RequestRecord } from "./metrics";
import { KeyLimiter, keyLimitsFor } from "./keys";
import { msUntilUtcMidnight, utcDay } from "./policies";
import { GuardStore } from "./store";
import type {
  AdmitRequest,
  AdmitResult,
  GuardConfig,
  GuardMetrics,
  GuardSnapshot,
  GuardStats,
  KeyLimits,
  KeyUsage,
  ReportRequest,
} from "./types";

export type * from "./types";

/** Transitions kept in SQLite for the dashboard and metrics. */
export const TRANSITIONS_KEPT = 500;
/** How often per-key rate-limit cells that have fully refilled are swept. */
export const KEY_SWEEP_MS = 60_000;

/** The guard of one upstream agent. */
export class UpstreamGuard extends DurableObject {
  /** Time source; tests replace it (workerd's Date.now is frozen during a turn anyway). */
  clock: () => number = () => Date.now();
  private readonly store: GuardStore;
  private readonly logger: Logger;
  private guard: Guard | undefined;
  private counters: AgentMetrics | undefined;
  private configKey = "";
  /** The alarm time as last read or set (undefined: not read yet in this instance). */
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new GuardStore(ctx.storage.sql);
    this.logger = createLogger({ service: "upstream-guard", level: env.LOG_LEVEL });
  }

  /** Admission for one attempt (breaker, rate limits, concurrency, token and retry budgets), atomic. */
  async admit(request: AdmitRequest): Promise<AdmitResult> {
    const now = this.clock();
    const guard = this.load(request.config);
    const key =
      request.keyId !== undefined
        ? this.keyLimiter(
            request.keyId,
            keyLimitsFor(request.config, request.keyLimits, request.attempt),
            request.config.leaseMs,
          )
        : undefined;
    const result = guard.admit(now, request, key);
    if (result.admitted && key && request.keyId !== undefined) this.saveKey(now, request.keyId, key, request.keyLimits);
    this.persist(guard);
    await this.scheduleAlarm(now);
    return result;
  }

  /** One holder's batched outcomes, records, admission and lease renewals, in one atomic turn (exchange.ts). */
  async exchange(call: Exchange): Promise<ExchangeReply> {
    const now = this.clock();
    const guard = this.load(call.config);
    const metrics = this.metricsState();
    const { reply, metricsChanged } = applyExchange(now, call, {
      guard,
      metrics,
      keyCells: (keyId, limits, attempt) =>
        this.keyLimiter(keyId, keyLimitsFor(call.config, limits, attempt), call.config.leaseMs),
      storedKeyCells: (keyId) => {
        const row = this.store.keyLimits(keyId);
        const max = row?.limits.maxTokensPerDay;
        if (!row || !max) return undefined;
        return {
          key: new KeyLimiter({ maxTokensPerDay: max }, row.tokens ? { tokens: row.tokens } : {}, call.config.leaseMs),
          limits: row.limits,
        };
      },
      saveKey: (keyId, key, limits) => this.saveKey(now, keyId, key, limits),
    });
    this.persist(guard);
    if (metricsChanged) this.saveMetrics();
    await this.scheduleAlarm(now);
    return reply;
  }

  /** Applies an attempt's outcome (sent after the response). */
  async report(request: ReportRequest): Promise<void> {
    const now = this.clock();
    const guard = this.load(request.config);
    // The key's budget as last admitted (settling depends on the reservation, not on the size; a budget of 0 reserves nothing).
    const keyRow = request.keyId !== undefined ? this.store.keyLimits(request.keyId) : undefined;
    const max = keyRow?.limits.maxTokensPerDay;
    const key =
      keyRow && max
        ? new KeyLimiter(
            { maxTokensPerDay: max },
            keyRow.tokens ? { tokens: keyRow.tokens } : {},
            request.config.leaseMs,
          )
        : undefined;
    guard.report(now, request, key);
    if (key && keyRow && request.keyId !== undefined) this.saveKey(now, request.keyId, key, keyRow.limits);
    this.persist(guard);
    if (request.tokens && request.tokens > 0) {
      this.metricsState().addTokens(request.tokens);
      this.saveMetrics();
    }
  }

  /** Counts one request (sent once per request and agent, after the response). */
  recordRequest(record: RequestRecord): void {
    this.metricsState().record(this.clock(), record);
    this.saveMetrics();
  }

  /**
   * A request's last outcome report and its record in one call (one event,
   * one commit): what the gateway sends after a successful request instead
   * of {@link report} then {@link recordRequest}.
   */
  async settle(report: ReportRequest, record: RequestRecord): Promise<void> {
    await this.report(report);
    // Awaited through a promise so that a failure (even of a patched, async recordRequest) reaches the caller, never unhandled here.
    await Promise.resolve(this.recordRequest(record));
  }

  /** The cumulative counters with the breaker state, rate-limit headroom and in-flight permits now. */
  metrics(config: GuardConfig): GuardMetrics {
    const now = this.clock();
    const snap = this.load(config).snapshot(now);
    return {
      agent: config.agent,
      at: now,
      counters: this.metricsState().toJSON(),
      breaker: snap.breaker.state,
      inFlight: snap.inFlight,
      ...(snap.rateLimit ? { rateLimitRemaining: snap.rateLimit.remaining } : {}),
    };
  }

  /** The 1, 5 and 60 minute windows at `now` (default: the guard's clock), with the breaker and its latest transitions. */
  stats(config: GuardConfig, now = this.clock(), transitions = 20): GuardStats {
    const snap = this.load(config).snapshot(now);
    return {
      agent: config.agent,
      at: now,
      breaker: { state: snap.breaker.state, transitions: this.store.transitions(transitions) },
      windows: this.metricsState().windows(now),
    };
  }

  /** What the guard holds now, with the latest transitions (newest last). */
  snapshot(config: GuardConfig, transitions = 50): GuardSnapshot {
    const now = this.clock();
    const guard = this.load(config);
    return { ...guard.snapshot(now), transitions: this.store.transitions(transitions) };
  }

  /**
   * What `keyId` has used on this agent: today's tokens against its daily
   * budget and its rate-limit cell, under the limits it was last admitted
   * with (the agent's per-key default rate limit when it has none of its own).
   */
  keyUsage(keyId: string): KeyUsage {
    const now = this.clock();
    const config = this.store.readConfig();
    const row = this.store.keyLimits(keyId);
    const rateLimit = row?.limits.rateLimit ?? config?.keyRateLimit;
    const max = row?.limits.maxTokensPerDay;
    const tat = rateLimit ? this.store.keyTat(keyId) : undefined;
    const key = new KeyLimiter(
      { ...(rateLimit ? { rateLimit } : {}), ...(max !== undefined ? { maxTokensPerDay: max } : {}) },
      { ...(tat !== undefined ? { tat } : {}), ...(row?.tokens ? { tokens: row.tokens } : {}) },
      config?.leaseMs,
    );
    return { agent: config?.agent ?? this.ctx.id.name ?? "", keyId, ...key.usage(now) };
  }

  /** Admin: hold the breaker open ("isolated") until {@link forceClose}. */
  forceOpen(config: GuardConfig, cause = "forced open by an admin"): GuardSnapshot {
    const now = this.clock();
    const guard = this.load(config);
    guard.breaker.isolate(now, cause);
    this.persist(guard);
    return this.snapshot(config);
  }

  /** Admin: close the breaker and reset its counters. */
  forceClose(config: GuardConfig, cause = "forced closed by an admin"): GuardSnapshot {
    const now = this.clock();
    const guard = this.load(config);
    guard.breaker.reset(now, cause);
    this.persist(guard);
    return this.snapshot(config);
  }

  /** Admin: forget everything (breaker, quotas, per-key cells and budgets, permits, transitions), as if newly created. */
  async resetAll(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.guard = undefined;
    this.counters = undefined;
    this.configKey = "";
    this.alarmAt = null;
    this.store.createSchema();
  }

  /**
   * Expires lost permits (and the agent's lost token reservations, in passing),
   * refilled per-key cells and per-key rows from earlier days, then re-arms for
   * the next expiry. Token leases do not arm it: see {@link Guard.nextExpiry}.
   */
  override async alarm(): Promise<void> {
    const now = this.clock();
    this.alarmAt = null;
    if (this.guard) {
      this.guard.expire(now);
      this.persist(this.guard);
    } else {
      const state = this.store.readState();
      const config = this.store.readConfig();
      if (config) {
        const guard = this.load(config, state);
        guard.expire(now);
        this.persist(guard);
      }
    }
    this.store.dropRefilledKeys(now);
    this.store.dropStaleKeyLimits(utcDay(now));
    await this.scheduleAlarm(now);
  }

  /** `keyId`'s cells under `limits`, restored from SQLite (its reservations leased for `leaseMs`); undefined when the key has no limit here. */
  private keyLimiter(keyId: string, limits: KeyLimits, leaseMs: number): KeyLimiter | undefined {
    if (!limits.rateLimit && limits.maxTokensPerDay === undefined) return undefined;
    const tat = limits.rateLimit ? this.store.keyTat(keyId) : undefined;
    const tokens = limits.maxTokensPerDay !== undefined ? this.store.keyLimits(keyId)?.tokens : undefined;
    return new KeyLimiter(limits, { ...(tat !== undefined ? { tat } : {}), ...(tokens ? { tokens } : {}) }, leaseMs);
  }

  /** Writes `keyId`'s cells back: the rate cell if it has one, and its limits row when it has limits of its own. */
  private saveKey(now: number, keyId: string, key: KeyLimiter, limits: KeyLimits | undefined): void {
    const state = key.toJSON();
    if (state.tat !== undefined) this.store.setKeyTat(keyId, state.tat);
    if (limits)
      this.store.setKeyLimits(keyId, { day: utcDay(now), limits, ...(state.tokens ? { tokens: state.tokens } : {}) });
  }

  private load(config: GuardConfig, state?: GuardState): Guard {
    const key = JSON.stringify(config);
    if (this.guard && key === this.configKey) return this.guard;
    // First use in this instance, or the settings changed (a redeploy): rebuild from what is persisted.
    this.guard = new Guard(config, state ?? this.store.readState());
    this.configKey = key;
    this.store.writeConfig(config);
    return this.guard;
  }

  private metricsState(): AgentMetrics {
    this.counters ??= AgentMetrics.restore(this.store.readMetrics(), this.store.readMinutes());
    return this.counters;
  }

  private saveMetrics(): void {
    const metrics = this.metricsState();
    const { changed, oldestKept } = metrics.takeDirtyMinutes();
    this.store.writeMetrics(metrics.toJSON(), changed, oldestKept);
  }

  private persist(guard: Guard): void {
    // Taken before the state is written, so the persisted breaker never holds a transition already recorded.
    // All writes of one turn commit together, so a transition is never recorded without its state or twice.
    const transitions = guard.breaker.takeTransitions();
    this.store.writeState(guard.toJSON());
    if (transitions.length === 0) return;
    this.store.addTransitions(transitions, TRANSITIONS_KEPT);
    this.metricsState().countTransitions(transitions);
    this.saveMetrics();
    for (const t of transitions) {
      this.logger.warn("breaker transition", {
        agent: guard.config.agent,
        from: t.from,
        to: t.to,
        cause: t.cause,
        at: new Date(t.at).toISOString(),
      });
    }
  }

  private async scheduleAlarm(now: number): Promise<void> {
    const next = [
      this.guard?.nextExpiry(),
      this.store.hasKeys() ? now + KEY_SWEEP_MS : undefined,
      // Per-key rows only go stale when the UTC day ends.
      this.store.hasKeyLimits() ? now + msUntilUtcMidnight(now) : undefined,
    ].filter((t): t is number => t !== undefined);
    if (next.length === 0) return;
    const at = Math.max(now + 1, Math.min(...next));
    this.alarmAt ??= await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > at) {
      await this.ctx.storage.setAlarm(at);
      this.alarmAt = at;
    }
  }
}
