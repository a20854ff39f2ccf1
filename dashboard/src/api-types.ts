/**
 * The gateway's payloads the dashboard's screens read, typed: the answers of
 * `/health`, `/agents`, `/v1/stats`, `/v1/runs` and the request log. Where
 * the gateway declares a payload's type without runtime imports, it is
 * imported from there. `api.ts` re-exports all of them; import from there.
 */
import type { StatsWindow } from "../../durable-objects/upstream-guard/src/metrics";
import type { GuardView } from "../../workers/gateway/src/admin/guard-view";
import type { RequestView as RequestLogEntry, TimelineEntry } from "../../workers/gateway/src/request-log/rows";
import type { RunCallbackView, RunStatus, RunView, WebhookDelivery } from "../../workers/gateway/src/runs/types";

// StatsWindow: one window of `GET /v1/stats`. RequestLogEntry: one row of `GET /v1/requests`.
// TimelineEntry: one entry of a request's timeline (`GET /v1/requests/:id`). GuardView: `GET /v1/agents/:agent/guard` → `guard`.
// RunView: one long-running run (`GET /v1/runs/:id`), with its RunStatus, its webhook (RunCallbackView) and that webhook's deliveries.
export type {
  StatsWindow,
  RequestLogEntry,
  TimelineEntry,
  GuardView,
  RunView,
  RunStatus,
  RunCallbackView,
  WebhookDelivery,
};

/** `GET /health`. */
export interface GatewayHealth {
  status: "ok" | "degraded";
  version: string;
  agents: Record<string, { status: string; http_status: number | null; latency_ms: number | null }>;
}

/** One capability in `GET /agents`. */
export interface AgentCapability {
  name: string;
  description?: string;
  input_schema?: unknown;
  output_schema?: unknown;
}

/** One agent in `GET /agents`. */
export interface AgentSummary {
  name: string;
  display_name?: string;
  description?: string;
  version?: string;
  capabilities: AgentCapability[];
  [field: string]: unknown;
}

/** `GET /v1/stats`. */
export interface GatewayStats {
  agents: Record<
    string,
    {
      breaker: { state: string; transitions: { from: string; to: string; at: number; cause: string }[] };
      windows: Record<"1m" | "5m" | "60m", StatsWindow>;
    }
  >;
  unavailable?: string[];
  generated_at: string;
}

/** What `GET /v1/runs` is asked: filters, a page size (1-100, default 20), the cursor of the next page. */
export interface RunsQuery {
  status?: RunStatus;
  agent?: string;
  limit?: number;
  cursor?: string;
  signal?: AbortSignal;
}

/** `GET /v1/runs`: newest first, each run without its `result` (fetch the run for it). */
export interface RunsPage {
  runs: RunView[];
  next_cursor?: string;
}
