/**
 * Trace context over service bindings, and nothing else: the env a traced
 * handler sees is its own env with each service binding (a Fetcher) replaced
 * by one whose `fetch` adds the active span's `traceparent`, so the agent
 * continues the trace. D1 databases, Durable Object namespaces, KV, queues
 * and plain vars are handed over untouched — no proxies around bindings that
 * are never traced — and the copy is made once per env object, not per
 * request (workerd hands an isolate the same env object every time).
 * Outgoing `fetch` to third parties is not instrumented either: it carries
 * no `traceparent` and costs nothing.
 */
import { trace } from "@opentelemetry/api";
import { TRACEPARENT_HEADER, formatTraceparent } from "./trace-context";
import { activeContext } from "./context";

type Fetch = Fetcher["fetch"];
type HeadersInput = ConstructorParameters<typeof Headers>[0];

const envs = new WeakMap<object, object>();
// A JS RPC stub (what a service binding is) answers any property name; no other binding has this one.
const PROBE = "__zahara_rpc_probe_never_a_member__";

/** True for a service binding: it fetches, and is an RPC stub or a plain Fetcher with `connect`. */
function isServiceBinding(value: unknown): value is Fetcher {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.fetch !== "function") return false;
  return v[PROBE] !== undefined || typeof v.connect === "function";
}

/** Headers with `traceparent` set, keeping the caller's plain object form when there is one. */
function withTraceparent(headers: HeadersInput | undefined, fallback: Headers | undefined, value: string) {
  if (headers && typeof headers === "object" && !(headers instanceof Headers) && !Array.isArray(headers)) {
    const plain = headers as Record<string, string>;
    let clash = false;
    for (const key in plain) if (key.toLowerCase() === TRACEPARENT_HEADER) clash = true;
    if (!clash) return { ...plain, [TRACEPARENT_HEADER]: value };
  }
  const out = new Headers(headers ?? fallback);
  out.set(TRACEPARENT_HEADER, value);
  return out;
}

/** `fetch` of `target` with the active span's context added (unchanged when there is none). */
function propagatingFetch(target: Fetcher): Fetch {
  return function fetchWithTraceContext(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const ctx = trace.getSpan(activeContext())?.spanContext();
    if (!ctx || !trace.isSpanContextValid(ctx)) return target.fetch(input, init);
    const value = formatTraceparent(ctx);
    const fromRequest = input instanceof Request ? input.headers : undefined;
    const headers = withTraceparent(init?.headers as HeadersInput | undefined, fromRequest, value);
    return target.fetch(input, { ...init, headers });
  } as Fetch;
}

/** A service binding whose `fetch` propagates trace context; every other member is the binding's own. */
function propagating(target: Fetcher): Fetcher {
  const fetch = propagatingFetch(target);
  return new Proxy(target, {
    get(t, prop) {
      if (prop === "fetch") return fetch;
      const value: unknown = Reflect.get(t, prop);
      if (typeof value !== "function") return value;
      // Called on the binding itself (RPC methods must not see the proxy as `this`).
      const methods = t as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>;
      return (...args: unknown[]) => methods[prop]!(...args);
    },
  });
}

/** `env` with its service bindings propagating trace context (the same object when it has none); cached per env. */
export function withPropagatingBindings<E extends object>(env: E): E {
  const cached = envs.get(env);
  if (cached) return cached as E;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(env)) {
    const value = (env as Record<string, unknown>)[key];
    if (isServiceBinding(value)) (copy ??= { ...(env as Record<string, unknown>) })[key] = propagating(value);
  }
  const out = (copy ?? env) as E;
  envs.set(env, out);
  return out;
}
