/**
 * The soak's verdicts, as pure functions of what was recorded: the answers
 * the clients got, the request log, the breaker's transitions, the phases'
 * time windows and the state read on both sides of a restart. Each check
 * says what it measured, so a failure explains itself.
 */
import type { LoggedRequest, PersistedState, Transition } from "./observe";
import { type Phase, isFailing } from "./phases";
import type { SoakResponse } from "./runner";

/** One verdict. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** When a phase ran (epoch ms, from its first request sent to its last answer). */
export interface PhaseWindow {
  start: number;
  end: number;
}

/** Upper bound on upstream attempts per request, on average. */
export const MAX_ATTEMPTS_PER_REQUEST = 1.2;
/** A response may come this long after its deadline. */
export const DEADLINE_SLACK_MS = 1000;

const ids = (list: readonly string[], max = 5) =>
  list.length > max ? `${list.slice(0, max).join(", ")} … (+${list.length - max})` : list.join(", ");

/**
 * Every request answered, with its own id in the header and the body, in the
 * expected shape, in time, and never a 500. Requests a hard restart cut
 * while in flight may have no answer; every other one must have one.
 */
export function checkResponses(expected: number, responses: readonly SoakResponse[]): Check[] {
  const cut = responses.filter((r) => r.cut && r.status === 0);
  const answered = responses.filter((r) => r.status !== 0);
  const dropped = responses.filter((r) => r.status === 0 && !r.cut);
  const wrongId = answered.filter((r) => r.headerId !== r.requestId || r.bodyId !== r.requestId);
  const badShape = answered.filter((r) => !r.shapeOk);
  const late = answered.filter((r) => r.latencyMs > r.deadlineMs + DEADLINE_SLACK_MS);
  const fiveHundreds = answered.filter((r) => r.status === 500 || r.code === "INTERNAL_ERROR");
  const slowest = answered.reduce((m, r) => Math.max(m, r.latencyMs), 0);
  return [
    {
      name: "every request answered",
      ok: responses.length === expected && dropped.length === 0,
      detail: `${answered.length}/${expected} answered, ${cut.length} cut in flight by the hard restart; dropped: ${dropped.length}${
        dropped.length
          ? ` (${ids(
              dropped.map((r) => `${r.requestId} ${r.error}`),
              3,
            )})`
          : ""
      }`,
    },
    {
      name: "each response carries its request id",
      ok: wrongId.length === 0,
      detail:
        wrongId.length === 0
          ? "X-Request-Id and body request_id equal the id sent, on every response"
          : `mismatched: ${ids(wrongId.map((r) => r.requestId))}`,
    },
    {
      name: "every body in the expected shape",
      ok: badShape.length === 0,
      detail:
        badShape.length === 0
          ? "results, or the one error shape with no stack trace"
          : `not: ${ids(badShape.map((r) => `${r.requestId} (${r.status})`))}`,
    },
    {
      name: "none past the deadline + 1 s",
      ok: late.length === 0,
      detail: `slowest ${Math.round(slowest)} ms; late: ${late.length}`,
    },
    {
      name: "no 500 from the gateway",
      ok: fiveHundreds.length === 0,
      detail: `${fiveHundreds.length} responses with 500 / INTERNAL_ERROR`,
    },
  ];
}

/**
 * Exactly one request-log row per answered request, with the status the
 * caller got; a request cut by a hard restart has at most one. A hard
 * restart is a crash: the gateway's outbox (request-log/outbox.ts) loses
 * what it held, so a request answered within `crash.windowMs` before it
 * (`OUTBOX_FLUSH_MS`, plus the answer's way back) may have none. That is
 * the documented bound, and this holds it: a row missing for any other
 * request fails the check.
 */
export function checkRequestLog(
  responses: readonly SoakResponse[],
  logged: readonly LoggedRequest[],
  crash?: { at: number; windowMs: number },
): Check {
  const sent = new Map(responses.map((r) => [r.requestId, r]));
  const seen = new Map<string, number>();
  for (const row of logged) seen.set(row.request_id, (seen.get(row.request_id) ?? 0) + 1);
  const lostToCrash = (r: SoakResponse) =>
    crash !== undefined && r.endedAt !== undefined && r.endedAt <= crash.at && crash.at - r.endedAt <= crash.windowMs;
  const unlogged = [...sent.values()].filter((r) => !seen.has(r.requestId) && !(r.cut && r.status === 0));
  const inWindow = unlogged.filter(lostToCrash).length;
  const missing = unlogged.filter((r) => !lostToCrash(r)).map((r) => r.requestId);
  const extra = [...seen.keys()].filter((id) => !sent.has(id));
  const twice = [...seen.entries()].filter(([, n]) => n > 1).map(([id]) => id);
  const wrongStatus = logged.filter((row) => {
    const r = sent.get(row.request_id);
    return r !== undefined && r.status !== 0 && r.status !== row.status;
  });
  const ok = missing.length === 0 && extra.length === 0 && twice.length === 0 && wrongStatus.length === 0;
  const cutLogged = [...sent.values()].filter((r) => r.cut && r.status === 0 && seen.has(r.requestId)).length;
  return {
    name: "exactly one request-log row per request",
    ok,
    detail: ok
      ? `${logged.length} rows for ${sent.size} requests, each with the status the caller got (${cutLogged} of the cut requests were logged${crash ? `; ${inWindow} answered within ${crash.windowMs} ms before the hard restart lost with its outbox` : ""})`
      : `missing ${missing.length} (${ids(missing)}), unknown ${extra.length}, duplicated ${twice.length}, status differs ${wrongStatus.length} (${ids(wrongStatus.map((r) => r.request_id))})`,
  };
}

/** Upstream attempts per request, on average, from the request log. */
export function checkAttempts(logged: readonly LoggedRequest[]): Check {
  const upstream = logged.reduce((n, r) => n + r.upstream, 0);
  const ratio = logged.length ? upstream / logged.length : 0;
  return {
    name: `upstream attempts per request ≤ ${MAX_ATTEMPTS_PER_REQUEST}`,
    ok: logged.length > 0 && ratio <= MAX_ATTEMPTS_PER_REQUEST,
    detail: `${upstream} attempts reached agent-demo for ${logged.length} requests: ${ratio.toFixed(3)} per request`,
  };
}

const within = (t: Transition, from: number, to: number) => {
  const at = Date.parse(t.at);
  return at >= from && at <= to;
};

const closedWhen = (ms: number) => (ms <= 0 ? `${-ms} ms before the phase ended` : `${ms} ms after the phase ended`);

/**
 * In each failing phase the breaker opened, and it was closed again before
 * the next failing phase began (within the phase itself, or in the healthy
 * phase after it). Healthy phases entered closed must not open it.
 */
export function checkBreaker(
  phases: readonly Phase[],
  windows: readonly PhaseWindow[],
  transitions: readonly Transition[],
): Check[] {
  const checks: Check[] = [];
  for (const [i, phase] of phases.entries()) {
    const w = windows[i];
    if (!w) continue;
    const opens = transitions.filter((t) => t.to === "open" && t.from !== "half_open" && within(t, w.start, w.end));
    if (!isFailing(phase)) {
      const previous = phases[i - 1];
      if (previous && isFailing(previous)) continue; // a recovery phase starts open; checked with its failing phase
      checks.push({
        name: `breaker stays closed: ${phase.name}`,
        ok: opens.length === 0,
        detail: `${opens.length} openings`,
      });
      continue;
    }
    const nextFailing = phases.findIndex((p, j) => j > i && isFailing(p));
    const recoverBy = (nextFailing === -1 ? windows[windows.length - 1] : windows[nextFailing - 1])?.end ?? w.end;
    const firstOpen = opens[0];
    // The breaker's state as the next failing phase begins: its last transition by then. No slack:
    // the Durable Object stamps a transition when its turn starts, never later than it happened,
    // and the next phase's first failures may open it again within milliseconds.
    const last = transitions.filter((t) => Date.parse(t.at) <= recoverBy).at(-1);
    const recovered =
      firstOpen !== undefined &&
      last !== undefined &&
      last.to === "closed" &&
      Date.parse(last.at) > Date.parse(firstOpen.at);
    const ok = opens.length > 0 && recovered;
    checks.push({
      name: `breaker opened and recovered: ${phase.name}`,
      ok,
      detail:
        !firstOpen || !last
          ? "never opened"
          : recovered
            ? `opened ${opens.length}×, first ${Date.parse(firstOpen.at) - w.start} ms into the phase; closed for good ${closedWhen(Date.parse(last.at) - w.end)} (${last.cause})`
            : `opened ${opens.length}× but ${last.to}, not closed, when the next failing phase began`,
    });
  }
  return checks;
}

/** Concurrency permits all returned once the load is over. */
export function checkPermits(inFlight: number): Check {
  return {
    name: "concurrency permits back to 0",
    ok: inFlight === 0,
    detail: `agent-demo's guard holds ${inFlight} permits after the soak`,
  };
}

/** Token reservations all settled or expired once the load is over: the agent's and the soak key's. */
export function checkReservations(end: PersistedState): Check {
  const agent = end.guard.tokens?.reserved ?? 0;
  const key = end.keyUsage.tokens?.reserved ?? 0;
  return {
    name: "token reservations back to 0",
    ok: agent === 0 && key === 0,
    detail: `reserved after the soak: agent ${agent}, key ${key} tokens`,
  };
}

/**
 * A restart (runtime disposed, started again on the same files) lost no
 * breaker, quota or budget state. After a drained restart everything is
 * identical; rate-limit cells refill with time, so they may only have grown,
 * never beyond their limit. After a hard one, attempts in flight may have
 * finished between the read and the kill, so nothing may go backwards.
 */
export function checkRestart(
  before: PersistedState,
  after: PersistedState,
  mode: "drained" | "hard" = "drained",
): Check[] {
  const b = before.guard;
  const a = after.guard;
  const tag = mode === "hard" ? " (hard)" : "";
  const kept = b.transitions.every((t) =>
    a.transitions.some((u) => u.at === t.at && u.from === t.from && u.to === t.to),
  );
  const sameTransitions = mode === "hard" ? kept : JSON.stringify(a.transitions) === JSON.stringify(b.transitions);
  const sameState =
    a.breaker.state === b.breaker.state || (b.breaker.state === "open" && a.breaker.state === "half_open");
  const breakerOk =
    mode === "hard"
      ? sameTransitions && (a.transitions.length > b.transitions.length || sameState)
      : a.breaker.open_until === b.breaker.open_until &&
        a.breaker.consecutive_failures === b.breaker.consecutive_failures &&
        sameTransitions &&
        sameState;
  const usedOk = (x: number | undefined, y: number | undefined) => (mode === "hard" ? (y ?? 0) >= (x ?? 0) : x === y);
  const tokensOk =
    (mode === "hard"
      ? true
      : JSON.stringify(a.tokens) === JSON.stringify(b.tokens) &&
        JSON.stringify(after.keyUsage.tokens) === JSON.stringify(before.keyUsage.tokens)) &&
    usedOk(b.tokens?.used, a.tokens?.used) &&
    usedOk(before.keyUsage.tokens?.used, after.keyUsage.tokens?.used) &&
    (b.tokens === null) === (a.tokens === null) &&
    (before.keyUsage.tokens === null) === (after.keyUsage.tokens === null);
  const cellOk = (x: { remaining: number; limit: number } | null, y: { remaining: number; limit: number } | null) =>
    x === null
      ? y === null
      : y !== null && y.limit === x.limit && y.remaining <= y.limit && (mode === "hard" || y.remaining >= x.remaining);
  const quotaOk = cellOk(b.rate_limit, a.rate_limit) && cellOk(before.keyUsage.rate_limit, after.keyUsage.rate_limit);
  const countersOk =
    usedOk(before.requestsCounted, after.requestsCounted) && usedOk(before.tokensCounted, after.tokensCounted);
  return [
    {
      name: `restart keeps the breaker${tag}`,
      ok: breakerOk,
      detail: `${b.breaker.state} → ${a.breaker.state}, open until ${b.breaker.open_until} → ${a.breaker.open_until}, ${b.transitions.length} transitions ${sameTransitions ? "kept" : "lost or changed"}`,
    },
    {
      name: `restart keeps the token budgets${tag}`,
      ok: tokensOk,
      detail: `agent used ${b.tokens?.used} → ${a.tokens?.used}, key used ${before.keyUsage.tokens?.used} → ${after.keyUsage.tokens?.used}`,
    },
    {
      name: `restart keeps the rate-limit quotas${tag}`,
      ok: quotaOk,
      detail: `agent remaining ${b.rate_limit?.remaining} → ${a.rate_limit?.remaining}, key remaining ${before.keyUsage.rate_limit?.remaining} → ${after.keyUsage.rate_limit?.remaining}`,
    },
    {
      name: `restart keeps the request counters${tag}`,
      ok: countersOk,
      detail: `requests ${before.requestsCounted} → ${after.requestsCounted}, tokens ${before.tokensCounted} → ${after.tokensCounted}`,
    },
  ];
}
