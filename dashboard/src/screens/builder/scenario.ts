/**
 * The simulator panel's inputs: the traffic and the fault pattern as typed
 * ({@link ScenarioText}), checked and turned into what `fromManifest` takes
 * ({@link Scenario}). Bounded so a run stays well under a second.
 */

/** Most requests one run sends (requests per second × seconds). */
export const MAX_SIM_REQUESTS = 5000;
/** Longest run, in seconds. */
export const MAX_SIM_SECONDS = 600;

/** The panel's inputs, as typed. */
export interface ScenarioText {
  /** Requests per second. */
  rps: string;
  /** Length of the run in seconds. */
  seconds: string;
  /** Distinct API keys the requests come from (matters with a per-key rate limit). */
  keys: string;
  /** Share of attempts that fail with a 500, in percent. */
  errorRatePct: string;
  /** Median latency of an attempt (ms). */
  p50: string;
  /** 95th-percentile latency of an attempt (ms). */
  p95: string;
  /** Whether there is an outage window. */
  outage: boolean;
  outageStart: string;
  outageEnd: string;
  /** `refuse`: attempts fail at once; `hang`: they never answer (timeouts). */
  outageMode: "refuse" | "hang";
  seed: string;
  /** Whether the agent's daily token budget counts (from a fresh day); off by default, as a short run would mostly show a budget running out. */
  tokenBudget: boolean;
}

/** What the panel starts with: traffic within agent-demo's limits, some errors, a 15-second outage. */
export const DEFAULT_SCENARIO: ScenarioText = {
  rps: "8",
  seconds: "120",
  keys: "4",
  errorRatePct: "5",
  p50: "200",
  p95: "800",
  outage: true,
  outageStart: "30",
  outageEnd: "45",
  outageMode: "refuse",
  seed: "1",
  tokenBudget: false,
};

/** A checked scenario: the simulator's traffic and fault pattern, and the seed. */
export interface Scenario {
  traffic: { requestsPerSecond: number; durationSeconds: number; keys: number };
  faults: {
    errorRate: number;
    latencyMs: number | { p50: number; p95: number };
    outage?: { startSecond: number; endSecond: number; mode: "refuse" | "hang" };
  };
  seed: number;
  /** Whether the manifest's `maxTokensPerDay` applies in the run. */
  tokenBudget: boolean;
}

/** Result of {@link parseScenario}: the scenario, or a message per bad input. */
export type ParsedScenario =
  | { ok: true; scenario: Scenario; requests: number }
  | { ok: false; errors: Partial<Record<keyof ScenarioText, string>> };

function numberOf(text: string): number | undefined {
  const t = text.trim();
  if (t === "" || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** Checks the inputs; every problem is reported at its input. */
export function parseScenario(t: ScenarioText): ParsedScenario {
  const errors: Partial<Record<keyof ScenarioText, string>> = {};
  const read = (key: keyof ScenarioText, ok: (n: number) => boolean, message: string): number => {
    const n = numberOf(String(t[key]));
    if (n === undefined || !ok(n)) {
      errors[key] = message;
      return NaN;
    }
    return n;
  };
  const int = Number.isInteger;
  const rps = read("rps", (n) => n > 0 && n <= MAX_SIM_REQUESTS, `A number above 0, at most ${MAX_SIM_REQUESTS}`);
  const seconds = read(
    "seconds",
    (n) => int(n) && n >= 1 && n <= MAX_SIM_SECONDS,
    `Whole seconds, 1 to ${MAX_SIM_SECONDS}`,
  );
  const keys = read("keys", (n) => int(n) && n >= 1 && n <= 10_000, "A whole number, 1 to 10 000");
  const errorRatePct = read("errorRatePct", (n) => n >= 0 && n <= 100, "A percentage, 0 to 100");
  const p50 = read("p50", (n) => n >= 0 && n <= 300_000, "Milliseconds, 0 to 300 000");
  const p95 = read("p95", (n) => n >= 0 && n <= 300_000, "Milliseconds, 0 to 300 000");
  if (!Number.isNaN(p50) && !Number.isNaN(p95)) {
    if (p95 < p50) errors.p95 = "At least the p50";
    else if (p50 === 0 && p95 > 0) errors.p50 = "Above 0 when the p95 is higher (a log-normal spread needs a median)";
  }
  const seed = read("seed", (n) => int(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER, "A whole number");
  let outage: Scenario["faults"]["outage"];
  if (t.outage) {
    const start = read("outageStart", (n) => n >= 0, "Seconds from the start, 0 or more");
    const end = read("outageEnd", (n) => n >= 0, "Seconds from the start, 0 or more");
    if (!Number.isNaN(start) && !Number.isNaN(end) && end <= start) errors.outageEnd = "After the start";
    else if (!Number.isNaN(start) && !Number.isNaN(seconds) && start >= seconds)
      errors.outageStart = "Inside the run (before its last second)";
    outage = {
      startSecond: start,
      endSecond: Number.isNaN(seconds) ? end : Math.min(end, seconds),
      mode: t.outageMode,
    };
  }
  const requests = Math.floor(rps * seconds + 1e-9);
  if (!errors.rps && !errors.seconds && requests > MAX_SIM_REQUESTS) {
    errors.rps = `${requests.toLocaleString("en")} requests in all; at most ${MAX_SIM_REQUESTS.toLocaleString("en")} (lower the rate or the length)`;
  } else if (!errors.rps && !errors.seconds && requests < 1) {
    errors.rps = "Less than one request in all";
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    requests,
    scenario: {
      traffic: { requestsPerSecond: rps, durationSeconds: seconds, keys },
      faults: {
        errorRate: errorRatePct / 100,
        latencyMs: p50 === p95 ? p50 : { p50, p95 },
        ...(outage ? { outage } : {}),
      },
      seed,
      tokenBudget: t.tokenBudget,
    },
  };
}
