/**
 * A virtual clock for running async code (the gateway's executor) as a
 * discrete-event simulation: no real timers, time only moves when every
 * running task is waiting on the clock.
 *
 * Tasks are async functions started with {@link VirtualScheduler.spawn};
 * they wait only through {@link VirtualScheduler.sleep} (or promises the
 * scheduler resolves, see {@link VirtualScheduler.after}). The loop fires the
 * earliest event, then lets microtasks run until every live task is blocked
 * on the clock again or done, so the order of everything is deterministic.
 */

interface TimedEvent {
  at: number;
  /** Lower fires first among events at the same time. */
  priority: number;
  seq: number;
  fire: () => void;
}

/** Microtask turns allowed between two events before the run is declared stuck. */
const MAX_SPINS = 100_000;

function before(a: TimedEvent, b: TimedEvent): boolean {
  return a.at !== b.at ? a.at < b.at : a.priority !== b.priority ? a.priority < b.priority : a.seq < b.seq;
}

/** Virtual time (ms from 0) with a binary-heap event queue. */
export class VirtualScheduler {
  private time = 0;
  private seq = 0;
  private readonly heap: TimedEvent[] = [];
  private live = 0;
  private blocked = 0;
  private failure: unknown;

  /** Current virtual time in ms. */
  now(): number {
    return this.time;
  }

  /** Calls `fire` at virtual time `at` (never earlier than now); `priority` orders events at the same time (lower first, default 1). */
  at(at: number, fire: () => void, priority = 1): void {
    const event: TimedEvent = { at: Math.max(at, this.time), priority, seq: this.seq++, fire };
    const heap = this.heap;
    heap.push(event);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** A promise a task awaits: resolved with `value()` after `ms` of virtual time. The task counts as blocked meanwhile. */
  after<T>(ms: number, value: () => T): Promise<T> {
    this.blocked++;
    return new Promise<T>((resolve) =>
      this.at(this.time + Math.max(0, ms), () => {
        this.blocked--;
        resolve(value());
      }),
    );
  }

  /** Waits `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return this.after(ms, () => undefined);
  }

  /** Starts a task now; an exception it throws aborts {@link VirtualScheduler.run}. */
  spawn(task: () => Promise<void>): void {
    this.live++;
    task()
      .catch((error: unknown) => void (this.failure ??= error))
      .finally(() => void this.live--);
  }

  /** Fires events in time order until none is left and every task is done. */
  async run(): Promise<void> {
    await this.settle();
    while (this.heap.length > 0) {
      const event = this.pop();
      this.time = event.at;
      event.fire();
      await this.settle();
    }
    if (this.live > 0)
      throw new Error(`simulation stuck: ${this.live} task(s) wait on something outside the virtual clock`);
  }

  /** Lets microtasks run until every live task waits on the clock (or is done). */
  private async settle(): Promise<void> {
    for (let spins = 0; this.blocked < this.live; spins++) {
      if (spins > MAX_SPINS)
        throw new Error("simulation stuck: a task neither finishes nor waits on the virtual clock");
      await Promise.resolve();
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private pop(): TimedEvent {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}
