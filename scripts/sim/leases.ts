/**
 * A discrete-event simulation of admission leases at scale: many gateway
 * isolates with Poisson arrivals, one agent's guard serving their exchanges
 * one at a time (a Durable Object), network round trips between them. It
 * drives the real policy code — the holders (`leases/holder.ts`), the guard
 * (`guard.ts`) and its exchange (`exchange.ts`, `leases/grant.ts`) — and the
 * same admission flow as the gateway's guard client (a lease first, then the
 * guard, then a token of the lease). Virtual time; no Workers runtime.
 *
 * It measures what the guard carries (calls per second, awaited and in the
 * background), what callers wait for, and what the limits let through: the
 * worst excess of admissions in any window over `rate × window + burst` (the
 * bound docs/admission-leases.md derives; ≤ 0 means within it) and the peak
 * concurrency against the limit (which must never be exceeded).
 */
import { applyExchange } from "../../durable-objects/upstream-guard/src/exchange";
import { Guard } from "../../durable-objects/upstream-guard/src/guard";
import { AgentHolder, type LeasedTicket, needsKeyLease } from "../../durable-objects/upstream-guard/src/leases/holder";
import type { Exchange, ExchangeReply } from "../../durable-objects/upstream-guard/src/leases/protocol";
import { AgentMetrics } from "../../durable-objects/upstream-guard/src/metrics";
import type { AdmitRequest, AdmitResult, GuardConfig } from "../../durable-objects/upstream-guard/src/types";
import { EventQueue, mulberry32, windowExcess } from "./events";

/** One scenario. */
export interface SimOptions {
  /** Offered load, requests per second, spread evenly over the isolates. */
  ratePerS: number;
  isolates: number;
  durationMs: number;
  /** The agent's rate limit per second and its burst (absent: none). */
  rateLimit?: { perS: number; burst: number };
  /** The agent's concurrency limit (absent: none), and each key's cap (needs the limit). */
  maxConcurrent?: number;
  keyMaxConcurrent?: number;
  /** The agent's daily token budget; every attempt reserves `estimate` and uses exactly that. */
  budget?: { maxTokensPerDay: number; estimate: number };
  /** Forces the breaker open at this time (an admin's isolation), to see how fast isolates stop. */
  openAtMs?: number;
  /** API keys the requests are spread over. */
  keys: number;
  /** Mean agent latency (exponential), ms. */
  serviceMs: number;
  /** Round trip between an isolate and the guard, ms: each isolate draws one in this range. */
  rttMs: [number, number];
  /** The guard's time per exchange, ms (1 ms: about 1,000 calls/s, Cloudflare's figure for one object). */
  guardMs: number;
  ttlMs: number;
  /** Share of attempts that fail (the breaker sees them at once). */
  failureRate?: number;
  seed?: number;
  /** The load ramps up linearly over this long (isolates warm up), and is measured after it (default: a third). */
  rampMs?: number;
  /**
   * A guard whose queue holds more than this much work sheds calls (as a Durable Object answers "overloaded"):
   * the isolate enforces from its last lease for `staleGraceMs`, then fails open. Absent: the queue is unbounded.
   */
  shedMs?: number;
  /** GUARD_STALE_GRACE_MS (default 10 s). */
  staleGraceMs?: number;
}

/** What one scenario measured (rates over the steady part, after the ramp; the limits over the whole run). */
export interface SimResult {
  requests: number;
  admitted: number;
  refused: number;
  /** Guard calls per second of simulated time: all, awaited by a request, in the background. */
  callsPerS: number;
  awaitedPerS: number;
  backgroundPerS: number;
  awaitedPerRequest: number;
  /** The guard's busy share (1 = saturated). */
  guardUtilization: number;
  /** Mean wait for an admission decision, ms. */
  meanAdmitMs: number;
  /** Worst (admitted − (rate × window + burst)) over windows of 100 ms and 1 s; ≤ 0: within the bound. */
  worstExcess: { windowMs: number; excess: number }[];
  maxConcurrency: number;
  /** The most attempts of one key in flight at once. */
  maxKeyConcurrency: number;
  /** Tokens of the budget the admitted attempts used (each its estimate). */
  tokensUsed: number;
  /** How long after `openAtMs` an isolate still admitted from a lease, ms (-Infinity: none did). */
  leasedAfterOpenMs: number;
  /** Calls the guard shed, and admissions made without it (from the last lease, or open), per second. */
  shedPerS: number;
  stalePerS: number;
  openPerS: number;
}

/** Runs one scenario. */
export function simulate(o: SimOptions): SimResult {
  const rand = mulberry32(o.seed ?? 1);
  const q = new EventQueue();
  const config: GuardConfig = {
    agent: "sim-agent",
    breaker: { failureThreshold: 1_000_000, openMs: 60_000, halfOpenProbes: 1 },
    retryBudget: { ratio: 0.2, minPerWindow: 10, windowMs: 10_000 },
    leaseMs: 15_000,
    leaseTtlMs: o.ttlMs,
    ...(o.rateLimit ? { rateLimit: { limit: o.rateLimit.perS, periodMs: 1000, burst: o.rateLimit.burst } } : {}),
    ...(o.maxConcurrent ? { maxConcurrent: o.maxConcurrent } : {}),
    ...(o.maxConcurrent && o.keyMaxConcurrent ? { keyMaxConcurrent: o.keyMaxConcurrent } : {}),
    ...(o.budget ? { maxTokensPerDay: o.budget.maxTokensPerDay } : {}),
  };
  const guard = new Guard(config);
  const keyed = needsKeyLease(config, undefined);
  const metrics = new AgentMetrics();
  const deps = { guard, metrics, keyCells: () => undefined, storedKeyCells: () => undefined, saveKey: () => {} };
  let guardFreeAt = 0;
  let guardBusy = 0;
  const rampMs = o.rampMs ?? o.durationMs / 3;
  const steady = () => q.now >= rampMs;
  const stats = {
    requests: 0,
    admitted: 0,
    refused: 0,
    awaited: 0,
    background: 0,
    admitWaitMs: 0,
    inFlight: 0,
    maxConcurrency: 0,
    maxKey: 0,
    tokens: 0,
    shed: 0,
    stale: 0,
    open: 0,
  };
  const keyInFlight = new Map<string, number>();
  const estimate = o.budget?.estimate ?? 0;
  let leasedAfterOpen = -Infinity;
  if (o.openAtMs !== undefined) q.at(o.openAtMs, () => guard.breaker.isolate(q.now, "simulated isolation"));
  const admissions: number[] = [];
  const holders = Array.from({ length: o.isolates }, (_, i) => ({
    h: new AgentHolder(`iso-${i}`, o.ttlMs),
    rtt: o.rttMs[0] + rand() * (o.rttMs[1] - o.rttMs[0]),
  }));

  /** Sends `body` from isolate `i`; `onReply` runs when the answer is back there, `onShed` if the guard shed it. */
  function exchange(
    i: number,
    body: Omit<Exchange, "config">,
    onReply: (r: ExchangeReply, sentAt: number) => void,
    onShed: () => void = () => {},
  ): void {
    const sentAt = q.now;
    const { h, rtt } = holders[i]!;
    q.at(sentAt + rtt / 2, () => {
      if (o.shedMs !== undefined && guardFreeAt - q.now > o.shedMs) {
        if (steady()) stats.shed++;
        q.at(q.now + rtt / 2, () => {
          h.unsent(body, q.now, "overloaded");
          onShed();
        });
        return;
      }
      const start = Math.max(q.now, guardFreeAt);
      guardFreeAt = start + o.guardMs;
      guardBusy += o.guardMs;
      q.at(start, () => {
        const { reply } = applyExchange(q.now, { config, ...body }, deps);
        if (body.admit && reply.admission?.admitted) admissions.push(q.now);
        q.at(q.now + o.guardMs + rtt / 2, () => {
          h.apply(q.now, sentAt, reply, body);
          onReply(reply, sentAt);
        });
      });
    });
  }

  function flush(i: number): void {
    const { h } = holders[i]!;
    if (h.due(q.now)) {
      h.busy = true;
      if (steady()) stats.background++;
      exchange(
        i,
        h.take(q.now),
        () => {
          h.busy = false;
          flush(i);
        },
        () => {
          h.busy = false;
        },
      );
      return;
    }
    const at = h.nextDue(q.now);
    if (at === undefined || h.busy || (h.timerAt !== undefined && h.timerAt <= at)) return;
    h.timerAt = at;
    q.at(at, () => {
      if (h.timerAt === at) h.timerAt = undefined;
      flush(i);
    });
  }

  function run(i: number, keyId: string, ticket: LeasedTicket | undefined, callId: string, counted: boolean): void {
    if (counted) stats.admitted++;
    stats.inFlight++;
    stats.maxConcurrency = Math.max(stats.maxConcurrency, stats.inFlight);
    keyInFlight.set(keyId, (keyInFlight.get(keyId) ?? 0) + 1);
    stats.maxKey = Math.max(stats.maxKey, keyInFlight.get(keyId)!);
    stats.tokens += estimate;
    if (ticket && o.openAtMs !== undefined && q.now >= o.openAtMs)
      leasedAfterOpen = Math.max(leasedAfterOpen, q.now - o.openAtMs);
    const { h } = holders[i]!;
    h.started(keyId);
    q.at(q.now - o.serviceMs * Math.log(1 - rand()), () => {
      stats.inFlight--;
      keyInFlight.set(keyId, keyInFlight.get(keyId)! - 1);
      const outcome = rand() < (o.failureRate ?? 0) ? "failure" : "success";
      h.ended(keyId);
      if (ticket) h.finish(ticket, outcome, estimate);
      // An attempt admitted open has nothing at the guard to settle (as in the guard client).
      else if (callId !== "") h.queue({ keyId, callId, outcome, ...(estimate > 0 ? { tokens: estimate } : {}) });
      h.record(q.now, {
        capability: "task",
        outcome: { status: outcome === "success" ? 200 : 502, durationMs: 10 },
        retries: 0,
      });
      flush(i);
    });
  }

  function arrive(i: number): void {
    const counted = steady();
    if (counted) stats.requests++;
    const { h } = holders[i]!;
    const keyId = `key-${Math.floor(rand() * o.keys)}`;
    h.observe(q.now, keyId);
    admit(i, keyId, counted, q.now, true);
  }

  /** The guard client's flow: the leases; a reply on its way (once); the guard; a token of the lease. */
  function admit(i: number, keyId: string, counted: boolean, arrived: number, mayWait: boolean): void {
    const { h } = holders[i]!;
    const callId = `c${i}-${arrived}`;
    const ticket = h.tryAdmit(q.now, keyId, estimate, keyed);
    if (ticket) {
      if (counted) stats.admitWaitMs += q.now - arrived;
      admissions.push(q.now);
      run(i, keyId, ticket, callId, counted);
      flush(i);
      return;
    }
    if (mayWait && h.lease("*")) h.unmet(q.now, keyId);
    if (h.lease("*") && q.now < arrived + 1000) flush(i);
    if (h.lease("*") && h.renewalPending(keyId, keyed) && q.now < arrived + 1000) {
      // As the guard client: poll every 2 ms until a reply arrived (at most ADMIT_TIMEOUT_MS from arrival), then
      // again while renewals are pending and the guard has not run dry.
      const seen = h.replies;
      const poll = () =>
        h.replies !== seen || q.now >= arrived + 1000
          ? admit(i, keyId, counted, arrived, false)
          : q.at(q.now + 2, poll);
      q.at(q.now + 2, poll);
      return;
    }
    const request: AdmitRequest = { config, callId, keyId, attempt: 1, estimateTokens: estimate };
    const receipt = h.takeToken(q.now, keyId, keyed);
    const leasedRate = receipt?.scope;
    const settle = (result: AdmitResult | undefined, second: boolean) => {
      if (counted) stats.admitWaitMs += q.now - arrived;
      if (receipt && !second) h.settleTokens(receipt, !!result?.admitted);
      if (result?.admitted) return run(i, keyId, undefined, callId, counted);
      if (!second) {
        const late = h.tryAdmit(q.now, keyId, estimate, keyed);
        if (late) {
          admissions.push(q.now);
          return run(i, keyId, late, callId, counted);
        }
        const spent = h.takeToken(q.now, keyId, keyed);
        if (spent && spent.scope === receipt?.scope) h.settleTokens(spent, false);
        else if (spent) {
          if (steady()) stats.awaited++;
          return exchange(i, { ...h.take(q.now), admit: { ...request, leasedRate: spent.scope } }, (r) => {
            h.settleTokens(spent, !!r.admission?.admitted);
            settle(r.admission, true);
          });
        }
      }
      if (counted) stats.refused++;
      flush(i);
    };
    // Shed (or backing off after shed calls): as the guard client, enforce from the last lease within the grace,
    // else fail open.
    const unavailable = () => {
      if (counted) stats.admitWaitMs += q.now - arrived;
      const stale = h.tryStale(q.now, keyId, estimate, o.staleGraceMs ?? 10_000, keyed);
      if (typeof stale === "string") {
        if (counted) stats.refused++;
        return;
      }
      if (counted) stats[stale ? "stale" : "open"]++;
      if (!stale) h.bypassed("open");
      run(i, keyId, stale, stale ? callId : "", counted);
    };
    if (h.backingOff(q.now)) {
      if (receipt) h.settleTokens(receipt, false);
      return unavailable();
    }
    if (counted) stats.awaited++;
    const body = {
      ...h.take(q.now, [{ keyId, estimate, keyed }]),
      admit: leasedRate ? { ...request, leasedRate } : request,
    };
    exchange(
      i,
      body,
      (r) => settle(r.admission, false),
      () => {
        if (receipt) h.settleTokens(receipt, true);
        unavailable();
      },
    );
  }

  // Poisson arrivals at each isolate: exponential gaps with this mean, ms.
  const gapMs = (o.isolates / o.ratePerS) * 1000;
  for (let i = 0; i < o.isolates; i++) {
    const next = (): void => {
      // The ramp thins the arrivals: a share t / rampMs of them comes while it lasts.
      if (q.now >= rampMs || rand() < q.now / rampMs) arrive(i);
      const t = q.now - gapMs * Math.log(1 - rand());
      if (t < o.durationMs) q.at(t, next);
    };
    q.at(-gapMs * Math.log(1 - rand()), next);
  }
  q.run();
  const seconds = (o.durationMs - rampMs) / 1000;
  const calls = stats.awaited + stats.background;
  const rate = o.rateLimit;
  return {
    requests: stats.requests,
    admitted: stats.admitted,
    refused: stats.refused,
    callsPerS: calls / seconds,
    awaitedPerS: stats.awaited / seconds,
    backgroundPerS: stats.background / seconds,
    awaitedPerRequest: stats.awaited / Math.max(1, stats.requests),
    guardUtilization: guardBusy / Math.max(1, q.now),
    meanAdmitMs: stats.admitWaitMs / Math.max(1, stats.requests),
    worstExcess: rate
      ? [100, 1000].map((w) => ({ windowMs: w, excess: windowExcess(admissions, w, rate.perS / 1000, rate.burst) }))
      : [],
    maxConcurrency: stats.maxConcurrency,
    maxKeyConcurrency: stats.maxKey,
    tokensUsed: stats.tokens,
    leasedAfterOpenMs: leasedAfterOpen,
    shedPerS: stats.shed / seconds,
    stalePerS: stats.stale / seconds,
    openPerS: stats.open / seconds,
  };
}
