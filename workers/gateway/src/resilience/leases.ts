/**
 * This isolate's admission leases and how they travel: one {@link AgentHolder}
 * per agent (owned by the app, never module state), and the exchanges with
 * the agent's guard. Background exchanges (renewals, batched reports) run in
 * the `waitUntil` of the request that found them due, one at a time per
 * agent; when reports wait but are not yet due, a timer in that request's
 * `waitUntil` sends them at {@link FLUSH_MS}. A failed background exchange
 * is logged and dropped: the leases it would have renewed run out, and the
 * next request asks the guard.
 */
import { AgentHolder, FLUSH_MS } from "../../../../durable-objects/upstream-guard/src/leases/holder";
import type {
  Exchange,
  ExchangeReply,
  GuardFault,
} from "../../../../durable-objects/upstream-guard/src/leases/protocol";
import { DEFAULT_LEASE_TTL_MS } from "../../../../durable-objects/upstream-guard/src/leases/protocol";
import type { GuardConfig } from "../../../../durable-objects/upstream-guard/src/types";
import type { DurableObjectCalls } from "../../../shared/http/context";
import type { Logger } from "../../../shared/logger";
import { TimeoutError, withTimeout } from "../../../shared/timeout";
import type { GuardNamespace } from "./guard-client";

export { FLUSH_MS };

/** Default of `GUARD_STALE_GRACE_MS`: how long an isolate enforces from its last lease when the guard cannot answer. */
export const DEFAULT_STALE_GRACE_MS = 10_000;
/** A background exchange is abandoned after this long. */
export const BACKGROUND_TIMEOUT_MS = 5_000;

/** Lease settings of the gateway. */
export interface LeaseSettings {
  ttlMs: number;
  staleGraceMs: number;
}

/** This isolate's holders, one per agent; `holder` names the isolate to every guard. */
export class IsolateLeases {
  private id: string | undefined;
  /** The isolate's name to the guards: random, made at first use (Workers refuse randomness at module load). */
  get holder(): string {
    this.id ??= crypto.randomUUID();
    return this.id;
  }
  private readonly agents = new Map<string, { holder: AgentHolder; config: GuardConfig }>();

  /** The holder for `agent`, with the config its exchanges carry (a new one if the TTL changed). */
  of(agent: string, config: GuardConfig, ttlMs = DEFAULT_LEASE_TTL_MS): AgentHolder {
    let entry = this.agents.get(agent);
    if (!entry || entry.holder.ttlMs !== ttlMs) {
      entry = { holder: new AgentHolder(this.holder, ttlMs), config };
      this.agents.set(agent, entry);
    }
    entry.config = config;
    return entry.holder;
  }

  /** Drops `agent`'s holder: its leases, meters and queue (an admin changed or reset the guard). */
  forget(agent: string): void {
    this.agents.delete(agent);
  }

  /** The config last used with `agent`'s holder. */
  configOf(agent: string): GuardConfig | undefined {
    return this.agents.get(agent)?.config;
  }
}

/** What sending needs from the request that sends. */
export interface Transport {
  namespace: GuardNamespace;
  agent: string;
  config: GuardConfig;
  waitUntil(promise: Promise<unknown>): void;
  logger: Pick<Logger, "warn">;
  calls?: DurableObjectCalls;
}

/** How an exchange failed: no answer in time, a Durable Object that says it is overloaded, or anything else. */
export function guardFault(err: unknown): GuardFault {
  if (err instanceof TimeoutError) return "timeout";
  return typeof err === "object" && err !== null && (err as { overloaded?: unknown }).overloaded === true
    ? "overloaded"
    : "error";
}

/** Sends one exchange and applies its reply to `holder`; rejects on timeout or error. */
export async function send(
  t: Transport,
  holder: AgentHolder,
  body: Omit<Exchange, "config">,
  timeoutMs: number,
): Promise<ExchangeReply> {
  const sentAt = Date.now();
  try {
    const stub = t.namespace.get(t.namespace.idFromName(t.agent));
    const reply = (await withTimeout(
      stub.exchange({ config: t.config, ...body }) as Promise<ExchangeReply>,
      Math.max(1, timeoutMs),
    )) as ExchangeReply;
    holder.apply(Date.now(), sentAt, reply, body);
    return reply;
  } catch (err) {
    holder.unsent(body, Date.now(), guardFault(err));
    throw err;
  }
}

/** Sends what `holder` has in the background if due, or arms a timer for when it will be. */
export function flush(t: Transport, holder: AgentHolder): void {
  const now = Date.now();
  if (holder.due(now)) {
    holder.busy = true;
    if (t.calls) t.calls.background++;
    const sending = send(t, holder, holder.take(now), BACKGROUND_TIMEOUT_MS).then(
      () => {
        holder.busy = false;
        // What arrived meanwhile may be due already (a failure, say).
        flush(t, holder);
      },
      (err: unknown) => {
        holder.busy = false;
        // No retry loop against a guard that cannot answer: what waits goes with the next request's exchange.
        t.logger.warn("upstream guard exchange failed", {
          agent: t.agent,
          error: err instanceof Error ? err.message : String(err),
        });
      },
    );
    t.waitUntil(sending);
    return;
  }
  const at = holder.nextDue(now);
  if (at === undefined || holder.busy || (holder.timerAt !== undefined && holder.timerAt <= at)) return;
  holder.timerAt = at;
  t.waitUntil(
    new Promise<void>((resolve) =>
      setTimeout(
        () => {
          if (holder.timerAt === at) holder.timerAt = undefined;
          flush(t, holder);
          resolve();
        },
        Math.max(1, at - now),
      ),
    ),
  );
}
