/**
 * Relays an agent's event stream to the caller as it arrives, with the
 * gateway's bounds, and settles the attempt when the stream ends.
 *
 * Pull-driven: one chunk is read from the agent only when the caller has
 * taken the last one, so memory stays flat however long the answer, and a
 * slow caller slows the agent instead of filling a buffer. Each event is
 * parsed and re-encoded: `delta` pieces as they are (`{text}` or `{data}`),
 * the agent's `done` with the gateway's request id, duration and `served_by`,
 * the agent's `error` in the gateway's error shape (a 4xx as the agent sent
 * it, a 5xx as `UPSTREAM_FAILED`, as `/execute` answers them).
 *
 * The stream ends with `done` or with one `error` event, whatever happens:
 * no event for `idleTimeoutMs` or the stream still running at `endsAt`
 * (504 `UPSTREAM_TIMEOUT`), more than `maxBytes` from the agent, an event
 * that is not the contract's, or the agent's stream closing without `done`
 * (502 `UPSTREAM_FAILED`). Then the agent's call is aborted, and the
 * attempt is settled once: a `done` is a success for the breaker; an agent
 * 5xx it did not mark as the caller's or a setting's, a stall, an overrun or
 * a broken stream is a failure; an agent 4xx and a caller who left are
 * neutral. Settling releases the permit and turns the token reservation
 * into the usage the `done` event reported.
 */
import type { AttemptOutcome } from "../../../../durable-objects/upstream-guard/src/types";
import { type ErrorBody, ZaharaError, isErrorBody, parseFault } from "../../../shared/errors";
import { errorShape } from "../../../shared/http/error-handler";
import { elapsedMs } from "../../../shared/http/request-context";
import { SseParser, encodeEvent } from "../../../shared/http/sse";
import { totalTokens } from "../dispatch";
import type { StreamedAttempt } from "../resilience/executor";
import { isJsonObject } from "../../../shared/json-object";

/** Why a stream ended. */
export type StreamEndReason =
  "done" | "error" | "idle" | "duration" | "oversize" | "malformed" | "truncated" | "cancelled";

/** Status logged for a stream whose caller went away (the HTTP answer had begun; nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

/** How a relayed stream ended. */
export interface StreamEnd {
  reason: StreamEndReason;
  /** The breaker's view. */
  outcome: AttemptOutcome;
  /** The status `/execute` would have answered: 200 for `done`, the error's otherwise, 499 for a caller gone. */
  status: number;
  code?: string;
  result?: unknown;
  usage?: unknown;
  /** Tokens settled (the `done` event's usage). */
  tokens: number;
  /** Bytes sent to the caller. */
  bytes: number;
  /** Time from the request's start to the first event sent, when one was. */
  ttfbMs?: number;
}

/** What {@link relayStream} needs. */
export interface RelayOptions {
  attempt: StreamedAttempt;
  /** The agent routed to, and the one serving (a fallback's name when one does). */
  agent: string;
  servedBy: string;
  task: string;
  requestId: string;
  /** Epoch ms when the request entered the gateway. */
  startedAt: number;
  idleTimeoutMs: number;
  /** Epoch ms by which the stream must end. */
  endsAt: number;
  /** Most bytes read from the agent. */
  maxBytes: number;
  onEnd(end: StreamEnd): void;
}

type Terminal =
  { kind: "done"; result: unknown; usage?: unknown } | { kind: "error"; error: ZaharaError; outcome: AttemptOutcome };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The agent's `error` event as the gateway's error and the breaker's view of it. */
function agentError(agent: string, data: Record<string, unknown>): Terminal {
  const status =
    Number.isInteger(data.status) && (data.status as number) >= 400 && (data.status as number) <= 599
      ? (data.status as number)
      : 502;
  const body: Partial<ErrorBody> = isErrorBody(data) ? data : {};
  const fault = parseFault(typeof data.fault === "string" ? data.fault : undefined);
  // A 4xx, or an error marked as the caller's or a setting's: the agent's own, as /execute relays it.
  if (status < 500 || fault !== undefined)
    return { kind: "error", error: ZaharaError.relayed(status, body, agent), outcome: "neutral" };
  const error = new ZaharaError("UPSTREAM_FAILED", {
    message: body.error ? `Agent "${agent}" failed: ${body.error}` : `Agent "${agent}" failed mid-stream`,
    details: {
      agent,
      agent_status: status,
      ...(body.code ? { agent_code: body.code } : {}),
      ...(body.details ? { agent_details: body.details } : {}),
    },
  });
  return { kind: "error", error, outcome: "failure" };
}

/** Relays `opts.attempt`'s stream; the returned stream is the caller's answer body. */
export function relayStream(opts: RelayOptions): ReadableStream<Uint8Array> {
  const reader = opts.attempt.body.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const parser = new SseParser();
  let bytesIn = 0;
  let bytesOut = 0;
  let firstAt: number | undefined;
  let ended = false;
  let watchdog: ReturnType<typeof setTimeout> | undefined;

  const errorData = (err: ZaharaError) =>
    errorShape(err, { requestId: opts.requestId, startedAt: opts.startedAt, service: "gateway" });

  function end(
    controller: ReadableStreamDefaultController<Uint8Array> | undefined,
    reason: StreamEndReason,
    terminal: Terminal | undefined,
  ) {
    if (ended) return;
    ended = true;
    if (watchdog !== undefined) clearTimeout(watchdog);
    if (terminal && controller) {
      const text =
        terminal.kind === "done"
          ? encodeEvent("done", {
              result: terminal.result,
              ...(terminal.usage !== undefined ? { usage: terminal.usage } : {}),
              agent: opts.agent,
              served_by: opts.servedBy,
              task: opts.task,
              request_id: opts.requestId,
              duration_ms: elapsedMs(opts.startedAt),
            })
          : encodeEvent("error", errorData(terminal.error));
      send(controller, text);
    }
    // The agent's call ends here, whatever state it is in (the abort reaches the agent and its provider call).
    opts.attempt.abort();
    reader.cancel().catch(() => {});
    const tokens = terminal?.kind === "done" ? totalTokens(terminal.usage) : 0;
    const outcome: AttemptOutcome =
      reason === "cancelled" ? "neutral" : terminal?.kind === "error" ? terminal.outcome : "success";
    opts.attempt.settle(outcome, tokens);
    const status =
      reason === "cancelled" ? CLIENT_CLOSED_STATUS : terminal?.kind === "error" ? terminal.error.status : 200;
    opts.onEnd({
      reason,
      outcome,
      status,
      ...(terminal?.kind === "error" ? { code: terminal.error.code } : {}),
      ...(terminal?.kind === "done"
        ? { result: terminal.result, ...(terminal.usage !== undefined ? { usage: terminal.usage } : {}) }
        : {}),
      tokens,
      bytes: bytesOut,
      ...(firstAt !== undefined ? { ttfbMs: firstAt - opts.startedAt } : {}),
    });
    if (controller) controller.close();
  }

  function send(controller: ReadableStreamDefaultController<Uint8Array>, text: string) {
    const bytes = encoder.encode(text);
    bytesOut += bytes.byteLength;
    firstAt ??= Date.now();
    controller.enqueue(bytes);
  }

  const fail = (
    code: "UPSTREAM_TIMEOUT" | "UPSTREAM_FAILED",
    message: string,
    details: Record<string, unknown> = {},
  ): Terminal => ({
    kind: "error",
    error: new ZaharaError(code, { message, details: { agent: opts.servedBy, ...details } }),
    outcome: "failure",
  });

  /** Reads one chunk, or the reason the wait ended first. */
  async function readChunk(): Promise<ReadableStreamReadResult<Uint8Array> | "idle" | "duration"> {
    const left = opts.endsAt - Date.now();
    if (left <= 0) return "duration";
    const wait = Math.min(opts.idleTimeoutMs, left);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"idle" | "duration">((resolve) => {
      timer = setTimeout(() => resolve(wait < opts.idleTimeoutMs ? "duration" : "idle"), wait);
    });
    try {
      return await Promise.race([reader.read(), timeout]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** Turns parsed events into text for the caller; a terminal event stops there. */
  function translate(events: { event: string; data: string }[]): {
    text: string;
    terminal?: Terminal;
    reason?: StreamEndReason;
  } {
    let text = "";
    for (const ev of events) {
      if (ev.event !== "delta" && ev.event !== "done" && ev.event !== "error") continue; // comments, unknown events
      const data = parseJson(ev.data);
      if (!isJsonObject(data))
        return {
          text,
          terminal: fail("UPSTREAM_FAILED", `Agent "${opts.servedBy}" sent a malformed ${ev.event} event`),
          reason: "malformed",
        };
      if (ev.event === "delta") {
        if (typeof data.text === "string") text += encodeEvent("delta", { text: data.text });
        else if ("data" in data) text += encodeEvent("delta", { data: data.data });
        else
          return {
            text,
            terminal: fail("UPSTREAM_FAILED", `Agent "${opts.servedBy}" sent a delta with neither text nor data`),
            reason: "malformed",
          };
      } else if (ev.event === "done") {
        return {
          text,
          terminal: { kind: "done", result: data.result, ...(data.usage !== undefined ? { usage: data.usage } : {}) },
          reason: "done",
        };
      } else {
        return { text, terminal: agentError(opts.servedBy, data), reason: "error" };
      }
    }
    return { text };
  }

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // A caller that stops reading stops the pulls (and the timers in them): this ends the stream at its bound anyway.
        watchdog = setTimeout(
          () =>
            end(
              controller,
              "duration",
              fail("UPSTREAM_TIMEOUT", `The stream of agent "${opts.servedBy}" did not finish in time`),
            ),
          Math.max(0, opts.endsAt - Date.now()) + 1000,
        );
      },
      async pull(controller) {
        try {
          for (;;) {
            const read = await readChunk();
            if (ended) return;
            if (read === "idle")
              return end(
                controller,
                "idle",
                fail("UPSTREAM_TIMEOUT", `Agent "${opts.servedBy}" sent nothing for ${opts.idleTimeoutMs} ms`, {
                  idle_timeout_ms: opts.idleTimeoutMs,
                }),
              );
            if (read === "duration")
              return end(
                controller,
                "duration",
                fail("UPSTREAM_TIMEOUT", `Agent "${opts.servedBy}" did not finish its stream in time`),
              );
            if (read.done)
              return end(
                controller,
                "truncated",
                fail("UPSTREAM_FAILED", `Agent "${opts.servedBy}" ended its stream without a done event`),
              );
            bytesIn += read.value.byteLength;
            if (bytesIn > opts.maxBytes) {
              return end(
                controller,
                "oversize",
                fail("UPSTREAM_FAILED", `The stream of agent "${opts.servedBy}" exceeded ${opts.maxBytes} bytes`, {
                  max_response_bytes: opts.maxBytes,
                }),
              );
            }
            const { text, terminal, reason } = translate(parser.push(decoder.decode(read.value, { stream: true })));
            if (text) send(controller, text);
            if (terminal && reason) return end(controller, reason, terminal);
            if (text) return;
          }
        } catch {
          // The agent's stream broke (its connection failed or was aborted).
          return end(
            controller,
            "truncated",
            fail("UPSTREAM_FAILED", `The stream of agent "${opts.servedBy}" broke off`),
          );
        }
      },
      cancel() {
        end(undefined, "cancelled", undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
