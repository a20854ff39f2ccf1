/**
 * One {@link Exchange} applied to an agent's guard, pure: the holder's
 * outcomes in order (a failure arrives with the successes before it, so the
 * breaker sees each isolate's attempts as they happened), first attempts for
 * the retry budget, per-request reports, the request records for metrics,
 * then the optional admission and the lease renewals. The Durable Object
 * shell (`index.ts`) loads the key cells this needs and persists the result.
 */
import type { Guard } from "./guard";
import type { KeyLimiter } from "./keys";
import type { Exchange, ExchangeReply } from "./leases/protocol";
import { DEFAULT_LEASE_TTL_MS } from "./leases/protocol";
import { AGENT_LEASE, leaseTtl, renewLease } from "./leases/grant";
import type { AgentMetrics } from "./metrics";
import type { KeyLimits } from "./types";

/** Most first attempts one exchange may report (a bound on a holder's claim). */
const MAX_FIRST_ATTEMPTS = 10_000;

/** What an exchange needs from the Durable Object. */
export interface ExchangeDeps {
  guard: Guard;
  metrics: AgentMetrics;
  /** `keyId`'s cells under `limits` for `attempt`; undefined when the key has no limit here. */
  keyCells(keyId: string, limits: KeyLimits | undefined, attempt: number): KeyLimiter | undefined;
  /** `keyId`'s cells as last admitted, for settling a report. */
  storedKeyCells(keyId: string): { key: KeyLimiter; limits: KeyLimits } | undefined;
  /** Writes `keyId`'s cells back (with the limits they were used under). */
  saveKey(keyId: string, key: KeyLimiter, limits: KeyLimits | undefined): void;
}

/** Applies `call` at `now`; returns the reply and whether the metrics changed. */
export function applyExchange(
  now: number,
  call: Exchange,
  deps: ExchangeDeps,
): { reply: ExchangeReply; metricsChanged: boolean } {
  const { guard, metrics } = deps;
  guard.expireLeases(now);
  guard.leases.see(call.holder, now);
  const ttlMs = leaseTtl(call.config.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, guard.leases.holders(now));
  const reply: ExchangeReply = { leases: [], breaker: "closed", ttlMs, epoch: guard.epoch };
  // Sent by a holder that knew the guard before a reset: what it reports belongs to the guard's old life.
  const current = call.epoch === undefined || call.epoch === guard.epoch;
  const stale = current
    ? {}
    : { outcomes: [], records: [], leases: [], firstAttempts: 0, staleAdmissions: 0, failedOpen: 0 };
  call = { ...call, ...stale };
  let tokens = 0;
  for (const o of call.outcomes ?? []) {
    if (o.callId !== undefined) {
      // Admitted one by one: settle its permit, probe and reservations as a report does.
      const stored = o.keyId !== undefined ? deps.storedKeyCells(o.keyId) : undefined;
      const { keyId, callId, outcome } = o;
      guard.report(
        now,
        {
          config: call.config,
          callId,
          outcome,
          ...(o.tokens ? { tokens: o.tokens } : {}),
          ...(keyId !== undefined ? { keyId } : {}),
        },
        stored?.key,
      );
      if (stored && keyId !== undefined) deps.saveKey(keyId, stored.key, stored.limits);
      tokens += o.tokens && o.tokens > 0 ? o.tokens : 0;
    } else if (o.outcome === "success") guard.breaker.onSuccess(now, undefined, o.keyId);
    else if (o.outcome === "failure") guard.breaker.onFailure(now, undefined, o.keyId);
    else guard.breaker.onNeutral(now, undefined, o.keyId);
  }
  const firsts = Math.min(MAX_FIRST_ATTEMPTS, Math.max(0, Math.floor(call.firstAttempts ?? 0)));
  for (let i = 0; i < firsts; i++) guard.retries.recordRequest(now);
  let metricsChanged = false;
  for (const { at, record } of call.records ?? []) {
    metrics.record(at, record);
    metricsChanged = true;
  }
  // A leased attempt's tokens travel with the agent's lease and again with its key's (each settles its own
  // budget): the agent's metrics count them once, from the agent's lease.
  tokens += (call.leases ?? []).reduce((n, w) => n + (w.keyId === AGENT_LEASE ? Math.max(0, w.settledTokens) : 0), 0);
  if (tokens > 0) {
    metrics.addTokens(tokens);
    metricsChanged = true;
  }
  if ((call.staleAdmissions ?? 0) > 0 || (call.failedOpen ?? 0) > 0) {
    metrics.countBypass(call.staleAdmissions ?? 0, call.failedOpen ?? 0);
    metricsChanged = true;
  }
  if (call.admit) {
    const admit = call.admit;
    const key = admit.keyId !== undefined ? deps.keyCells(admit.keyId, admit.keyLimits, admit.attempt) : undefined;
    reply.admission = guard.admit(now, admit, key);
    if (reply.admission.admitted && key && admit.keyId !== undefined) deps.saveKey(admit.keyId, key, admit.keyLimits);
  }
  for (const want of call.leases ?? []) {
    const key = deps.keyCells(want.keyId, want.keyLimits, 1);
    reply.leases.push(renewLease(now, guard, key, call.holder, want, reply.ttlMs));
    if (key) deps.saveKey(want.keyId, key, want.keyLimits);
  }
  reply.breaker = guard.breaker.peek(now).state;
  return { reply, metricsChanged };
}
