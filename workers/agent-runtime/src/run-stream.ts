/**
 * `POST /run` answered as server-sent events. The status is decided late:
 * until the capability emits its first piece (or finishes), nothing is sent,
 * so a failure up to then is an ordinary JSON error response (status and
 * `X-Zahara-Fault`) that a gateway may still retry. From the first piece on
 * the answer is `200 text/event-stream`: one `delta` event per piece, then
 * exactly one `done` (the JSON answer, plus the agent's `server_timing`) or
 * one `error` (Zahara's error shape plus `status` and `fault`), and nothing
 * after it. A caller that goes away cancels the stream, which aborts the
 * capability (and so the provider call). An answer that must be checked whole
 * before any of it is sent (pii-guard.ts) is sent as one `done` event
 * ({@link answerAsStream}).
 */
import type { Context } from "hono";
import { ZaharaError } from "../../shared/errors";
import { errorBody } from "../../shared/http/error-handler";
import { SSE_CONTENT_TYPE, encodeEvent } from "../../shared/http/sse";
import { REQUEST_ID_HEADER } from "../../shared/request-id";
import { type RunAnswer, checkOutput, runAnswer } from "./answer";
import type { CapabilityContext, CapabilityOutput, ResolvedCapability, StreamPiece } from "./capability";
import type { AgentRuntimeEnv } from "./env";
import { serverTimingValue } from "./timings";

/** What a streamed run needs from the run handler, after the request was validated. */
export interface StreamRun<E extends AgentRuntimeEnv> {
  task: string;
  cap: ResolvedCapability<E>;
  parameters: Record<string, unknown>;
  context: CapabilityContext<E>;
  /** Sees the output once it passed its schema, before the `done` event; what it returns is the answer. */
  inspect?: (output: CapabilityOutput) => CapabilityOutput;
}

type Outcome = { ok: true; output: CapabilityOutput } | { ok: false; error: unknown };

function toZaharaError(err: unknown): ZaharaError {
  return err instanceof ZaharaError ? err : new ZaharaError("INTERNAL_ERROR", { cause: err });
}

/** The `delta` payload of a piece; undefined for a piece that carries nothing (empty text). */
function deltaOf(piece: StreamPiece): { text: string } | { data: unknown } | undefined {
  if ("text" in piece) return typeof piece.text === "string" && piece.text !== "" ? { text: piece.text } : undefined;
  return { data: piece.data };
}

/** Keeps `work` running after the response is returned (a no-op without an execution context, as in some tests). */
function keepAlive(c: Context, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context: the stream's reader keeps the work going.
  }
}

/**
 * Runs the capability for a caller that asked for an event stream. Throws
 * (a JSON error answer) when it fails before its first piece; otherwise
 * returns the 200 stream, which the rest of the run writes.
 */
export async function streamRun<E extends AgentRuntimeEnv>(
  c: Context<{ Bindings: E }>,
  { task, cap, parameters, context, inspect }: StreamRun<E>,
): Promise<Response> {
  const encoder = new TextEncoder();
  const cancelled = new AbortController();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let open = true;
  let settled = false;
  const body = new ReadableStream<Uint8Array>({
    start: (ctl) => void (controller = ctl),
    cancel: () => {
      // The caller went away: stop the work, and give the idempotency key back so a retry runs again.
      open = false;
      cancelled.abort(new DOMException("The caller closed the stream", "AbortError"));
      const released = c.get("recordOutcome")?.(500, "", "");
      if (released) keepAlive(c, released);
    },
  });
  const send = (event: string, data: unknown) => {
    if (open) controller?.enqueue(encoder.encode(encodeEvent(event, data)));
  };

  let firstPiece: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (firstPiece = resolve));
  let emitted = false;
  const emit = (piece: StreamPiece) => {
    if (settled) return; // pieces after the handler returned are not part of the answer
    const delta = deltaOf(piece);
    if (!delta) return;
    send("delta", delta);
    if (!emitted) {
      emitted = true;
      firstPiece();
    }
  };

  const streamingContext: CapabilityContext<E> = {
    ...context,
    signal: AbortSignal.any([context.signal, cancelled.signal]),
    emit,
  };
  const outcome: Promise<Outcome> = context.timings
    .measure("capability", async () => cap.handler(parameters, streamingContext), {
      // Labelled as a buffered run is (the waterfall reads it); the attribute tells them apart.
      desc: `${task} (${cap.kind})`,
      attributes: { capability: task, "capability.kind": cap.kind, "capability.streamed": true },
    })
    .then(
      (output): Outcome => ({ ok: true, output }),
      (error: unknown): Outcome => ({ ok: false, error }),
    )
    .finally(() => void (settled = true));

  await Promise.race([outcome, started]);
  if (!emitted) {
    // Nothing sent yet: a failure is still an ordinary error response.
    const early = await outcome;
    if (!early.ok) throw early.error;
  }

  const finish = outcome.then(async (end) => {
    const logger = c.get("logger");
    const record = c.get("recordOutcome");
    try {
      if (!end.ok) throw end.error;
      checkOutput(cap, end.output);
      const answer = runAnswer(c, task, inspect ? inspect(end.output) : end.output);
      await record?.(200, JSON.stringify(answer), "application/json");
      send("done", { ...answer, server_timing: serverTimingValue(context.timings) });
      logger.info("stream answered", { task, ...(answer.usage ? { usage: answer.usage } : {}) });
    } catch (err) {
      if (!open) {
        logger.info("stream abandoned: the caller went away", { task });
        return;
      }
      const zerr = toZaharaError(err);
      const shape = errorBody(c, zerr);
      await record?.(zerr.status, JSON.stringify(shape), "application/json; charset=utf-8");
      send("error", { ...shape, status: zerr.status, ...(zerr.fault ? { fault: zerr.fault } : {}) });
      const cause = zerr.code === "INTERNAL_ERROR" && err instanceof Error ? `${err.name}: ${err.message}` : undefined;
      logger[zerr.status >= 500 ? "error" : "warn"]("stream failed", {
        task,
        code: zerr.code,
        status: zerr.status,
        ...(cause ? { error: cause } : {}),
      });
    } finally {
      if (open) {
        open = false;
        controller?.close();
      }
    }
  });
  keepAlive(c, finish);

  return new Response(body, {
    status: 200,
    headers: { "Content-Type": SSE_CONTENT_TYPE, "Cache-Control": "no-store", [REQUEST_ID_HEADER]: c.get("requestId") },
  });
}

/** A finished answer as a stream of one `done` event (recorded for its `Idempotency-Key` as a JSON answer). */
export async function answerAsStream(c: Context, answer: RunAnswer): Promise<Response> {
  await c.get("recordOutcome")?.(200, JSON.stringify(answer), "application/json");
  const done = encodeEvent("done", { ...answer, server_timing: serverTimingValue(c.get("timings")) });
  return new Response(done, {
    status: 200,
    headers: { "Content-Type": SSE_CONTENT_TYPE, "Cache-Control": "no-store", [REQUEST_ID_HEADER]: c.get("requestId") },
  });
}
