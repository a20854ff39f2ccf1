/**
 * `AgentRun`: one SQLite-backed Durable Object per long-running run
 * (`idFromName(run id)`), a thin shell over the pure rules of run-state.ts.
 * It stores the run, executes it from its alarm (runs/execution.ts), lets the
 * creator cancel it (the abort reaches the agent), streams its changes to
 * `/events` subscribers, delivers its webhook with retries, writes the
 * listing index in D1, and deletes itself at the end of its retention.
 *
 * Restarts: the alarm is durable. While an execution is in flight the alarm is
 * re-armed every `RUN_HEARTBEAT_MS`; when it fires in an object with no
 * execution running (the runtime restarted, the object was evicted) the
 * record still says "in flight", so the execution was interrupted and is
 * started again, with the same agent idempotency key and the time left
 * before the run's deadline (at most MAX_EXECUTIONS times). Every decision
 * is read, decided and saved without an await between, so a cancel and a
 * completion never both win.
 */
import { DurableObject } from "cloudflare:workers";
import { BUILD_INFO, MANIFESTS } from "../../../generated";
import { createLogger, type Logger } from "../../../shared/logger";
import { type RunConfig, resolveRunConfig } from "./config";
import { RunExecutor } from "./execution";
import { deleteRunRows, indexRun } from "./run-index";
import {
  type RunInput,
  type RunRecord,
  cancelRun,
  deferExecution,
  deliveryDue,
  expired,
  finishExecution,
  isFinal,
  newRun,
  nextWake,
  recordDelivery,
  restoreRun,
  startExecution,
  toView,
} from "./run-state";
import { RunEvents } from "./run-events";
import type { RunView } from "./types";
import { deliverWebhook, importWebhookSecret } from "./webhook";
import { checkCallbackTarget, checkCallbackUrl, resolveCallbackPolicy } from "./callback-url";

const KEY = "run";
/** How soon a run whose agent still holds its idempotency key asks again. */
const KEY_HELD_RETRY_MS = 1_000;
/** An Idempotency-Key's alias object keeps the run id the key created here. */
const ALIAS_KEY = "alias";

interface Alias {
  runId: string;
  bodyHash: string;
  expiresAt: number;
}

/** What {@link AgentRun.create} answers. */
export interface CreateResult {
  view: RunView;
  /** False when the run already existed (an Idempotency-Key replay). */
  created: boolean;
  /** Set on a replay whose body differs from the first. */
  conflict?: boolean;
}

/** What {@link AgentRun.cancel} answers. */
export type CancelResult = { outcome: "cancelled" | "finished"; view: RunView } | { outcome: "missing" };

/** One run. */
export class AgentRun extends DurableObject<Env> {
  private readonly config: RunConfig;
  private readonly logger: Logger;
  private readonly events = new RunEvents();
  private executor?: RunExecutor;
  /** The execution running in this instance, if any. */
  private inflight?: AbortController;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = resolveRunConfig(env);
    this.logger = createLogger({ service: "gateway", level: env.LOG_LEVEL, fields: { component: "agent-run" } });
  }

  private async load(): Promise<RunRecord | null> {
    return restoreRun(await this.ctx.storage.get(KEY));
  }

  /** Saves `r`, tells subscribers, re-arms the alarm and updates the index (in the background). */
  private async save(r: RunRecord): Promise<void> {
    await this.ctx.storage.put(KEY, r);
    await this.arm(r);
    this.events.publish(toView(r), r.seq);
    this.ctx.waitUntil(this.index(r));
  }

  /** Sets the alarm to the run's next wake (run-state.ts `nextWake`). */
  private async arm(r: RunRecord): Promise<void> {
    const wake = nextWake(r, Date.now(), this.config);
    if (wake === undefined) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(wake);
  }

  private async index(r: RunRecord): Promise<void> {
    if (!this.env.REQUEST_LOG) return;
    try {
      await indexRun(this.env.REQUEST_LOG, r);
    } catch (err) {
      this.logger.warn("run index write failed", { run_id: r.runId, status: r.status, error: String(err) });
    }
  }

  /** Creates the run (queued, starting at once), or answers the existing one. */
  async create(input: RunInput): Promise<CreateResult> {
    const existing = await this.load();
    if (existing) {
      const conflict = existing.bodyHash !== input.bodyHash;
      return { view: toView(existing), created: false, ...(conflict ? { conflict } : {}) };
    }
    const record = newRun(input, Date.now());
    await this.save(record);
    return { view: toView(record), created: true };
  }

  /**
   * As the alias of an Idempotency-Key: the run id the key first named (and whether `bodyHash` differs from
   * its body), or `runId`, now named by the key for `holdMs`.
   */
  async claimAlias(bodyHash: string, runId: string, holdMs: number): Promise<{ runId: string; conflict?: boolean }> {
    const now = Date.now();
    const existing = await this.ctx.storage.get<Alias>(ALIAS_KEY);
    if (existing && existing.expiresAt > now) {
      return existing.bodyHash === bodyHash ? { runId: existing.runId } : { runId: existing.runId, conflict: true };
    }
    const alias: Alias = { runId, bodyHash, expiresAt: now + holdMs };
    await this.ctx.storage.put(ALIAS_KEY, alias);
    await this.ctx.storage.setAlarm(alias.expiresAt);
    return { runId };
  }

  /** The run, or null when there is none. */
  async view(): Promise<{ view: RunView; principalId: string } | null> {
    const r = await this.load();
    return r ? { view: toView(r), principalId: r.principal.id } : null;
  }

  /** Cancels the run: a queued one never starts; a running one's call is aborted. */
  async cancel(requestId: string): Promise<CancelResult> {
    const r = await this.load();
    if (!r) return { outcome: "missing" };
    const decision = cancelRun(r, Date.now(), requestId);
    if (!decision.cancelled) return { outcome: "finished", view: toView(r) };
    await this.save(decision.record);
    this.inflight?.abort(new Error("run cancelled"));
    return { outcome: "cancelled", view: toView(decision.record) };
  }

  /**
   * Deletes the run's state when it ended more than the retention before `now` (the cron's purge; its time,
   * which may be later than the clock here); true when it is gone.
   */
  async purge(now: number = Date.now()): Promise<boolean> {
    const r = await this.load();
    if (r && !expired(r, Math.max(now, Date.now()), this.config.retentionMs)) return false;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    return true;
  }

  /** `GET /events`: the run's changes as server-sent events until it ends. */
  override async fetch(request: Request): Promise<Response> {
    const r = await this.load();
    if (!r) return new Response(null, { status: 404 });
    return this.events.subscribe(toView(r), r.seq, isFinal(r.status), request.signal);
  }

  override async alarm(): Promise<void> {
    const r = await this.load();
    if (!r) {
      // An alias whose time is up, or nothing.
      const alias = await this.ctx.storage.get<Alias>(ALIAS_KEY);
      if (!alias || alias.expiresAt <= Date.now()) await this.ctx.storage.deleteAll();
      else await this.ctx.storage.setAlarm(alias.expiresAt);
      return;
    }
    const now = Date.now();
    if (expired(r, now, this.config.retentionMs)) {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      if (this.env.REQUEST_LOG) await deleteRunRows(this.env.REQUEST_LOG, [r.runId]).catch(() => undefined);
      return;
    }
    if (r.status === "queued" || r.status === "running") {
      if (this.inflight) {
        // The execution is alive in this instance: only keep the heartbeat armed.
        await this.arm(r);
        return;
      }
      if (r.retryAt !== undefined && r.retryAt > now) {
        await this.arm(r); // not yet time to ask the agent again
        return;
      }
      await this.execute(r);
      return;
    }
    if (deliveryDue(r, now)) await this.deliver(r);
    else await this.arm(r); // nothing changed: no write, no event, no index update
  }

  private async execute(r: RunRecord): Promise<void> {
    const decision = startExecution(r, Date.now());
    await this.save(decision.record);
    if (!decision.start) {
      if (deliveryDue(decision.record, Date.now())) await this.deliver(decision.record);
      return;
    }
    if (r.inFlightSince !== undefined)
      this.logger.warn("run execution interrupted; resuming", {
        run_id: r.runId,
        execution: decision.record.executions,
      });
    this.executor ??= new RunExecutor(MANIFESTS, BUILD_INFO.version, this.env, this.config.maxDurationMs);
    const controller = new AbortController();
    this.inflight = controller;
    let outcome;
    try {
      outcome = await this.executor.execute(decision.record, decision.remainingMs, controller.signal, (p) =>
        this.ctx.waitUntil(p),
      );
    } finally {
      this.inflight = undefined;
    }
    const current = await this.load();
    if (!current) return;
    if (!outcome.ok && outcome.error.code === "IDEMPOTENCY_IN_PROGRESS" && !isFinal(current.status)) {
      // The agent still holds the run's key (a resumed execution): ask again once its claim may have lapsed.
      await this.save(deferExecution(current, outcome.attempts, Date.now(), KEY_HELD_RETRY_MS));
      return;
    }
    const finished = finishExecution(current, outcome, Date.now());
    if (finished === current) return; // cancelled meanwhile: the cancel's state stands
    await this.save(finished);
    if (deliveryDue(finished, Date.now())) await this.deliver(finished);
  }

  /** One webhook delivery attempt, recorded on the run; a failure schedules the next (save re-arms the alarm). */
  private async deliver(r: RunRecord): Promise<void> {
    const callback = r.callback;
    if (!callback) return;
    const attempt = callback.deliveries.length + 1;
    const at = Date.now();
    const body = JSON.stringify(toView(r));
    const key = await importWebhookSecret(this.env.WEBHOOK_SIGNING_SECRET);
    let outcome: { ok: boolean; status?: number; error?: string; duration_ms: number };
    const policy = resolveCallbackPolicy(this.env);
    const syntax = checkCallbackUrl(callback.url, policy);
    const target = syntax.ok ? await checkCallbackTarget(syntax.url, policy) : syntax;
    if (!key) outcome = { ok: false, error: "no WEBHOOK_SIGNING_SECRET is configured", duration_ms: 0 };
    else if (!target.ok) outcome = { ok: false, error: target.reason, duration_ms: 0 };
    else {
      outcome = await deliverWebhook({
        url: callback.url,
        id: `msg_${r.runId}`,
        body,
        key,
        now: Date.now,
        timeoutMs: this.config.webhookTimeoutMs,
      });
    }
    const delivery = { attempt, at: new Date(at).toISOString(), ...outcome };
    const current = (await this.load()) ?? r;
    const next = recordDelivery(current, delivery, this.config.webhookRetryDelaysMs, Date.now());
    if (!delivery.ok)
      this.logger.warn("run webhook delivery failed", {
        run_id: r.runId,
        attempt,
        ...(outcome.status ? { status: outcome.status } : {}),
        error: outcome.error,
      });
    await this.save(next);
  }
}
