/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff and Jitter"): the delay before retry n is drawn uniformly from
 * [0, min(cap, base·2^(n−1))). With base 1 s and cap 16 s the ceilings are
 * the integration guide's 1, 2, 4, 8, 16 s.
 */

/** Backoff settings. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/** The exclusive upper bound of the delay before retry `retry` (1-based). */
export function backoffCeilingMs(retry: number, { baseMs, capMs }: BackoffOptions): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be a positive integer, got ${retry}`);
  // 2^(n-1) overflows to Infinity for huge n; min() with the cap keeps it finite.
  return Math.min(capMs, baseMs * 2 ** (retry - 1));
}

/**
 * The delay before retry `retry`: `floor(random() · ceiling)`, so always in
 * [0, ceiling). `random` returns [0, 1) and is injectable for tests.
 */
export function fullJitterMs(retry: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = backoffCeilingMs(retry, options);
  const r = random();
  const clamped = r >= 0 && r < 1 ? r : 0;
  return Math.floor(clamped * ceiling);
}

/**
 * Parses an HTTP `Retry-After` value (delta-seconds or an HTTP date) into
 * milliseconds from `now`; undefined when absent or unparseable.
 */
export function parseRetryAfterMs(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (!Number.isNaN(date) && /[a-z]/i.test(trimmed)) return Math.max(0, date - now);
  return undefined;
}

/** A seeded PRNG (mulberry32) returning [0, 1): reproducible jitter for tests and simulations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return function random() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
