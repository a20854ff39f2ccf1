/**
 * Bodies and queries of the key admin API (`/v1/keys`), validated with
 * zod/mini, and their conversion into stored settings. Scopes are checked
 * against the agents this gateway fronts.
 */
import * as z from "zod/mini";
import { ZaharaError } from "../../../shared/errors";
import type { FieldIssue } from "../../../shared/http/validation";
import type { AgentRegistry } from "../registry";
import type { KeySettings } from "../auth/key-store";
import { type ScopeCatalog, validateScope } from "../auth/scopes";

/** Longest grace period a rotation may give the old secret: 30 days. */
export const MAX_GRACE_SECONDS = 30 * 86_400;
/** Grace period when a rotation does not say: 1 hour. */
export const DEFAULT_GRACE_SECONDS = 3600;

const Name = z
  .string({ error: "name must be a string" })
  .check(z.trim(), z.minLength(1, "name must not be empty"), z.maxLength(100, "name must be at most 100 characters"));
const Scopes = z
  .array(z.string({ error: "each scope must be a string" }).check(z.maxLength(300)), {
    error: "scopes must be an array of strings",
  })
  .check(z.minLength(1, "give at least one scope"), z.maxLength(50, "at most 50 scopes"));
const RateLimit = z.nullable(
  z.strictObject({
    requests_per_minute: z
      .int({ error: "requests_per_minute must be an integer" })
      .check(z.minimum(1), z.maximum(1_000_000)),
    burst: z.optional(z.int({ error: "burst must be an integer" }).check(z.minimum(1), z.maximum(100_000))),
  }),
);
const Budget = z.nullable(
  z.int({ error: "daily_token_budget must be an integer" }).check(z.minimum(1), z.maximum(1_000_000_000_000)),
);
const ExpiresAt = z.nullable(
  z.iso.datetime({ offset: true, error: "expires_at must be an ISO 8601 date-time (e.g. 2027-01-01T00:00:00Z)" }),
);
const ExpiresIn = z
  .int({ error: "expires_in_seconds must be an integer" })
  .check(z.minimum(1), z.maximum(10 * 365 * 86_400));

/** `POST /v1/keys`. */
export const CreateKeySchema = z.strictObject({
  name: Name,
  scopes: Scopes,
  rate_limit: z.optional(RateLimit),
  daily_token_budget: z.optional(Budget),
  expires_at: z.optional(ExpiresAt),
  expires_in_seconds: z.optional(ExpiresIn),
});

/** `PATCH /v1/keys/:id`: any subset; `null` clears a limit or the expiry. */
export const UpdateKeySchema = z.strictObject({
  name: z.optional(Name),
  scopes: z.optional(Scopes),
  rate_limit: z.optional(RateLimit),
  daily_token_budget: z.optional(Budget),
  expires_at: z.optional(ExpiresAt),
  expires_in_seconds: z.optional(ExpiresIn),
});

/** `POST /v1/keys/:id/rotate`. */
export const RotateKeySchema = z.strictObject({
  grace_seconds: z.optional(
    z.int({ error: "grace_seconds must be an integer" }).check(z.minimum(0), z.maximum(MAX_GRACE_SECONDS)),
  ),
});

/** Key ids as generated (`key_` and 16 hex digits). */
export const KEY_ID_PATTERN = /^key_[0-9a-f]{16}$/;

/** The agents and capabilities a scope may name. */
export function scopeCatalog(registry: AgentRegistry): ScopeCatalog {
  const byAgent = new Map(registry.agents.map((a) => [a.name, a.capabilities.map((c) => c.name)]));
  return { capabilities: (agent) => byAgent.get(agent), agents: () => [...byAgent.keys()] };
}

type KeyInput = z.infer<typeof UpdateKeySchema>;

/**
 * Applies `input` over `base` (the current settings, or empty for a create)
 * and checks the result: scopes name real agents and capabilities, the expiry
 * is in the future. Throws 400 naming every bad field.
 */
export function resolveSettings(input: KeyInput, base: KeySettings, catalog: ScopeCatalog, now: number): KeySettings {
  const fields: FieldIssue[] = [];
  if (input.expires_at !== undefined && input.expires_in_seconds !== undefined) {
    fields.push({ field: "expires_in_seconds", message: "give expires_at or expires_in_seconds, not both" });
  }
  const scopes = input.scopes ? [...new Set(input.scopes)] : base.scopes;
  (input.scopes ?? []).forEach((scope, i) => {
    const problem = validateScope(scope, catalog);
    if (problem) fields.push({ field: `scopes[${i}]`, message: problem });
  });
  let expiresAt = base.expiresAt;
  if (input.expires_in_seconds !== undefined) expiresAt = now + input.expires_in_seconds * 1000;
  else if (input.expires_at !== undefined) expiresAt = input.expires_at === null ? null : Date.parse(input.expires_at);
  if (
    (input.expires_at !== undefined || input.expires_in_seconds !== undefined) &&
    expiresAt !== null &&
    expiresAt <= now
  ) {
    fields.push({ field: "expires_at", message: "must be in the future" });
  }
  if (fields.length > 0) {
    throw new ZaharaError("INVALID_REQUEST", {
      message: `Invalid key settings: ${fields.map((f) => `${f.field}: ${f.message}`).join("; ")}`,
      details: { fields },
    });
  }
  return {
    name: input.name ?? base.name,
    scopes,
    rateLimit: input.rate_limit !== undefined ? input.rate_limit : base.rateLimit,
    dailyTokenBudget: input.daily_token_budget !== undefined ? input.daily_token_budget : base.dailyTokenBudget,
    expiresAt,
  };
}
