/**
 * What one call through the gateway leaves behind for the request log, the
 * agents' metrics and traces: the routed agent, the task, the resilient
 * call's timeline and, once it has ended, how it ended.
 *
 * A request to `/execute` makes one call; a request in a protocol (an MCP
 * `tools/call`, an A2A message) makes one per call it carries. The protocol's
 * HTTP answer is 200 with any failure inside its own message, so each call
 * keeps the status `/execute` would have answered (`status`, `code`): the
 * request log and `/metrics` count protocol calls like any other.
 */
import type { AttemptRecord } from "../resilience/executor";

/** The API a call came through: Zahara's own (`http`), MCP or A2A. */
export type CallProtocol = "http" | "mcp" | "a2a";

/** One call's record (types only: no runtime imports). */
export interface CallSummary {
  protocol: CallProtocol;
  /** The agent routed to. */
  agent: string;
  task: string;
  attempts: AttemptRecord[];
  /** Epoch ms when the call started. */
  startedAt: number;
  /** Set when the call ended: the agent that served it (a fallback's name when one did). */
  servedBy?: string;
  /** Set when the call ended: the HTTP status `/execute` answers for it. */
  status?: number;
  /** Set when the call failed: Zahara's error code. */
  code?: string;
  /** Set when the call ended. */
  durationMs?: number;
  /** Tokens the call used (its usage's `total_tokens`), when it reported any. */
  tokens?: number;
  /** A streamed answer: time from the request's start to its first event, and the bytes sent (set at its end). */
  ttfbMs?: number;
  bytesOut?: number;
}

declare module "hono" {
  interface ContextVariableMap {
    /** The calls this request made, in order (the execute routes and the protocol routes push them). */
    calls?: CallSummary[];
    /**
     * Set when the answer is a stream: resolves once it has ended and its call is complete, so the request log
     * and the metrics (which run after the response) record the call as it ended, not as it began.
     */
    callsSettled?: Promise<void>;
  }
}
