/**
 * Types of `async-local-storage.js`: the part of Node's AsyncLocalStorage the
 * tracing context manager uses (workerd implements it under `nodejs_compat`).
 */
export declare class AsyncLocalStorage<T> {
  getStore(): T | undefined;
  run<R, A extends unknown[]>(store: T, callback: (...args: A) => R, ...args: A): R;
  disable(): void;
}
