/**
 * The gateway's side of an agent's {@link UpstreamGuard}, for one request.
 * A first attempt is admitted from this isolate's lease when it has room
 * (leases.ts, `durable-objects/upstream-guard/src/leases/`): no round trip.
 * Otherwise (a cold isolate, a key not leased yet, an exhausted lease, a
 * retry, a breaker not closed) one awaited `exchange` admits it and carries
 * whatever reports wait, and may bring a lease back. Outcomes are queued and
 * sent in the background, batched; a failure goes at once.
 *
 * Failure direction: if the guard cannot answer within {@link ADMIT_TIMEOUT_MS},
 * the isolate keeps enforcing from its last lease and the breaker as last
 * known, for `GUARD_STALE_GRACE_MS` after the last grant (counted as `stale`
 * in /metrics). Only past that, or with no lease to go by, is the attempt
 * admitted **open** — the agent called without the guard, and without
 * retries (counted as `open`) — because an outage of the guard must not
 * become an outage of every agent.
 */
import type { UpstreamGuard } from "../../../../durable-objects/upstream-guard/src";
import {
  type AgentHolder,
  type LeasedTicket,
  needsKeyLease,
} from "../../../../durable-objects/upstream-guard/src/leases/holder";
import { keyLimitsFor } from "../../../../durable-objects/upstream-guard/src/keys";
import type {
  AdmitRequest,
  AdmitResult,
  KeyLimits,
  RateLimitReport,
  ReportRequest,
} from "../../../../durable-objects/upstream-guard/src/types";
import { AGENT_LEASE, UNLIMITED } from "../../../../durable-objects/upstream-guard/src/leases/grant";
import type { GuardFault } from "../../../../durable-objects/upstream-guard/src/leases/protocol";
import { type IsolateLeases, type LeaseSettings, type Transport, flush, guardFault, send } from "./leases";

/** Refusals that tokens or permits leased to this isolate can answer. */
const LEASABLE_REFUSALS = new Set([
  "rate_limited",
  "key_rate_limited",
  "concurrency",
  "key_concurrency",
  "token_budget",
  "key_token_budget",
]);

/** How often an attempt waiting for a renewal on its way looks whether it arrived. */
const WAIT_POLL_MS = 2;

/** Longest wait for an admission decision before enforcing from the last lease, or failing open. */
export const ADMIT_TIMEOUT_MS = 1000;

/** Admission when the guard could not answer and nothing was left to enforce from. */
export interface GuardUnavailable {
  unavailable: true;
  reason: GuardFault;
}

/** Talks to one agent's guard. */
export interface GuardClient {
  admit(request: AdmitRequest, timeoutMs: number): Promise<AdmitResult | GuardUnavailable>;
  /** Queues an attempt's outcome (never rejects; a failure is sent at once, in the background). */
  report(request: ReportRequest): void;
}

/** The namespace binding of the guard. */
export type GuardNamespace = DurableObjectNamespace<UpstreamGuard>;

/** The rate limit report of a leased admission: the tighter limit, with what this isolate's lease has left. */
function leasedRateLimit(request: AdmitRequest, left: number): RateLimitReport | undefined {
  const key = keyLimitsFor(request.config, request.keyLimits, 1).rateLimit;
  const config = key ?? request.config.rateLimit;
  if (!config || left === UNLIMITED) return undefined;
  const remaining = Math.max(0, Math.min(left, config.burst));
  return {
    scope: key ? "key" : "agent",
    config,
    decision: { allowed: true, remaining, retryAfterMs: 0, resetMs: 0, limit: config.limit },
  };
}

/**
 * Waits until `holder` applies another reply (or `until`), polling from this request: a waiter must not be woken
 * by a callback of another request's I/O (see {@link AgentHolder.replies}).
 */
async function nextReply(holder: AgentHolder, until: number): Promise<void> {
  const seen = holder.replies;
  while (holder.replies === seen && Date.now() < until) await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
}

/** Creates the client of `transport.agent`'s guard for one request. */
export function guardClient(transport: Transport, leases: IsolateLeases, settings: LeaseSettings): GuardClient {
  const config = { ...transport.config, leaseTtlMs: settings.ttlMs };
  const t: Transport = { ...transport, config };
  const holder = leases.of(t.agent, config, settings.ttlMs);
  /** Attempts this request admitted from a lease, by callId. */
  const tickets = new Map<string, LeasedTicket>();
  const admitted = new Set<string>();
  /** One awaited exchange carrying `request` (and whatever waits); the reply's admission. */
  async function admitByGuard(
    request: AdmitRequest,
    timeoutMs: number,
    extra: { keyId: string; keyLimits?: KeyLimits; estimate: number; keyed: boolean }[],
  ) {
    if (t.calls) t.calls.awaited++;
    const reply = await send(
      t,
      holder,
      { ...holder.take(Date.now(), extra), admit: request },
      Math.min(timeoutMs, ADMIT_TIMEOUT_MS),
    );
    return (
      reply.admission ?? {
        admitted: false as const,
        reason: "circuit_open" as const,
        retryAfterMs: 1000,
        breaker: reply.breaker,
      }
    );
  }

  /**
   * The guard could not answer (or is being left alone): a first attempt is decided from the last lease within
   * the stale grace; otherwise, or past it, the attempt goes ahead open.
   */
  function unavailable(request: AdmitRequest, fault: GuardFault, error: string): AdmitResult | GuardUnavailable {
    const keyId = request.keyId;
    if (keyId !== undefined && request.attempt <= 1) {
      const stale = holder.tryStale(
        Date.now(),
        keyId,
        request.estimateTokens,
        settings.staleGraceMs,
        needsKeyLease(config, request.keyLimits),
      );
      if (typeof stale === "string") {
        t.logger.warn("upstream guard unavailable; refused from the last lease", { agent: t.agent, reason: stale });
        return { admitted: false, reason: stale, retryAfterMs: 1000, breaker: holder.breaker.state };
      }
      if (stale) {
        t.logger.warn("upstream guard unavailable; admitted from the last lease", { agent: t.agent });
        tickets.set(request.callId, stale);
        holder.started(keyId);
        return { admitted: true, probe: false, breaker: "closed" };
      }
    }
    holder.bypassed("open");
    t.logger.warn("upstream guard unavailable; failing open", { agent: t.agent, error });
    return { unavailable: true, reason: fault };
  }

  /** Admits locally from the lease; the decision, or undefined. */
  function fromLease(request: AdmitRequest, keyId: string): AdmitResult | undefined {
    const keyed = needsKeyLease(config, request.keyLimits);
    const ticket = holder.tryAdmit(Date.now(), keyId, request.estimateTokens, keyed);
    if (!ticket) return undefined;
    tickets.set(request.callId, ticket);
    holder.started(keyId);
    flush(t, holder);
    const left = Math.min(
      holder.lease(AGENT_LEASE)?.tokens ?? 0,
      keyed ? (holder.lease(keyId)?.tokens ?? 0) : UNLIMITED,
    );
    const rateLimit = leasedRateLimit(request, left);
    return { admitted: true, probe: false, breaker: "closed", ...(rateLimit ? { rateLimit } : {}) };
  }

  return {
    async admit(request, timeoutMs) {
      const now = Date.now();
      const keyId = request.keyId;
      const first = request.attempt <= 1;
      if (first && keyId !== undefined) holder.observe(now, keyId);
      if (first && keyId !== undefined) {
        const local = fromLease(request, keyId);
        if (local) return local;
        if (holder.lease(AGENT_LEASE)) {
          // The leases had no room: ask for more (a renewal, due at once) and wait for it, polling from this
          // request, rather than add a call of our own; the guard is asked directly only when none is on its way.
          const keyed = needsKeyLease(config, request.keyLimits);
          holder.unmet(now, keyId);
          // Renewal after renewal while they bring tokens; once the guard grants none (the cell is dry), it decides.
          const until = now + Math.min(timeoutMs, ADMIT_TIMEOUT_MS);
          for (flush(t, holder); holder.renewalPending(keyId, keyed) && Date.now() < until; flush(t, holder)) {
            await nextReply(holder, until);
            const late = fromLease(request, keyId);
            if (late) return late;
          }
        }
      }
      const keyed = needsKeyLease(config, request.keyLimits);
      // The guard failed lately: leave it alone until the backoff ends (one exchange then tells whether it is back).
      const down = holder.backingOff(Date.now());
      if (down) return unavailable(request, down, "backing off after failed exchanges");
      // A token of the lease but no free permit: the guard checks the rest.
      const receipt = first && keyId !== undefined ? holder.takeToken(Date.now(), keyId, keyed) : undefined;
      const leasedRate = receipt?.scope;
      const extra =
        first && keyId !== undefined
          ? [
              {
                keyId,
                ...(request.keyLimits ? { keyLimits: request.keyLimits } : {}),
                estimate: request.estimateTokens,
                keyed,
              },
            ]
          : [];
      try {
        let result: AdmitResult = await admitByGuard(
          leasedRate ? { ...request, leasedRate } : request,
          timeoutMs,
          extra,
        ).catch((err: unknown) => {
          // Undecided as far as we know: the tokens count as used (the guard may have admitted it).
          if (receipt) holder.settleTokens(receipt, true);
          throw err;
        });
        if (receipt) holder.settleTokens(receipt, result.admitted);
        if (!result.admitted && first && keyId !== undefined && LEASABLE_REFUSALS.has(result.reason)) {
          // This reply, or one before it, may have leased this isolate what the cell had left, or a grant on its
          // way may: use it. The guard is asked once more only with tokens of another scope than it just refused.
          const until = Date.now() + Math.min(timeoutMs, ADMIT_TIMEOUT_MS);
          for (;;) {
            const leased = fromLease(request, keyId);
            if (leased) return leased;
            const spent = holder.takeToken(Date.now(), keyId, keyed);
            if (spent && spent.scope !== receipt?.scope) {
              result = await admitByGuard({ ...request, leasedRate: spent.scope }, timeoutMs, []).catch(
                (err: unknown) => {
                  holder.settleTokens(spent, true);
                  throw err;
                },
              );
              holder.settleTokens(spent, result.admitted);
              break;
            }
            if (spent) holder.settleTokens(spent, false);
            if (!holder.renewalPending(keyId, keyed) || Date.now() >= until) break;
            await nextReply(holder, until);
          }
        }
        if (result.admitted) {
          admitted.add(request.callId);
          if (keyId !== undefined) holder.started(keyId);
        }
        flush(t, holder);
        return result;
      } catch (err) {
        return unavailable(request, guardFault(err), err instanceof Error ? err.message : String(err));
      }
    },
    report(request) {
      const ticket = tickets.get(request.callId);
      const tokens = request.tokens ?? 0;
      if (ticket) {
        tickets.delete(request.callId);
        holder.ended(ticket.keyId);
        holder.finish(ticket, request.outcome, tokens);
      } else if (admitted.delete(request.callId)) {
        if (request.keyId !== undefined) holder.ended(request.keyId);
        holder.queue({
          callId: request.callId,
          outcome: request.outcome,
          ...(tokens > 0 ? { tokens } : {}),
          ...(request.keyId !== undefined ? { keyId: request.keyId } : {}),
        });
      } else {
        return;
      }
      flush(t, holder);
    },
  };
}
