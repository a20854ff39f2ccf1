/**
 * The deadline a caller hands an agent: the gateway sends, with each attempt,
 * how many milliseconds that attempt has left, and the agent stops its work
 * (aborts its LLM call) when they run out instead of computing an answer
 * nobody waits for. A relative duration, not a timestamp, so the two Workers'
 * clocks need not agree. Runtime-neutral: the gateway and the agent runtime
 * both import it.
 */

/** Request header: the integer milliseconds the attempt has left, e.g. `X-Zahara-Deadline-Ms: 8500`. */
export const DEADLINE_HEADER = "X-Zahara-Deadline-Ms";

/** Largest deadline honoured (15 min); a larger value is capped to it. */
export const MAX_DEADLINE_MS = 15 * 60 * 1000;

/**
 * Reads a {@link DEADLINE_HEADER} value: a positive integer of milliseconds,
 * capped at {@link MAX_DEADLINE_MS}; undefined when absent or invalid (then
 * the agent runs with its own limits only).
 */
export function parseDeadlineMs(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (!/^\d{1,12}$/.test(text)) return undefined;
  const ms = Number(text);
  if (!Number.isSafeInteger(ms) || ms <= 0) return undefined;
  return Math.min(ms, MAX_DEADLINE_MS);
}
