/**
 * The Builder's resilience simulator: what callers would get from an agent
 * with a given fault pattern under given breaker, retry and rate-limit
 * settings. It runs the gateway's own code — `executeResilient` (deadline,
 * retries with full-jitter backoff, retry classification, the retry budget)
 * against the upstream guard's own `Guard` (breaker, rate limits,
 * concurrency, budgets) — on a virtual clock, so a run of minutes takes
 * milliseconds and the same seed always gives the same result.
 */
import { seededRandom } from "../../../workers/gateway/src/resilience/backoff";
import {
  type AgentPlan,
  type AttemptRecord,
  type ExecutorRuntime,
  executeResilient,
} from "../../../workers/gateway/src/resilience/executor";
import { ZaharaError } from "../../../workers/shared/errors";
import { SimulatedAgent } from "./agent";
import { SimulatedGuard } from "./guard-client";
import { VirtualScheduler } from "./scheduler";
import { Recorder, outcomeOf, type CallerOutcome } from "./stats";
import type { SimulationInput, SimulationResult } from "./types";
import { requestCount, validateSimulationInput } from "./validate";

/** Mixed into the seed for the backoff jitter, so faults and jitter draw from separate streams. */
const JITTER_STREAM = 0x9e3779b9;

/** Agent calls (admitted attempts, with or without the guard) in an attempt timeline. */
function agentCalls(attempts: readonly AttemptRecord[]): number {
  return attempts.filter((a) => a.admission === "admitted" || a.admission === "guard_unavailable").length;
}

/**
 * Simulates `input.traffic` against an agent failing as `input.faults`
 * under `input.guard` / `input.retries` / `input.deadlineMs`, and returns
 * per-second buckets (by the second each request was sent) and totals.
 *
 * Requests are evenly spaced from t = 0, each on its own API key
 * round-robin; every request runs `executeResilient` with a single plan (no
 * fallbacks). Rejects with a `TypeError` when the input is invalid (see
 * {@link validateSimulationInput}); at most 50 000 requests.
 */
export async function simulate(input: SimulationInput): Promise<SimulationResult> {
  const config = validateSimulationInput(input);
  const { guard: guardConfig, retries, deadlineMs, traffic, faults, seed } = config;
  const clock = new VirtualScheduler();
  const now = () => clock.now();
  const guard = new SimulatedGuard(guardConfig, now);
  const tokens = config.tokenEstimate ?? 0;
  const agent = new SimulatedAgent(guardConfig.agent, faults, clock, seededRandom(seed), tokens);
  const rt: ExecutorRuntime = {
    now,
    sleep: (ms) => clock.sleep(ms),
    random: seededRandom(seed ^ JITTER_STREAM),
    waitUntil: () => {},
  };
  const estimate = guardConfig.maxTokensPerDay !== undefined ? tokens : 0;
  const recorder = new Recorder(traffic.durationSeconds);
  const keys = traffic.keys ?? 1;

  const planFor = (index: number): AgentPlan => ({
    agent: guardConfig.agent,
    retries,
    guard,
    admitRequest: (attempt) => ({
      config: guardConfig,
      callId: `req-${index}#${guardConfig.agent}#${attempt}`,
      attempt,
      estimateTokens: estimate,
      keyId: `key-${index % keys}`,
    }),
    call: (_attempt, timeoutMs) => agent.call(timeoutMs),
  });

  const runRequest = async (index: number): Promise<void> => {
    const sentAt = clock.now();
    const attempts: AttemptRecord[] = [];
    let outcome: CallerOutcome = { kind: "ok" };
    let stoppedBy: string | undefined;
    try {
      await executeResilient([planFor(index)], { at: sentAt + deadlineMs, ms: deadlineMs }, rt, attempts);
    } catch (error) {
      if (!(error instanceof ZaharaError)) throw error;
      outcome = outcomeOf(error);
      const stopped = error.details?.retry_stopped_by;
      if (typeof stopped === "string") stoppedBy = stopped;
    }
    recorder.request(sentAt, clock.now(), outcome, agentCalls(attempts), stoppedBy);
  };

  const total = requestCount(traffic);
  const interval = 1000 / traffic.requestsPerSecond;
  // Arrivals are scheduled one at a time (each schedules the next), so the queue stays small.
  const arrive = (index: number) => {
    clock.spawn(() => runRequest(index));
    if (index + 1 < total) clock.at((index + 1) * interval, () => arrive(index + 1));
  };
  if (total > 0) clock.at(0, () => arrive(0));
  // The breaker's state at the end of each second, before anything else happening at that instant.
  for (let t = 0; t < traffic.durationSeconds; t++) {
    clock.at((t + 1) * 1000, () => recorder.breakerAt(t, guard.guard.breaker.peek(clock.now()).state), 0);
  }
  await clock.run();
  return recorder.result(guard.transitions);
}
