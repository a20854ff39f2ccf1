/**
 * `UpstreamGuard`: one SQLite-backed Durable Object per agent (named by the
 * agent), so its breaker, rate limits, permits and budgets are exact across
 * every gateway isolate. A thin shell: the policies live in {@link Guard};
 * this class restores them, writes every change through to SQLite in the same
 * turn (so eviction, restarts and redeploys lose nothing), records breaker
 * transitions once, and answers over RPC. It also keeps the agent's request
 * metrics ({@link AgentMetrics}): the gateway records each request once,
 * after the response (`recordRequest`), and `/metrics` and `/v1/stats` read
 * them (`metrics`, `stats`).
 */
import { DurableObject } from "cloudflare:workers";
import { type Logger, createLogger } from "../../../workers/shared/logger";
import { Guard, type GuardState } from "./guard";
import { AgentMetrics, type RequestRecord } from "./metrics";
import { Gcra } from "./policies";
import { GuardStore } from "./store";
import type { AdmitRequest, AdmitResult, GuardConfig, GuardMetrics, GuardSnapshot, GuardStats, ReportRequest } from "./types";

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
    const keyConfig = request.config.keyRateLimit;
    const useKey = keyConfig !== undefined && request.keyId !== undefined && request.attempt <= 1;
    const keyRate = useKey ? new Gcra(keyConfig, this.store.keyTat(request.keyId as string) ?? 0) : undefined;
    const result = guard.admit(now, request, keyRate);
    if (result.admitted && keyRate) this.store.setKeyTat(request.keyId as string, keyRate.toJSON().tat);
    this.persist(guard);
    await this.scheduleAlarm(now);
    return result;
  }

  /** Applies an attempt's outcome (sent after the response). */
  async report(request: ReportRequest): Promise<void> {
    const now = this.clock();
    const guard = this.load(request.config);
    guard.report(now, request);
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

  /** Admin: forget everything (breaker, quotas, permits, transitions), as if newly created. */
  async resetAll(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.guard = undefined;
    this.counters = undefined;
    this.configKey = "";
    this.alarmAt = null;
    this.store.createSchema();
  }

  /** Expires lost permits and refilled per-key cells, then re-arms for the next expiry. */
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
    await this.scheduleAlarm(now);
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
      this.logger.warn("breaker transition", { agent: guard.config.agent, from: t.from, to: t.to, cause: t.cause, at: new Date(t.at).toISOString() });
    }
  }

  private async scheduleAlarm(now: number): Promise<void> {
    const next = [this.guard?.nextExpiry(), this.store.hasKeys() ? now + KEY_SWEEP_MS : undefined].filter((t): t is number => t !== undefined);
    if (next.length === 0) return;
    const at = Math.max(now + 1, Math.min(...next));
    this.alarmAt ??= await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > at) {
      await this.ctx.storage.setAlarm(at);
      this.alarmAt = at;
    }
  }
}
