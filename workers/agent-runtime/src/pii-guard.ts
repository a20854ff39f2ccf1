/**
 * OSSA `spec.safety.pii_detection` enforced on every `POST /run`: the parameters are scanned before the capability
 * runs and its result after (shared/safety/pii.ts detects), and the configured action applies to both:
 *
 * - `block`: parameters with personal data of the configured kinds are refused with 400 `PII_DETECTED`, before
 *   the capability runs; a result with some is refused the same way (nothing of it is sent). The error names the
 *   kinds and where they were found, never the values.
 * - `redact`: each value is replaced by `[REDACTED:<kind>]` in the parameters (the capability, and so the LLM,
 *   sees only the redacted text) and in the result.
 * - `warn` (here called log, the default when no action is given): the call goes through unchanged.
 *
 * In every mode the kinds found (parameters and result, deduplicated) are written in the request's log line
 * (`pii_kinds`) and sent in the `Zahara-Pii-Kinds` response header, which the gateway stores in the request log.
 * A streamed answer under `block` or `redact` is checked whole before anything is sent (run.ts); under log its
 * pieces go out as they come, so its header names the parameters' kinds only and the result's are logged.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ZaharaError } from "../../shared/errors";
import type { ZaharaAgentManifest } from "../../shared/manifest";
import {
  PII_KINDS,
  PII_KINDS_HEADER,
  type PiiKind,
  formatPiiKinds,
  piiKindOf,
  redactJson,
  scanJson,
  sortPiiKinds,
} from "../../shared/safety/pii";
import type { CapabilityOutput } from "./capability";

declare module "hono" {
  interface ContextVariableMap {
    /** The kinds of personal data a run found so far (set by the run handler when the manifest asks for detection). */
    piiKinds?: Set<PiiKind>;
  }
}

/** What happens to a call with personal data in it. */
export type PiiAction = "block" | "redact" | "log";

/** The manifest's `pii_detection`, resolved: the action and the kinds Zahara detects for it. */
export interface PiiPolicy {
  action: PiiAction;
  kinds: readonly PiiKind[];
}

/**
 * The agent's PII policy, or undefined when it has none: no `pii_detection`, `enabled: false`, or `types` naming
 * no kind Zahara detects (`manifests:check` reports those). Without `types`, every kind is detected.
 */
export function piiPolicyOf(manifest: ZaharaAgentManifest): PiiPolicy | undefined {
  const pii = manifest.spec.safety?.pii_detection;
  if (!pii || pii.enabled === false) return undefined;
  const named = pii.types?.map(piiKindOf).filter((k): k is PiiKind => k !== undefined);
  const kinds = named === undefined ? [...PII_KINDS] : sortPiiKinds(named);
  if (kinds.length === 0) return undefined;
  return { action: pii.action === "block" || pii.action === "redact" ? pii.action : "log", kinds };
}

type Where = "parameters" | "result";

/** One run's screening under a policy: what it found, and the parameters and output it lets through. */
export class PiiScreen {
  constructor(
    readonly policy: PiiPolicy,
    private readonly c: Context,
  ) {
    c.set("piiKinds", new Set());
  }

  /** Whether the answer must be checked whole before any of it is sent (no streamed pieces). */
  get buffersStreams(): boolean {
    return this.policy.action !== "log";
  }

  /** The parameters the capability gets: as given, or redacted; throws 400 `PII_DETECTED` under block. */
  parameters(parameters: Record<string, unknown>): Record<string, unknown> {
    return this.screen(parameters, "parameters") as Record<string, unknown>;
  }

  /** The output the caller gets (after the output schema check): as produced, or redacted; throws under block. */
  output(output: CapabilityOutput): CapabilityOutput {
    const result = this.screen(output.result, "result");
    return result === output.result ? output : { ...output, result };
  }

  private screen(value: unknown, where: Where): unknown {
    const kinds = scanJson(value, this.policy.kinds);
    if (kinds.length === 0) return value;
    const found = this.c.get("piiKinds") ?? new Set<PiiKind>();
    for (const k of kinds) found.add(k);
    this.c.set("piiKinds", found);
    this.c.get("logFields").pii_kinds = formatPiiKinds(found);
    this.c.get("logger").info("personal data found", { where, kinds, action: this.policy.action });
    if (this.policy.action === "block") {
      throw new ZaharaError("PII_DETECTED", {
        message: `The ${where === "parameters" ? "request's parameters contain" : "answer contains"} personal data (${kinds.join(", ")}) this agent refuses`,
        details: { kinds, where },
      });
    }
    return this.policy.action === "redact" ? redactJson(value, this.policy.kinds) : value;
  }
}

/**
 * Sends the kinds a run found in `Zahara-Pii-Kinds` (on its answer, an error included). Register it before the
 * run handler (and before idempotency, so a replay, which runs no detection, carries none).
 */
export function piiKindsHeader() {
  return createMiddleware(async function piiKindsHeader(c, next) {
    await next();
    const found = c.get("piiKinds");
    if (found && found.size > 0) c.header(PII_KINDS_HEADER, formatPiiKinds(found));
  });
}
