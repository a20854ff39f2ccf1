/**
 * Retry budget in the style of Finagle's RetryBudget: over a rolling window,
 * retries may not exceed `ratio` × first attempts plus a floor of
 * `minPerWindow`, so a failing upstream sees at most (1 + ratio) × normal
 * load instead of (1 + maxRetries) ×. The window is a ring of fixed buckets
 * (width windowMs / buckets), which keeps the snapshot small. Pure: time is
 * passed in as `now` (ms).
 */
import { requireInt, requireNonNegative, requirePositive, snapshotNumber } from "./validate";

/** Retries <= ratio × requests + minPerWindow over the last `windowMs`. */
export interface RetryBudgetConfig {
  /** Retries allowed per first attempt, e.g. 0.2 (>= 0). */
  ratio: number;
  /** Retries always allowed per window, e.g. 10 (>= 0), so low traffic can still retry. */
  minPerWindow: number;
  /** Rolling window in ms (> 0), e.g. 10 000. */
  windowMs: number;
  /** Buckets in the window (integer >= 1, default 10); the window slides one bucket at a time. */
  buckets?: number;
}

/** Persisted form: `head` is the absolute index (floor(t / bucket width)) of the newest bucket; arrays run oldest → newest. */
export interface RetryBudgetSnapshot {
  head: number;
  requests: number[];
  retries: number[];
}

/** Window totals, from {@link RetryBudget.stats}. */
export interface RetryBudgetStats {
  requests: number;
  retries: number;
  /** Retries that {@link RetryBudget.tryRetry} would still grant now. */
  available: number;
}

/** Slack for float noise in ratio × requests (0.29 × 100 = 28.999999999999996 must allow 29). */
const EPSILON = 1e-9;

/** Bucketed rolling-window retry budget. */
export class RetryBudget {
  private readonly size: number;
  private readonly width: number;
  private head = Number.MIN_SAFE_INTEGER;
  private requests: number[];
  private retries: number[];

  /** Validates `config` (`RangeError` on negative ratio/floor, non-positive window, bad bucket count). */
  constructor(private readonly config: RetryBudgetConfig) {
    requireNonNegative("ratio", config.ratio);
    requireNonNegative("minPerWindow", config.minPerWindow);
    requirePositive("windowMs", config.windowMs);
    this.size = config.buckets ?? 10;
    requireInt("buckets", this.size, 1);
    this.width = config.windowMs / this.size;
    this.requests = new Array<number>(this.size).fill(0);
    this.retries = new Array<number>(this.size).fill(0);
  }

  /** Rebuilds a budget from {@link RetryBudget.toJSON} output; a snapshot with a different bucket count starts empty. */
  static restore(config: RetryBudgetConfig, snapshot: RetryBudgetSnapshot): RetryBudget {
    const budget = new RetryBudget(config);
    const { requests, retries } = snapshot;
    if (!Array.isArray(requests) || !Array.isArray(retries))
      throw new TypeError("snapshot.requests and snapshot.retries must be arrays");
    if (requests.length !== budget.size || retries.length !== budget.size) return budget;
    budget.head = snapshotNumber("head", snapshot.head);
    budget.requests = requests.map((n, i) => snapshotNumber(`requests[${i}]`, n));
    budget.retries = retries.map((n, i) => snapshotNumber(`retries[${i}]`, n));
    return budget;
  }

  /** Plain JSON snapshot. */
  toJSON(): RetryBudgetSnapshot {
    return { head: this.head, requests: [...this.requests], retries: [...this.retries] };
  }

  /** Counts a first attempt (deposits `ratio` of a retry). */
  recordRequest(now: number): void {
    this.advance(now);
    this.requests[this.size - 1] = (this.requests[this.size - 1] ?? 0) + 1;
  }

  /** Consumes one retry if retries_in_window + 1 <= ratio × requests_in_window + minPerWindow. */
  tryRetry(now: number): boolean {
    this.advance(now);
    if (this.allowance() - sum(this.retries) < 1) return false;
    this.retries[this.size - 1] = (this.retries[this.size - 1] ?? 0) + 1;
    return true;
  }

  /** Window totals at `now` (does not change anything). */
  stats(now: number): RetryBudgetStats {
    const shift = this.shiftAt(now);
    const requests = sum(this.requests.slice(shift));
    const retries = sum(this.retries.slice(shift));
    const allowance = this.config.ratio * requests + this.config.minPerWindow + EPSILON;
    return { requests, retries, available: Math.max(0, Math.floor(allowance) - retries) };
  }

  private allowance(): number {
    return this.config.ratio * sum(this.requests) + this.config.minPerWindow + EPSILON;
  }

  /** Buckets that fall out of the window when moving to `now` (a `now` before head counts into the head bucket). */
  private shiftAt(now: number): number {
    const index = Math.floor(now / this.width);
    return index <= this.head ? 0 : Math.min(this.size, index - this.head);
  }

  private advance(now: number): void {
    const shift = this.shiftAt(now);
    if (shift === 0) return;
    const zeros = new Array<number>(shift).fill(0);
    this.requests = [...this.requests.slice(shift), ...zeros];
    this.retries = [...this.retries.slice(shift), ...zeros];
    this.head = Math.floor(now / this.width);
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
