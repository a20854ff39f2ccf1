/**
 * What the admin API answers (`/v1/keys`, `/v1/requests`, `/v1/sessions`,
 * `/v1/agents/:agent/guard`, `/v1/stats`, `/v1/audit`), as zod/mini schemas
 * for the OpenAPI document; the caller-facing answers are in schemas.ts,
 * with the same rules: each schema is held to the TypeScript type the route
 * answers with, and only document.ts and tests import this module.
 */
import * as z from "zod/mini";
import type { GuardView } from "../admin/guard-view";
import type { AuditView } from "../audit/audit-log";
import type { KeyView } from "../auth/key-store";
import type { RequestDetail, RequestView } from "../request-log/queries";
import type { AgentStatsBody } from "../routes/stats";
import {
  type Expect,
  DurationMs,
  EpochMs,
  IsoTime,
  JsonObject,
  RequestId,
  type Same,
  named,
  responseRegistry,
} from "./schemas";

const nullable = z.nullable;

/** Managed keys (auth/key-store.ts). */
const KeyViewSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  rate_limit: nullable(z.strictObject({ requests_per_minute: z.int(), burst: z.optional(z.int()) })),
  daily_token_budget: nullable(z.int()),
  created_at: EpochMs,
  created_by: z.string(),
  expires_at: nullable(EpochMs),
  revoked_at: nullable(EpochMs),
  last_used_at: nullable(EpochMs),
  status: z.enum(["active", "expired", "revoked"]),
  secrets: z.array(z.strictObject({ prefix: z.string(), created_at: EpochMs, not_after: nullable(EpochMs) })),
});
type _Key = Expect<Same<z.output<typeof KeyViewSchema>, KeyView>>;
const Key = named(responseRegistry, KeyViewSchema, {
  id: "Key",
  description: "A managed key: never its secret, only the secrets' display prefixes. Times are epoch ms.",
});
const Secret = named(responseRegistry, z.string(), { description: "The new secret: shown once, in this answer only" });

export const KeyAnswerSchema = named(responseRegistry, z.strictObject({ key: Key, request_id: RequestId }), {
  id: "KeyAnswer",
});
export const KeyCreatedSchema = named(
  responseRegistry,
  z.strictObject({ key: Key, secret: Secret, request_id: RequestId }),
  { id: "KeyCreated" },
);
export const KeyRotatedSchema = named(
  responseRegistry,
  z.strictObject({ key: Key, secret: Secret, previous_valid_until: EpochMs, request_id: RequestId }),
  { id: "KeyRotated" },
);
export const KeyPageSchema = named(
  responseRegistry,
  z.strictObject({ keys: z.array(Key), next_cursor: nullable(z.string()), request_id: RequestId }),
  { id: "KeyPage" },
);

const RateCell = z.strictObject({
  limit: z.number(),
  remaining: z.number(),
  retry_after_ms: z.number(),
  reset_ms: z.number(),
});
const TokensToday = z.strictObject({ day: z.string(), used: z.number(), reserved: z.number(), remaining: z.number() });
export const KeyUsageSchema = named(
  responseRegistry,
  z.strictObject({
    key_id: z.string(),
    agents: z.array(
      z.union([
        z.strictObject({ agent: z.string(), tokens: nullable(TokensToday), rate_limit: nullable(RateCell) }),
        z.strictObject({ agent: z.string(), unavailable: z.literal(true) }),
      ]),
    ),
    request_id: RequestId,
  }),
  {
    id: "KeyUsage",
    description: "Per agent, from its guard: today's tokens against the key's budget and its rate-limit cell.",
  },
);

/** The request log (request-log/rows.ts). */
const RequestViewSchema = z.strictObject({
  log_id: z.string(),
  request_id: z.string(),
  ts: EpochMs,
  time: IsoTime,
  key_id: nullable(z.string()),
  agent: nullable(z.string()),
  served_by: nullable(z.string()),
  task: nullable(z.string()),
  method: z.string(),
  path: z.string(),
  status: z.int(),
  code: nullable(z.string()),
  duration_ms: DurationMs,
  trace_id: nullable(z.string()),
  protocol: nullable(z.string()),
  tokens: nullable(z.int()),
  ttfb_ms: nullable(z.number()),
  bytes_out: nullable(z.int()),
  pii_kinds: nullable(z.string()),
  attempts: z.int(),
});
type _RequestView = Expect<Same<z.output<typeof RequestViewSchema>, RequestView>>;
const LoggedRequest = named(responseRegistry, RequestViewSchema, { id: "LoggedRequest" });

const TimelineEntry = z.strictObject({
  n: z.int(),
  agent: z.string(),
  attempt: z.int(),
  status: z.int(),
  code: nullable(z.string()),
  admission: z.string(),
  latency_ms: z.number(),
  backoff_ms: z.number(),
  spans: z.array(
    z.strictObject({ name: z.string(), start: z.number(), dur: z.number(), desc: z.optional(z.string()) }),
  ),
});
const RequestDetailSchema = z.strictObject({ ...RequestViewSchema.shape, timeline: z.array(TimelineEntry) });
type _RequestDetail = Expect<Same<z.output<typeof RequestDetailSchema>, RequestDetail>>;

export const RequestPageSchema = named(
  responseRegistry,
  z.strictObject({ requests: z.array(LoggedRequest), next_cursor: nullable(z.string()) }),
  {
    id: "RequestPage",
    description: "Newest first; pass `next_cursor` as `cursor` for the next page (null on the last).",
  },
);
export const RequestDetailsSchema = named(
  responseRegistry,
  z.strictObject({
    request_id: z.string(),
    requests: z.array(named(responseRegistry, RequestDetailSchema, { id: "LoggedRequestDetail" })),
  }),
  {
    id: "RequestDetails",
    description: "Every logged request that carried the id (newest first, at most 50), each with its attempts.",
  },
);
export const PurgeSchema = named(
  responseRegistry,
  z.strictObject({
    cutoff: IsoTime,
    deleted: z.int(),
    truncated: z.boolean(),
    runs_deleted: z.int(),
    request_id: RequestId,
  }),
  { id: "Purge" },
);

/** Dashboard sessions (routes/sessions.ts). Times are epoch ms. */
export const SessionCreatedSchema = named(
  responseRegistry,
  z.strictObject({
    session_id: z.string(),
    principal: z.string(),
    expires_at: EpochMs,
    cache_ttl_ms: z.int(),
    request_id: RequestId,
  }),
  { id: "SessionCreated" },
);
export const SessionSchema = named(
  responseRegistry,
  z.strictObject({
    active: z.literal(true),
    principal: z.string(),
    expires_at: EpochMs,
    cache_ttl_ms: z.int(),
    request_id: RequestId,
  }),
  { id: "Session" },
);

/** An agent's upstream guard (admin/guard-view.ts). */
const BreakerState = z.enum(["closed", "open", "half_open", "isolated"]);
const Transition = z.strictObject({ from: BreakerState, to: BreakerState, at: IsoTime, cause: z.string() });
const GuardViewSchema = z.strictObject({
  agent: z.string(),
  at: IsoTime,
  breaker: z.strictObject({
    state: BreakerState,
    retry_after_ms: z.number(),
    consecutive_failures: z.int(),
    open_until: nullable(IsoTime),
  }),
  in_flight: z.int(),
  rate_limit: nullable(RateCell),
  tokens: nullable(TokensToday),
  retry_budget: z.strictObject({ requests: z.number(), retries: z.number(), available: z.number() }),
  transitions: z.array(Transition),
});
type _GuardView = Expect<Same<z.output<typeof GuardViewSchema>, GuardView>>;
const Guard = named(responseRegistry, GuardViewSchema, { id: "Guard" });

export const GuardAnswerSchema = named(responseRegistry, z.strictObject({ guard: Guard, request_id: RequestId }), {
  id: "GuardAnswer",
});
export const BreakerChangedSchema = named(
  responseRegistry,
  z.strictObject({
    guard: Guard,
    change: z.strictObject({ reason: nullable(z.string()), from: BreakerState, to: BreakerState }),
    audited: named(responseRegistry, z.boolean(), {
      description: "False when the change was applied but its audit entry could not be written (it is logged instead)",
    }),
    request_id: RequestId,
  }),
  { id: "BreakerChanged" },
);
export const GuardResetSchema = named(
  responseRegistry,
  z.strictObject({ reset: z.string(), audited: z.boolean(), request_id: RequestId }),
  { id: "GuardReset" },
);

/** `GET /v1/stats`. */
const StatsWindow = z.strictObject({
  requests: z.number(),
  rate_per_s: z.number(),
  error_rate: nullable(z.number()),
  p50_ms: nullable(z.number()),
  p95_ms: nullable(z.number()),
  p99_ms: nullable(z.number()),
});
const AgentStats = z.strictObject({
  breaker: z.strictObject({
    state: BreakerState,
    transitions: z.array(z.strictObject({ from: z.string(), to: z.string(), at: IsoTime, cause: z.string() })),
  }),
  windows: z.strictObject({ "1m": StatsWindow, "5m": StatsWindow, "60m": StatsWindow }),
});
type _AgentStats = Expect<Same<z.output<typeof AgentStats>, AgentStatsBody>>;
export const StatsSchema = named(
  responseRegistry,
  z.strictObject({
    agents: z.record(z.string(), AgentStats),
    unavailable: z.optional(z.array(z.string())),
    generated_at: IsoTime,
  }),
  {
    id: "Stats",
    description: "Per agent, from its guard; an agent whose guard cannot answer is listed in `unavailable`.",
  },
);

/** `GET /v1/audit` (audit/audit-log.ts). */
const AuditViewSchema = z.strictObject({
  id: z.int(),
  ts: EpochMs,
  time: IsoTime,
  actor: z.string(),
  action: z.string(),
  target: nullable(z.string()),
  request_id: z.string(),
  client_ip: nullable(z.string()),
  details: nullable(JsonObject),
});
type _AuditView = Expect<Same<z.output<typeof AuditViewSchema>, AuditView>>;
export const AuditPageSchema = named(
  responseRegistry,
  z.strictObject({
    entries: z.array(named(responseRegistry, AuditViewSchema, { id: "AuditEntry" })),
    next_cursor: nullable(z.string()),
    request_id: RequestId,
  }),
  { id: "AuditPage" },
);
