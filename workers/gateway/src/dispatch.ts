/**
 * One upstream attempt: calls an agent's `POST /run` over its service binding
 * (no public URL hop) with the request id, the attempt number and, when the
 * caller asked for deduplication, `Idempotency-Key`, under the time left, and
 * describes what happened without throwing, so the retry loop can classify it.
 */
import type { AgentInfo } from "../../shared/agents";
import { type ErrorFault, FAULT_HEADER, ZaharaError, isErrorBody, parseFault } from "../../shared/errors";
import { readUpstreamJson } from "../../shared/http/json-body";
import { IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from "../../shared/idempotency-headers";
import { callBody } from "./hosted/payload";
import { SERVER_TIMING_HEADER, type TimingEntry, parseServerTiming } from "../../shared/observability/server-timing";
import { REQUEST_ID_HEADER } from "../../shared/request-id";
import { PII_KINDS_HEADER, formatPiiKinds, parsePiiKinds } from "../../shared/safety/pii";
import { DEADLINE_HEADER } from "../../shared/deadline-header";

/** Header carrying the 1-based attempt number to the agent. */
export const ATTEMPT_HEADER = "X-Zahara-Attempt";

/** One call to an agent. */
export interface AgentCall {
  agent: AgentInfo;
  binding: Fetcher;
  task: string;
  parameters: Record<string, unknown>;
  requestId: string;
  /** The agent-facing idempotency key; none when the caller sent no `Idempotency-Key`. */
  idempotencyKey?: string;
  attempt: number;
  /** Milliseconds left for this attempt. */
  timeoutMs: number;
  /** The caller's abort signal (client gone). */
  signal?: AbortSignal;
  /** Largest agent response body read (`MAX_RESPONSE_BYTES`); default {@link DEFAULT_MAX_RESPONSE_BYTES}. */
  maxResponseBytes?: number;
  /**
   * Ask for an event stream; `deadlineMs` is how long the stream may run (sent to the agent as its deadline).
   * `timeoutMs` still bounds the wait for the answer's head (its first piece).
   */
  stream?: { deadlineMs: number };
}

/** An agent's event stream, not yet read: the gateway relays it (calls/stream-relay.ts). */
export interface AgentStream {
  body: ReadableStream<Uint8Array>;
  /** Aborts the call (the abort reaches the agent and its provider call). */
  abort(): void;
}

/** Default cap on an agent's response body: 8 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * How an attempt failed: the agent answered an error, answered a body over
 * the response cap, could not be reached, ran out of time, or the caller left.
 */
export type FailureKind = "http" | "oversize" | "network" | "timeout" | "cancelled";

/**
 * What one attempt produced; `spans` are the agent's own steps from its `Server-Timing` (when it answered).
 * A failure may carry the agent's `fault` (its {@link FAULT_HEADER}: the caller's input, or a setting) and,
 * for a timeout, `budgetMs`: how long the attempt was given.
 */
export type AttemptResult =
  | {
      ok: true;
      status: number;
      result: unknown;
      usage?: unknown;
      latencyMs: number;
      spans?: TimingEntry[];
      /** The kinds of personal data the agent found in the call (its `Zahara-Pii-Kinds`), comma-separated. */
      piiKinds?: string;
      replayed?: boolean;
      stream?: AgentStream;
    }
  | {
      ok: false;
      kind: FailureKind;
      status: number;
      error: ZaharaError;
      retryAfter: string | null;
      latencyMs: number;
      spans?: TimingEntry[];
      piiKinds?: string;
      fault?: ErrorFault;
      budgetMs?: number;
    };

const RELAYED_HEADERS = ["Retry-After", "Allow"];

/** The agent's body went past the cap: reading stopped there and the rest was cancelled. */
const OVERSIZE = Symbol("oversize");

/** Reads the agent's JSON body under the cap: {@link OVERSIZE} past it; `undefined` when it is not JSON or the stream failed. */
async function readJson(res: Response, maxBytes: number): Promise<unknown> {
  const read = await readUpstreamJson(res, maxBytes);
  return read.ok ? read.value : read.tooLarge ? OVERSIZE : undefined;
}

function oversizeError(agent: AgentInfo, res: Response, maxBytes: number): ZaharaError {
  // Nothing of the body is kept or relayed: only its status and the cap.
  return new ZaharaError("UPSTREAM_FAILED", {
    message: `The response of agent "${agent.name}" exceeded ${maxBytes} bytes`,
    details: { agent: agent.name, agent_status: res.status, max_response_bytes: maxBytes },
  });
}

function httpError(agent: AgentInfo, res: Response, body: unknown, fault: ErrorFault | undefined): ZaharaError {
  // A 4xx, or an error the agent marked as the caller's or a setting's: relayed as the agent's own (another
  // attempt cannot change it, and the caller needs the agent's code: LLM_NOT_CONFIGURED, LLM_BAD_OUTPUT, ...).
  if ((res.status >= 400 && res.status < 500) || (fault !== undefined && res.status >= 400)) {
    const headers: Record<string, string> = {};
    for (const name of RELAYED_HEADERS) {
      const v = res.headers.get(name);
      if (v) headers[name] = v;
    }
    return ZaharaError.relayed(res.status, isErrorBody(body) ? body : {}, agent.name, headers);
  }
  const agentError = isErrorBody(body) ? body : undefined;
  return new ZaharaError("UPSTREAM_FAILED", {
    message: agentError
      ? `Agent "${agent.name}" failed: ${agentError.error}`
      : `Agent "${agent.name}" answered ${res.status}`,
    details: {
      agent: agent.name,
      agent_status: res.status,
      ...(agentError ? { agent_code: agentError.code } : {}),
      ...(agentError?.details ? { agent_details: agentError.details } : {}),
    },
  });
}

/** The known kinds of personal data the agent names in `Zahara-Pii-Kinds` (never values), when it names any. */
function piiKindsOf(res: Response): { piiKinds?: string } {
  const kinds = formatPiiKinds(parsePiiKinds(res.headers.get(PII_KINDS_HEADER)));
  return kinds === "" ? {} : { piiKinds: kinds };
}

function isEventStream(res: Response): boolean {
  return (res.headers.get("Content-Type") ?? "").toLowerCase().startsWith("text/event-stream");
}

/** Makes one attempt; never throws. */
export async function callAgent(call: AgentCall): Promise<AttemptResult> {
  const { agent, binding, task, parameters, requestId, idempotencyKey, attempt, timeoutMs, signal } = call;
  const maxResponseBytes = call.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const started = Date.now();
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), Math.max(0, timeoutMs));
  // Ends a relayed stream (idle, too long, too large, or the caller gone): the abort reaches the agent.
  const relay = new AbortController();
  const combined = AbortSignal.any([...(signal ? [signal] : []), timeout.signal, relay.signal]);
  try {
    const res = await binding.fetch(`https://${agent.name}.agent.internal/run`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: call.stream ? "text/event-stream" : "application/json",
        [DEADLINE_HEADER]: String(Math.max(1, Math.round(call.stream?.deadlineMs ?? timeoutMs))),
        [REQUEST_ID_HEADER]: requestId,
        ...(idempotencyKey !== undefined ? { [IDEMPOTENCY_KEY_HEADER]: idempotencyKey } : {}),
        [ATTEMPT_HEADER]: String(attempt),
      },
      body: callBody(agent, task, parameters),
      signal: combined,
    });
    if (call.stream && res.ok && res.body && isEventStream(res)) {
      // The head is here: from now on the relay bounds the stream (idle, duration, size), not the attempt's timer.
      clearTimeout(timer);
      const latencyMs = Date.now() - started;
      return {
        ok: true,
        status: res.status,
        result: undefined,
        latencyMs,
        stream: { body: res.body, abort: () => relay.abort() },
        ...piiKindsOf(res),
      };
    }
    const body = await readJson(res, maxResponseBytes);
    // The attempt's deadline passed while its answer came in: it is a timeout, whatever the answer says (an agent
    // woken by the abort, such as a chaos delay cut short, may answer at once, racing the abort).
    if (timeout.signal.aborted) throw timeout.signal.reason;
    const latencyMs = Date.now() - started;
    const timing = parseServerTiming(res.headers.get(SERVER_TIMING_HEADER));
    const spans = { ...(timing.length > 0 ? { spans: timing } : {}), ...piiKindsOf(res) };
    if (body === OVERSIZE) {
      return {
        ok: false,
        kind: "oversize",
        status: 502,
        error: oversizeError(agent, res, maxResponseBytes),
        retryAfter: null,
        latencyMs,
        ...spans,
      };
    }
    if (res.ok && typeof body === "object" && body !== null && "result" in body) {
      const { result, usage } = body as { result: unknown; usage?: unknown };
      const replayed = res.headers.get(REPLAYED_HEADER) === "true" ? { replayed: true } : {};
      return {
        ok: true,
        status: res.status,
        result,
        ...(usage === undefined ? {} : { usage }),
        latencyMs,
        ...spans,
        ...replayed,
      };
    }
    const status = res.ok ? 502 : res.status;
    const fault = parseFault(res.headers.get(FAULT_HEADER));
    const error = httpError(agent, res, body, fault);
    return {
      ok: false,
      kind: "http",
      status,
      error,
      retryAfter: res.headers.get("Retry-After"),
      latencyMs,
      ...spans,
      ...(fault ? { fault } : {}),
    };
  } catch (err) {
    const latencyMs = Date.now() - started;
    if (timeout.signal.aborted) {
      const error = new ZaharaError("UPSTREAM_TIMEOUT", {
        message: `Agent "${agent.name}" did not answer before the deadline`,
        details: { agent: agent.name, timeout_ms: timeoutMs },
      });
      return { ok: false, kind: "timeout", status: 0, error, retryAfter: null, latencyMs, budgetMs: timeoutMs };
    }
    if (signal?.aborted) {
      const error = new ZaharaError("UPSTREAM_UNREACHABLE", {
        message: "The caller went away",
        details: { agent: agent.name },
        cause: err,
      });
      return { ok: false, kind: "cancelled", status: 0, error, retryAfter: null, latencyMs };
    }
    const error = new ZaharaError("UPSTREAM_UNREACHABLE", {
      message: `Agent "${agent.name}" could not be reached`,
      details: { agent: agent.name },
      cause: err,
    });
    return { ok: false, kind: "network", status: 0, error, retryAfter: null, latencyMs };
  } finally {
    clearTimeout(timer);
  }
}

/** Total tokens from an agent's `usage` (OpenAI naming), or 0. */
export function totalTokens(usage: unknown): number {
  if (typeof usage !== "object" || usage === null) return 0;
  const total = (usage as { total_tokens?: unknown }).total_tokens;
  return typeof total === "number" && Number.isFinite(total) && total > 0 ? Math.round(total) : 0;
}
