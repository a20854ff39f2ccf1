/**
 * Per-isolate counters of what tracing did: spans recorded, traces kept (and
 * why) or dropped, spans serialised and sent. They cost an increment each;
 * tests read them to show what a request did and did not build (an
 * unsampled request's spans are never serialised; with tracing off none are
 * recorded), and the bench reports spans exported per request from the
 * collector's side.
 */

/** The counters (monotonic, per isolate). */
export interface TracingStats {
  /** Spans recorded (tracing on): every span of every trace, kept or not. */
  spansRecorded: number;
  /** Parts of traces kept, by the rule that kept them. */
  keptByRatio: number;
  keptByError: number;
  keptBySlow: number;
  /** Parts of traces dropped at their end (ordinary, fast, outside the ratio). */
  tracesDropped: number;
  /** Spans handed to the exporter (serialised and sent). */
  spansExported: number;
  /** Export requests sent. */
  exports: number;
  /** Spans not recorded or not kept for a bound: over the per-trace cap, evicted, or ended after their trace's end. */
  spansDiscarded: number;
}

const stats: TracingStats = {
  spansRecorded: 0,
  keptByRatio: 0,
  keptByError: 0,
  keptBySlow: 0,
  tracesDropped: 0,
  spansExported: 0,
  exports: 0,
  spansDiscarded: 0,
};

/** The live counters, for the tracing modules to increment. */
export const counters: TracingStats = stats;

/** A snapshot of the counters of this isolate. */
export function tracingStats(): TracingStats {
  return { ...stats };
}
