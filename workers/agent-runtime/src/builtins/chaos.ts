/**
 * `chaos`: a fault injector for trying resilience settings. Parameters:
 * `fail_status` (400–599), `delay_ms` (waits first, bounded by the manifest's
 * `extensions.zahara.chaos.max_delay_ms`), `fail_rate` (0–1; default 1 when
 * `fail_status` is set) and `retry_after_s` (sent as `Retry-After` on failure).
 * Off unless the manifest (`extensions.zahara.chaos.enabled`) or the
 * `CHAOS_ENABLED=true` variable turns it on.
 */
import { z } from "zod";
import { ZaharaError } from "../../../shared/errors";
import { validationError } from "../../../shared/http/validation";
import type { ZaharaAgentManifest } from "../../../shared/manifest";
import type { CapabilityHandler } from "../capability";
import type { AgentRuntimeEnv } from "../env";

/** Default upper bound for `delay_ms` when the manifest sets none. */
export const DEFAULT_CHAOS_MAX_DELAY_MS = 30_000;

/** True when chaos may run for this manifest and environment. */
export function chaosEnabled(manifest: ZaharaAgentManifest, env: AgentRuntimeEnv): boolean {
  return manifest.extensions.zahara.chaos?.enabled === true || env.CHAOS_ENABLED?.trim().toLowerCase() === "true";
}

function chaosParameters(maxDelayMs: number) {
  return z.object({
    fail_status: z.number().int().min(400).max(599).optional(),
    delay_ms: z.number().int().min(0).max(maxDelayMs).optional(),
    fail_rate: z.number().min(0).max(1).optional(),
    retry_after_s: z.number().int().min(0).max(86_400).optional(),
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** The `chaos` capability handler; `random` is injectable for tests. */
export function createChaos(random: () => number = Math.random): CapabilityHandler {
  return async function chaos(parameters, { env, manifest, signal, timings }) {
    if (!chaosEnabled(manifest, env)) {
      throw new ZaharaError("CAPABILITY_DISABLED", {
        message:
          "The chaos capability is disabled; enable it with extensions.zahara.chaos.enabled or CHAOS_ENABLED=true",
      });
    }
    const maxDelay = manifest.extensions.zahara.chaos?.max_delay_ms ?? DEFAULT_CHAOS_MAX_DELAY_MS;
    const parsed = chaosParameters(maxDelay).safeParse(parameters);
    if (!parsed.success) throw validationError(parsed.error, { code: "INVALID_PARAMETERS", prefix: "parameters" });
    const { fail_status, delay_ms = 0, retry_after_s } = parsed.data;
    const failRate = parsed.data.fail_rate ?? (fail_status !== undefined ? 1 : 0);
    if (delay_ms > 0)
      await timings.measure("chaos", () => sleep(delay_ms, signal), { desc: `injected delay of ${delay_ms} ms` });
    const failed = fail_status !== undefined && random() < failRate;
    if (failed) {
      throw new ZaharaError("CHAOS_INJECTED", {
        status: fail_status,
        message: `Chaos injected a ${fail_status} after ${delay_ms} ms`,
        headers: retry_after_s !== undefined ? { "Retry-After": String(retry_after_s) } : {},
        details: { fail_status, delay_ms, fail_rate: failRate },
      });
    }
    return { result: { ok: true, delayed_ms: delay_ms, fail_rate: failRate } };
  };
}
