/**
 * Context per async flow: the OpenTelemetry API's ContextManager on the
 * runtime's AsyncLocalStorage, registered once per isolate with the API (with
 * `tracer.ts`'s tracer) so `trace.getActiveSpan()` works in business code.
 * The tracing code itself calls it directly ({@link activeContext},
 * {@link withContext}): the API's `context.with` copies its arguments through
 * an iterator on every call, and it runs once per span.
 */
import { type Context, type ContextManager, ROOT_CONTEXT, context, trace } from "@opentelemetry/api";
import { AsyncLocalStorage } from "./async-local-storage";
import { tracer } from "./tracer";

/** Context per async flow, on the runtime's AsyncLocalStorage. */
class AlsContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  run<R>(ctx: Context, fn: () => R): R {
    return this.storage.run(ctx, fn);
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, thisArg === undefined ? fn : (fn.bind(thisArg) as F), ...args);
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== "function") return target;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    const storage = this.storage;
    return function bound(this: unknown, ...args: unknown[]) {
      return storage.run(ctx, () => fn.apply(this, args));
    } as unknown as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

let manager: AlsContextManager | undefined;
let registered = false;

/** Registers the context manager and tracer with the OpenTelemetry API, once per isolate. */
export function registerTracing(): void {
  if (registered) return;
  registered = true;
  const ours = new AlsContextManager();
  if (context.setGlobalContextManager(ours)) manager = ours;
  trace.setGlobalTracerProvider({ getTracer: () => tracer });
}

/** The active context (as `context.active()`, without the API's indirection when the manager is ours). */
export function activeContext(): Context {
  return manager ? manager.active() : context.active();
}

/** Runs `fn` in `ctx` (as `context.with`, without the API's indirection when the manager is ours). */
export function withContext<R>(ctx: Context, fn: () => R): R {
  return manager ? manager.run(ctx, fn) : context.with(ctx, fn);
}
