/**
 * The shape of a long-running run as the API shows it (`GET /v1/runs/:id`, the
 * `/events` stream, the webhook body, the list). Types only, no runtime
 * imports: the routes, the run's Durable Object, the webhook sender and the
 * dashboard all read it. Semantics: docs/runs.md.
 */

/** A run's lifecycle: `queued` → `running` → one of the three final states (or `queued` → `cancelled`). */
export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** The final states: once there, a run never changes status again. */
export const FINAL_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "cancelled"];

/** One webhook delivery attempt. */
export interface WebhookDelivery {
  /** 1-based. */
  attempt: number;
  /** ISO 8601 time the attempt started. */
  at: string;
  /** True when the receiver answered 2xx. */
  ok: boolean;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why it failed, when it did (never the receiver's body). */
  error?: string;
  duration_ms: number;
}

/** The webhook asked for at creation, and how its deliveries went. */
export interface RunCallbackView {
  url: string;
  /** `pending` until the run ends and a delivery succeeds or the retries give up. */
  state: "pending" | "delivered" | "failed";
  deliveries: WebhookDelivery[];
}

/** Zahara's error shape, as a failed or cancelled run carries it. */
export interface RunError {
  error: string;
  code: string;
  status: number;
  request_id: string;
  details?: unknown;
}

/** A run as `GET /v1/runs/:id` answers it. */
export interface RunView {
  run_id: string;
  agent: string;
  task: string;
  status: RunStatus;
  result?: unknown;
  usage?: unknown;
  /** The agent that served the result (a fallback's name when one did). */
  served_by?: string;
  error?: RunError;
  /** Attempts made on agents so far, across every execution of the run. */
  attempts: number;
  /** ISO 8601 times. */
  created_at: string;
  started_at?: string;
  finished_at?: string;
  /** The request log id of the creating request and of the run's execution (one timeline). */
  request_id: string;
  status_url: string;
  callback?: RunCallbackView;
}
