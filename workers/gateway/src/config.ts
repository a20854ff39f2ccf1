/**
 * Gateway configuration: the environment as given (strings from `wrangler.toml`
 * vars and secrets) resolved into typed settings with defaults.
 */
import { parseByteLimit } from "../../shared/http/json-body";
import { DEFAULT_MAX_RESPONSE_BYTES } from "./dispatch";
import { DEFAULT_LEASE_TTL_MS } from "../../../durable-objects/upstream-guard/src/leases/protocol";
import { DEFAULT_BREAKER_TIMEOUT_FLOOR_MS } from "./resilience/classify";
import { DEFAULT_STALE_GRACE_MS, type LeaseSettings } from "./resilience/leases";
import type { RunVars } from "./runs/config";

/** Default deadline for a whole `/execute` request. */
export const DEFAULT_GATEWAY_TIMEOUT_MS = 10_000;

/** Default longest silence between two events of a streamed answer (`STREAM_IDLE_TIMEOUT_MS`). */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 30_000;

/** Default longest streamed answer (`STREAM_MAX_DURATION_MS`), which a manifest's `timeoutSeconds` may shorten. */
export const DEFAULT_STREAM_MAX_DURATION_MS = 300_000;

/** Default CORS origin: the dashboard in local dev. */
export const DEFAULT_CORS_ORIGINS = ["http://localhost:8788"];

/** The vars and secrets the gateway reads (a subset of its generated `Env`). */
export interface GatewayVars extends RunVars {
  ZAHARA_ENV?: string;
  /** Signs run webhooks (runs/webhook.ts). */
  WEBHOOK_SIGNING_SECRET?: string;
  RUN_CALLBACK_ALLOW_LOOPBACK_HTTP?: string;
  RUN_CALLBACK_ALLOWED_HOSTS?: string;
  RUN_CALLBACK_DOH_URL?: string;
  GATEWAY_API_KEYS?: string;
  MAX_BODY_BYTES?: string;
  MAX_RESPONSE_BYTES?: string;
  CORS_ORIGINS?: string;
  GATEWAY_TIMEOUT_MS?: string;
  BREAKER_TIMEOUT_FLOOR_MS?: string;
  LEASE_TTL_MS?: string;
  GUARD_STALE_GRACE_MS?: string;
  STREAM_IDLE_TIMEOUT_MS?: string;
  STREAM_MAX_DURATION_MS?: string;
  LOG_LEVEL?: string;
}

/** Gateway settings resolved with defaults. */
export interface GatewayConfig {
  maxBodyBytes: number;
  /** Largest agent response body read per attempt; over it the attempt is a 502 `UPSTREAM_FAILED`. */
  maxResponseBytes: number;
  /** Allowed CORS origins; `["*"]` allows any. */
  corsOrigins: string[];
  timeoutMs: number;
  /** An attempt given less than this cannot count as the agent timing out (capped by the agent's deadline). */
  breakerTimeoutFloorMs: number;
  /** Admission leases: how long one may be used, and how long an isolate enforces from it when the guard cannot answer. */
  leases: LeaseSettings;
  /** Streamed answers: the longest silence between events, and the longest stream (both ms). */
  stream: { idleTimeoutMs: number; maxDurationMs: number };
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** Splits a comma-separated list, trimming and dropping empty entries. */
export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Resolves the gateway's settings from its environment. */
export function resolveGatewayConfig(env: GatewayVars): GatewayConfig {
  const origins = splitList(env.CORS_ORIGINS);
  return {
    maxBodyBytes: parseByteLimit(env.MAX_BODY_BYTES),
    maxResponseBytes: parseByteLimit(env.MAX_RESPONSE_BYTES, DEFAULT_MAX_RESPONSE_BYTES),
    corsOrigins: origins.length > 0 ? origins : DEFAULT_CORS_ORIGINS,
    timeoutMs: positiveInt(env.GATEWAY_TIMEOUT_MS, DEFAULT_GATEWAY_TIMEOUT_MS),
    breakerTimeoutFloorMs: positiveInt(env.BREAKER_TIMEOUT_FLOOR_MS, DEFAULT_BREAKER_TIMEOUT_FLOOR_MS),
    leases: {
      ttlMs: Math.min(60_000, positiveInt(env.LEASE_TTL_MS, DEFAULT_LEASE_TTL_MS)),
      staleGraceMs: positiveInt(env.GUARD_STALE_GRACE_MS, DEFAULT_STALE_GRACE_MS),
    },
    stream: {
      idleTimeoutMs: positiveInt(env.STREAM_IDLE_TIMEOUT_MS, DEFAULT_STREAM_IDLE_TIMEOUT_MS),
      maxDurationMs: positiveInt(env.STREAM_MAX_DURATION_MS, DEFAULT_STREAM_MAX_DURATION_MS),
    },
  };
}
