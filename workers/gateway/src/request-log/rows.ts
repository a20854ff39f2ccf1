/**
 * The request log's row types and the API's views of them. Types only, with
 * no runtime imports, so the dashboard can import them as the contract of
 * `GET /v1/requests` and `GET /v1/requests/:id`.
 */
import type { TimingEntry } from "../../../shared/observability/server-timing";

/** One of the agent's own steps within an attempt (from its `Server-Timing`), in ms from the attempt's start. */
export type AgentSpan = TimingEntry;

/** One request as stored in `requests`. */
export interface RequestRow {
  request_id: string;
  /** Epoch ms when the request entered the gateway. */
  ts: number;
  key_id: string | null;
  agent: string | null;
  served_by: string | null;
  task: string | null;
  method: string;
  path: string;
  status: number;
  code: string | null;
  duration_ms: number;
  trace_id: string | null;
}

/** One attempt as stored in `request_attempts` (`n` is its order in the request, from 1). */
export interface AttemptRow {
  request_id: string;
  n: number;
  agent: string;
  attempt: number;
  status: number;
  code: string | null;
  admission: string;
  latency_ms: number;
  backoff_ms: number;
  /** The agent's spans as JSON text ({@link AgentSpan}[]), or null. */
  spans: string | null;
}

/** A request as the API returns it. */
export interface RequestView extends RequestRow {
  /** `ts` as an ISO 8601 string. */
  time: string;
  /** How many attempts the resilient call made (0 when none was made). */
  attempts: number;
}

/** One entry of a request's timeline, with the agent's spans parsed (empty when it sent none). */
export type TimelineEntry = Omit<AttemptRow, "request_id" | "spans"> & { spans: AgentSpan[] };
