/**
 * The simulation's machinery: a time-ordered event queue (a binary heap;
 * events at the same time run in the order they were added), a seeded
 * random source, and the window check of admissions against a rate limit.
 */

interface Event {
  t: number;
  seq: number;
  fn: () => void;
}

/** Events in time order; `now` is the time of the one running. */
export class EventQueue {
  now = 0;
  private heap: Event[] = [];
  private seq = 0;

  /** Runs `fn` at `t` (never before now). */
  at(t: number, fn: () => void): void {
    this.push({ t: Math.max(t, this.now), seq: this.seq++, fn });
  }

  /** Runs every event, in order, until none is left. */
  run(): void {
    for (let e = this.pop(); e; e = this.pop()) {
      this.now = e.t;
      e.fn();
    }
  }

  private less(a: Event, b: Event): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  private push(e: Event): void {
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** A seeded PRNG (mulberry32): the same seed, the same run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The worst excess of admissions (sorted times, ms) in any window of
 * `windowMs` over what a rate limit allows there: `ratePerMs × windowMs +
 * burst`. Windows start at each admission (the worst ones do). ≤ 0: within.
 */
export function windowExcess(times: readonly number[], windowMs: number, ratePerMs: number, burst: number): number {
  let worst = -Infinity;
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && times[end]! < times[start]! + windowMs) end++;
    worst = Math.max(worst, end - start - (ratePerMs * windowMs + burst));
  }
  return times.length === 0 ? 0 : worst;
}
