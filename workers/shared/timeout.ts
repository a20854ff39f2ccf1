/**
 * Bounding a promise in time: every side system (a Durable Object, D1, a
 * collector) is awaited with a limit, so a slow one can never hang a request.
 */

/** Rejection of {@link withTimeout} when the limit passes first. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/**
 * Resolves or rejects as `promise` does, or rejects with a
 * {@link TimeoutError} carrying `message` after `ms`. The timer is cleared
 * either way; `promise` itself keeps running.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}
