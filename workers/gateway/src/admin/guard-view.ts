/**
 * The admin API's view of an agent's guard (`GET /v1/agents/:agent/guard`,
 * the breaker changes): snake_case with ISO times. No runtime imports, so the
 * dashboard can import these types as the endpoint's contract.
 */
import type { GuardSnapshot } from "../../../../durable-objects/upstream-guard/src/types";

type BreakerState = GuardSnapshot["breaker"]["state"];

/** A guard snapshot as the API returns it (snake_case, ISO times). */
export interface GuardView {
  agent: string;
  /** When the guard took the snapshot. */
  at: string;
  breaker: { state: BreakerState; retry_after_ms: number; consecutive_failures: number; open_until: string | null };
  /** Concurrency permits held now. */
  in_flight: number;
  /** The per-agent rate limit now; null when the agent has none. */
  rate_limit: { limit: number; remaining: number; retry_after_ms: number; reset_ms: number } | null;
  /** Today's (UTC) tokens against the agent's daily budget; null when it has none. */
  tokens: { day: string; used: number; reserved: number; remaining: number } | null;
  retry_budget: { requests: number; retries: number; available: number };
  /** The latest breaker transitions, oldest first. */
  transitions: { from: BreakerState; to: BreakerState; at: string; cause: string }[];
}

/** What a breaker change did: the state read just before it and the state after it. */
export interface BreakerChange {
  reason: string | null;
  from: BreakerState;
  to: BreakerState;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Renders a {@link GuardSnapshot} for the API. */
export function guardView(s: GuardSnapshot): GuardView {
  const b = s.breaker;
  const r = s.rateLimit;
  return {
    agent: s.agent,
    at: iso(s.at),
    breaker: {
      state: b.state,
      retry_after_ms: b.retryAfterMs,
      consecutive_failures: b.consecutiveFailures,
      open_until: b.openUntil === undefined ? null : iso(b.openUntil),
    },
    in_flight: s.inFlight,
    rate_limit: r
      ? { limit: r.limit, remaining: r.remaining, retry_after_ms: r.retryAfterMs, reset_ms: r.resetMs }
      : null,
    tokens: s.tokens
      ? { day: s.tokens.day, used: s.tokens.used, reserved: s.tokens.reserved, remaining: s.tokens.remaining }
      : null,
    retry_budget: {
      requests: s.retryBudget.requests,
      retries: s.retryBudget.retries,
      available: s.retryBudget.available,
    },
    transitions: s.transitions.map((t) => ({ from: t.from, to: t.to, at: iso(t.at), cause: t.cause })),
  };
}
