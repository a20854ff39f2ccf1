/**
 * `extensions.zahara.resilience` and `fallbacks` in the manifest schema, and
 * how the gateway resolves them (with the OSSA limits) into guard settings.
 */
import { describe, expect, it } from "vitest";
import {
  type ZaharaAgentManifest,
  ZaharaExtensionSchema,
  loadZaharaAgentManifest,
} from "../../workers/shared/manifest";
import { RESILIENCE_DEFAULTS, resolveResilience } from "../../workers/gateway/src/resilience/config";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const base = { binding: "AGENT_X", service: "zahara-agent-x" };

function load(file: string): ZaharaAgentManifest {
  const r = loadZaharaAgentManifest(readFileSync(path.join(root, file), "utf8"), file);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.manifest;
}

describe("resilience in the manifest", () => {
  it("accepts the documented settings", () => {
    const r = ZaharaExtensionSchema.safeParse({
      ...base,
      fallbacks: ["agent-custom"],
      resilience: {
        breaker: {
          failure_threshold: 3,
          open_ms: 30000,
          half_open_probes: 2,
          failure_rate: { threshold: 0.5, window: 20, minimum_calls: 10 },
        },
        retries: { max_retries: 2, base_ms: 200, cap_ms: 5000, retry_on_500: false },
        retry_budget: { ratio: 0.1, min_per_window: 5, window_ms: 60000 },
        rate_limit_per_key: { requests_per_minute: 60, burst: 10 },
        token_estimate: 500,
      },
    });
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  });

  it.each([
    ["an unknown key", { resilience: { breaker: { failure_treshold: 3 } } }, "failure_treshold"],
    ["a zero threshold", { resilience: { breaker: { failure_threshold: 0 } } }, "failure_threshold"],
    ["base above cap", { resilience: { retries: { base_ms: 5000, cap_ms: 1000 } } }, "base_ms must not exceed cap_ms"],
    [
      "minimum_calls above window",
      { resilience: { breaker: { failure_rate: { threshold: 0.5, window: 5, minimum_calls: 10 } } } },
      "minimum_calls",
    ],
    [
      "a rate above 1",
      { resilience: { breaker: { failure_rate: { threshold: 1.5, window: 5, minimum_calls: 1 } } } },
      "threshold",
    ],
    ["a repeated fallback", { fallbacks: ["a", "a"] }, "must not repeat"],
  ])("rejects %s", (_label, extra, needle) => {
    const r = ZaharaExtensionSchema.safeParse({ ...base, ...extra });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(needle);
  });

  it("resolves agent-demo: OSSA limits, extension settings, leases from the deadline", () => {
    const r = resolveResilience(load("manifests/agent-demo.ossa.yaml"), 10_000);
    expect(r.guard).toMatchObject({
      agent: "agent-demo",
      breaker: { failureThreshold: 5, openMs: 60_000, halfOpenProbes: 1 },
      rateLimit: { limit: 600, periodMs: 60_000, burst: 50 },
      keyRateLimit: { limit: 300, periodMs: 60_000, burst: 30 },
      maxConcurrent: 50,
      maxTokensPerDay: 200_000,
      retryBudget: { ratio: 0.2, minPerWindow: 10, windowMs: 10_000 },
      leaseMs: 10_000 + RESILIENCE_DEFAULTS.leaseSlackMs,
    });
    expect(r.retries).toEqual({ maxRetries: 3, baseMs: 1000, capMs: 16_000, retryOn500: true });
    expect(r.fallbacks).toEqual(["agent-custom"]);
  });

  it("resolves defaults for what agent-custom does not set", () => {
    const r = resolveResilience(load("manifests/agent-custom.ossa.yaml"), 10_000);
    expect(r.guard.breaker).toEqual({ failureThreshold: 5, openMs: 60_000, halfOpenProbes: 1 });
    expect(r.retries).toEqual({ maxRetries: 3, baseMs: 1000, capMs: 16_000, retryOn500: true });
    expect(r.fallbacks).toEqual([]);
  });
});
