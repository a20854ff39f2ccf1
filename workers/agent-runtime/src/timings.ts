/**
 * The agent's own spans. {@link Timings.measure} runs a step in an
 * OpenTelemetry span (`agent.<name>`) and also records it; the
 * {@link serverTiming} middleware sends what was recorded in the response's
 * `Server-Timing` header, so the gateway can draw the agent's steps in the
 * request's waterfall even when no trace backend is configured.
 *
 * Workers clocks advance only across I/O, so steps that only compute show
 * as 0 ms; steps that wait (the LLM, the idempotency store, a delay) show
 * their real duration.
 */
import { createMiddleware } from "hono/factory";
import type { Attributes } from "@opentelemetry/api";
import { SERVER_TIMING_HEADER, type TimingEntry, formatServerTiming } from "../../shared/observability/server-timing";
import { inSpan } from "../../shared/observability/spans";

declare module "hono" {
  interface ContextVariableMap {
    /** The request's recorded steps (set by {@link serverTiming}). */
    timings: Timings;
  }
}

/** Records the steps of one request, relative to its start. */
export class Timings {
  readonly #origin: number;
  readonly #now: () => number;
  readonly #entries: TimingEntry[] = [];

  /** `now` is injectable for tests; the origin is the time of construction. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#origin = now();
  }

  /**
   * Runs `fn` as the step `name` (an HTTP token, e.g. `llm`), in the span
   * `agent.<name>` with `attributes`, and records its start and duration
   * (also when it throws). `describe` gives the description, from the result.
   */
  async measure<T>(
    name: string,
    fn: () => Promise<T>,
    options: { desc?: string; attributes?: Attributes; describe?: (result: T) => string } = {},
  ): Promise<T> {
    const start = this.#now();
    let desc = options.desc;
    try {
      const result = await inSpan(`agent.${name}`, options.attributes ?? {}, fn);
      if (options.describe) desc = options.describe(result);
      return result;
    } catch (err) {
      desc = `${desc ? `${desc}, ` : ""}failed`;
      throw err;
    } finally {
      this.record(name, start, this.#now() - start, desc);
    }
  }

  /** Records a step measured elsewhere (`start` in epoch ms). */
  record(name: string, startEpochMs: number, durMs: number, desc?: string): void {
    const entry: TimingEntry = { name, start: Math.max(0, startEpochMs - this.#origin), dur: Math.max(0, durMs) };
    if (desc) entry.desc = desc;
    this.#entries.push(entry);
  }

  /** The steps recorded so far, in the order they started. */
  entries(): TimingEntry[] {
    return [...this.#entries].sort((a, b) => a.start - b.start);
  }

  /** Milliseconds since the origin. */
  elapsed(): number {
    return Math.max(0, this.#now() - this.#origin);
  }
}

/** The `Server-Timing` value of the steps recorded so far, plus `total` (the time elapsed). */
export function serverTimingValue(timings: Timings): string {
  return formatServerTiming([...timings.entries(), { name: "total", start: 0, dur: timings.elapsed() }]);
}

/**
 * Creates the middleware that gives each request a {@link Timings} and sends
 * its steps, plus `total`, as `Server-Timing` on the response (including
 * error and replayed responses). A streamed answer's header holds the steps
 * until its first byte; its `done` event carries them all (run-stream.ts).
 */
export function serverTiming() {
  return createMiddleware(async function serverTiming(c, next) {
    const timings = new Timings();
    c.set("timings", timings);
    await next();
    c.header(SERVER_TIMING_HEADER, serverTimingValue(timings));
  });
}
