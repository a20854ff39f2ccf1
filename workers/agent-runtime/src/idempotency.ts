/**
 * Idempotent `POST /run`. A request carrying `Idempotency-Key` (the gateway
 * sends its request id, and retries with the same key) is deduplicated by the
 * `IdempotencyStore` Durable Object of that key: the same key and body within
 * 24 h replays the stored response (`Idempotent-Replayed: true`), another body
 * is 422 `IDEMPOTENCY_KEY_REUSED`, and a duplicate arriving while the first is
 * running is 409 `IDEMPOTENCY_IN_PROGRESS` with `Retry-After`. The running
 * request renews its claim every `LEASE_RENEW_MS`; a request that died stops,
 * and its key is free again within `LEASE_MS` (15 s).
 *
 * The store is an optimisation, never a dependency: without the binding, or
 * when it throws or is slow, the request runs without dedupe.
 *
 * A streaming caller (`Accept: text/event-stream`) shares the same records: a
 * stored 2xx answer is replayed as a stream of one `done` event carrying it; a
 * streamed run records, when it ends, the body a JSON caller would have got
 * (its `done` answer, or its `error` by the same rules as an error response),
 * through the `recordOutcome` context variable this middleware sets.
 */
import { createMiddleware } from "hono/factory";
import type { BeginResult, IdempotencyStore } from "../../../durable-objects/idempotency-store/src";
import {
  LEASE_RENEW_MS,
  MAX_STORED_BODY_BYTES,
  isStorableStatus,
} from "../../../durable-objects/idempotency-store/src/record";
import { ZaharaError } from "../../shared/errors";
import { parseByteLimit, readJsonBody } from "../../shared/http/json-body";
import { SSE_CONTENT_TYPE, encodeEvent, wantsEventStream } from "../../shared/http/sse";
import { IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from "../../shared/idempotency-headers";
import { sha256Hex } from "../../shared/sha256";
import { TimeoutError, withTimeout } from "../../shared/timeout";
import type { AgentRuntimeEnv } from "./env";
import { RunRequestSchema } from "./run";

declare module "hono" {
  interface ContextVariableMap {
    /**
     * Records the run's outcome (status, body, `Content-Type`) for its
     * `Idempotency-Key`, by the rules of a response; once, later calls do
     * nothing. Set by {@link idempotency} when the request holds a key; a
     * streamed run calls it when it ends (the middleware cannot read its body).
     */
    recordOutcome: ((status: number, body: string, contentType: string) => Promise<void>) | undefined;
  }
}

/** A valid key: 1–255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;

/** Default time allowed for each call to the store before running without it. */
export const DEFAULT_STORE_TIMEOUT_MS = 1000;

/** Options for {@link idempotency}. */
export interface IdempotencyOptions {
  /** Milliseconds allowed for each store call (default {@link DEFAULT_STORE_TIMEOUT_MS}). */
  timeoutMs?: number;
}

type Store = DurableObjectStub<IdempotencyStore>;

const storeTimeout = (ms: number) => `the idempotency store did not answer within ${ms} ms`;

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * JSON text with object keys sorted at every level, so bodies that differ
 * only in key order or whitespace hash the same.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * SHA-256 (hex) of a `/run` body: of its canonical `{task, parameters}` when
 * it is a valid run request (so an omitted `parameters` equals `{}`), else of
 * the canonical body as sent.
 */
export async function runBodyHash(body: unknown): Promise<string> {
  const run = RunRequestSchema.safeParse(body);
  const text = canonicalJson(run.success ? run.data : body);
  return sha256Hex(text);
}

/** The stored response, replayed with {@link REPLAYED_HEADER}. */
function replay({ status, body, contentType }: Extract<BeginResult, { kind: "replay" }>): Response {
  const headers = new Headers({ [REPLAYED_HEADER]: "true" });
  if (contentType) headers.set("Content-Type", contentType);
  const nullBody = status === 204 || status === 205 || status === 304;
  return new Response(nullBody ? null : body, { status, headers });
}

/** A stored 2xx JSON answer replayed to a streaming caller: one `done` event carrying it; undefined for anything else. */
function replayAsStream({ status, body }: Extract<BeginResult, { kind: "replay" }>): Response | undefined {
  if (status < 200 || status >= 300) return undefined;
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) return undefined;
  const headers = { "Content-Type": SSE_CONTENT_TYPE, "Cache-Control": "no-store", [REPLAYED_HEADER]: "true" };
  return new Response(encodeEvent("done", answer), { status: 200, headers });
}

/** True for a response whose body is an event stream (a streamed run records its own outcome). */
function isEventStream(res: Response): boolean {
  return /^text\/event-stream/i.test(res.headers.get("Content-Type") ?? "");
}

/**
 * Creates the idempotency middleware for `POST /run`. Register it before the
 * run handler; it reads the body once (with the `MAX_BODY_BYTES` limit) and
 * hands it on as the `runBody` context variable.
 */
export function idempotency<E extends AgentRuntimeEnv>({
  timeoutMs = DEFAULT_STORE_TIMEOUT_MS,
}: IdempotencyOptions = {}) {
  return createMiddleware<{ Bindings: E }>(async function idempotency(c, next) {
    const key = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (key === undefined) return next();
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw new ZaharaError("INVALID_HEADER", {
        message: `${IDEMPOTENCY_KEY_HEADER} must be 1 to 255 visible ASCII characters`,
        details: {
          fields: [{ field: IDEMPOTENCY_KEY_HEADER, message: "expected 1-255 characters in the range ! to ~" }],
        },
      });
    }
    const namespace = c.env.IDEMPOTENCY;
    if (!namespace) return next();

    const body = await readJsonBody(c.req.raw, parseByteLimit(c.env.MAX_BODY_BYTES));
    c.set("runBody", body);
    const logger = c.get("logger").child({ idempotency_key: key });
    const logFields = c.get("logFields");
    const timings = c.get("timings");

    let store: Store;
    let begun: BeginResult;
    let pending: Promise<BeginResult> | undefined;
    try {
      const bodyHash = await runBodyHash(body);
      store = namespace.get(namespace.idFromName(key));
      c.get("doCalls").awaited++;
      const started = Promise.resolve(store.begin(bodyHash, Date.now()));
      pending = started;
      begun = await timings.measure("idempotency", () => withTimeout(started, timeoutMs, storeTimeout(timeoutMs)), {
        desc: "begin",
        describe: (r) => `begin: ${r.kind}`,
      });
    } catch (err) {
      logger.warn("idempotency check failed; running without dedupe", { error: describe(err) });
      logFields.idempotency = "unavailable";
      if (err instanceof TimeoutError && pending) {
        c.get("doCalls").background++;
        releaseLate(c, pending, (token) => store.complete(token, 503, "", "", Date.now()));
      }
      return next();
    }

    logFields.idempotency = begun.kind;
    if (begun.kind === "replay")
      return (wantsEventStream(c.req.header("Accept")) && replayAsStream(begun)) || replay(begun);
    if (begun.kind === "mismatch") throw new ZaharaError("IDEMPOTENCY_KEY_REUSED");
    if (begun.kind === "in_progress") {
      const seconds = Math.max(1, Math.ceil(begun.retryAfterMs / 1000));
      throw new ZaharaError("IDEMPOTENCY_IN_PROGRESS", { headers: { "Retry-After": String(seconds) } });
    }

    const { token } = begun;
    const complete = async (status: number, text: string, contentType: string): Promise<void> => {
      c.get("doCalls").awaited++;
      try {
        const work = () =>
          withTimeout(
            Promise.resolve(store.complete(token, status, text, contentType, Date.now())),
            timeoutMs,
            storeTimeout(timeoutMs),
          );
        await timings.measure("idempotency", work, { desc: "record outcome" });
      } catch (err) {
        logger.warn("idempotency store failed to record the outcome", { status, error: describe(err) });
      }
    };
    // While the run goes on, its lease is renewed: a run that dies stops renewing, and its key is free within LEASE_MS.
    const renewal = setInterval(() => {
      const renewed = Promise.resolve(store.renew(token, Date.now()))
        .then((held) => (held ? undefined : clearInterval(renewal)))
        .catch((err: unknown) => logger.debug("idempotency lease renewal failed", { error: describe(err) }));
      c.get("doCalls").background++;
      try {
        c.executionCtx.waitUntil(renewed);
      } catch {
        // No execution context (plain fetch in tests): the promise settles on its own.
      }
    }, LEASE_RENEW_MS);
    let recorded = false;
    const record = async (status: number, text: string, contentType: string): Promise<void> => {
      if (recorded) return;
      recorded = true;
      clearInterval(renewal);
      // The store refuses bodies over its cap; never ship more than the cap + 1 character of one.
      if (isStorableStatus(status)) await complete(status, text.slice(0, MAX_STORED_BODY_BYTES + 1), contentType);
      else await complete(status, "", "");
    };
    c.set("recordOutcome", record);
    try {
      await next();
    } catch (err) {
      // Hono turns thrown Errors into responses before this point; anything
      // else propagates, and a retry must be able to run again.
      await record(500, "", "");
      throw err;
    }
    const res = c.res;
    if (isEventStream(res)) return;
    await record(
      res.status,
      isStorableStatus(res.status) ? await res.clone().text() : "",
      res.headers.get("Content-Type") ?? "",
    );
  });
}

/**
 * When `begin` answers after its timeout (the request already runs without
 * dedupe), gives the key back at once so retries are not refused as in
 * progress for a whole lease.
 */
function releaseLate(
  c: { executionCtx: ExecutionContext },
  pending: Promise<BeginResult>,
  release: (token: string) => Promise<unknown>,
): void {
  const work = pending.then((late) => (late.kind === "new" ? release(late.token) : undefined)).catch(() => undefined);
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (plain fetch in tests): the promise still settles on its own.
  }
}
