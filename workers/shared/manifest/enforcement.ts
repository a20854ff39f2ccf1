/**
 * OSSA safety and cost fields Zahara does not enforce. The schema accepts them (they are valid OSSA), but an
 * agent whose manifest says `human_in_loop` or `content_filtering` and runs without either would mislead its readers,
 * so `manifests:check` names each one present, with its line: a warning by default, an error when
 * `UNENFORCED_MANIFEST_FIELDS=error`. What Zahara does enforce (rate limits, concurrency, timeouts, daily and
 * per-request token limits, PII detection of the kinds in shared/safety/pii.ts) is listed in
 * docs/manifests.md#safety-and-cost-fields; anything else under `spec.safety` or `spec.constraints.cost` is
 * reported here. Runtime-neutral, like the loader.
 */
import { isJsonObject } from "../json-object";
import { PII_KINDS, piiKindOf } from "../safety/pii";
import type { ManifestIssue } from "./load";
import { formatManifestIssue } from "./report";
import { parseYamlSource, positionOf } from "./yaml-source";

/** How an unenforced field is reported. */
export type EnforcementSeverity = "warning" | "error";

/** An unenforced field, located, with its severity. */
export interface EnforcementIssue extends ManifestIssue {
  severity: EnforcementSeverity;
}

/** Checks a manifest's text for fields Zahara does not enforce (nothing for text that does not parse). */
export type UnenforcedCheck = (text: string, fileName: string) => EnforcementIssue[];

/** A field present in a manifest that nothing enforces: where it is, and what to say about it. */
export interface UnenforcedField {
  path: (string | number)[];
  message: string;
}

type Json = Record<string, unknown>;

/** Keys of `spec.safety` Zahara reads (the others are reported). */
const SAFETY_KEYS = new Set(["content_filtering", "pii_detection", "rate_limiting", "guardrails", "human_in_loop"]);

/** Keys of `spec.constraints.cost` Zahara reads (`currency` qualifies `maxCostPerDay` and limits nothing). */
const COST_KEYS = new Set(["maxTokensPerDay", "maxTokensPerRequest", "maxCostPerDay", "currency"]);

function objectAt(value: unknown, key: string): Json | undefined {
  if (!isJsonObject(value)) return undefined;
  const child = value[key];
  return isJsonObject(child) ? child : undefined;
}

/** A block that is present and not switched off (`enabled: false`). */
function active(block: Json | undefined): block is Json {
  return block !== undefined && block.enabled !== false;
}

function unenforced(path: (string | number)[], field: string, todo: string): UnenforcedField {
  return { path, message: `Zahara does not enforce ${field}; ${todo}` };
}

function safetyFields(safety: Json): UnenforcedField[] {
  const at = (...rest: (string | number)[]) => ["spec", "safety", ...rest];
  const out: UnenforcedField[] = [];
  if (active(objectAt(safety, "content_filtering")))
    out.push(
      unenforced(
        at("content_filtering"),
        "content filtering",
        "filter in a capability handler or in front of the gateway, or remove it",
      ),
    );
  const pii = objectAt(safety, "pii_detection");
  if (active(pii) && Array.isArray(pii.types)) {
    pii.types.forEach((type: unknown, i) => {
      if (typeof type === "string" && piiKindOf(type) === undefined)
        out.push(
          unenforced(
            at("pii_detection", "types", i),
            `PII detection of "${type}"`,
            `Zahara detects only ${PII_KINDS.join(", ")}: screen for it in a capability handler, or remove it`,
          ),
        );
    });
  }
  if (active(objectAt(safety, "guardrails")))
    out.push(
      unenforced(
        at("guardrails"),
        "guardrails (policies, max_tool_calls, max_execution_time_seconds)",
        "bound run time with spec.constraints.performance.timeoutSeconds, or remove it",
      ),
    );
  if (active(objectAt(safety, "human_in_loop")))
    out.push(
      unenforced(
        at("human_in_loop"),
        "human-in-the-loop review",
        "put an approval step in front of the gateway, or remove it",
      ),
    );
  for (const key of Object.keys(safety).filter((k) => !SAFETY_KEYS.has(k)))
    out.push(unenforced(at(key), `spec.safety.${key}`, "remove it"));
  return out;
}

/** Whether `extensions.zahara.pricing` gives a positive price, which turns `maxCostPerDay` into a token budget. */
function priced(data: Json): boolean {
  const pricing = objectAt(objectAt(data.extensions, "zahara"), "pricing");
  return [pricing?.input_per_million, pricing?.output_per_million].some((p) => typeof p === "number" && p > 0);
}

function costFields(cost: Json, hasPricing: boolean): UnenforcedField[] {
  const at = (key: string) => ["spec", "constraints", "cost", key];
  const out: UnenforcedField[] = [];
  if (cost.maxCostPerDay !== undefined && !hasPricing)
    out.push(
      unenforced(
        at("maxCostPerDay"),
        "maxCostPerDay without extensions.zahara.pricing",
        "give the model's prices per million tokens there, bound spend with maxTokensPerDay, or remove it",
      ),
    );
  for (const key of ["maxTokensPerDay", "maxTokensPerRequest", ...(hasPricing ? ["maxCostPerDay"] : [])]) {
    const value = cost[key];
    if (typeof value === "number" && value <= 0)
      out.push(unenforced(at(key), `${key} of ${value}`, "set a positive limit, or remove it"));
  }
  for (const key of Object.keys(cost).filter((k) => !COST_KEYS.has(k)))
    out.push(unenforced(at(key), `spec.constraints.cost.${key}`, "remove it"));
  return out;
}

/**
 * Every field of an agent manifest (parsed data, valid or not) that is present but not enforced: `spec.safety` (content filtering, PII types Zahara cannot detect, guardrails,
 * human-in-the-loop, unknown keys), `spec.autonomy.approval_required`, `spec.constraints.cost` (`maxCostPerDay`
 * without `extensions.zahara.pricing`, limits that are not positive, unknown keys), `spec.llm.cost_tracking.budget_alert_threshold` and
 * `spec.compliance.pii_handling`. A block with `enabled: false` asks for nothing and is not reported.
 * Task and Workflow manifests have none of these.
 */
export function unenforcedFields(data: unknown): UnenforcedField[] {
  if (!isJsonObject(data) || data.kind !== "Agent") return [];
  const spec = objectAt(data, "spec");
  if (!spec) return [];
  const out: UnenforcedField[] = [];
  const safety = objectAt(spec, "safety");
  if (safety) out.push(...safetyFields(safety));
  const approval = objectAt(spec, "autonomy")?.approval_required;
  if (approval === true || (Array.isArray(approval) && approval.length > 0))
    out.push(
      unenforced(
        ["spec", "autonomy", "approval_required"],
        "approval_required (human approval)",
        "put an approval step in front of the gateway, or remove it",
      ),
    );
  const cost = objectAt(objectAt(spec, "constraints"), "cost");
  if (cost) out.push(...costFields(cost, priced(data)));
  const tracking = objectAt(objectAt(spec, "llm"), "cost_tracking");
  if (active(tracking) && tracking.budget_alert_threshold !== undefined)
    out.push(
      unenforced(
        ["spec", "llm", "cost_tracking", "budget_alert_threshold"],
        "budget alerts",
        "alert on the gateway's token metrics (docs/metrics.md), or remove it",
      ),
    );
  const handling = objectAt(spec, "compliance")?.pii_handling;
  if (typeof handling === "string" && handling !== "none")
    out.push(
      unenforced(
        ["spec", "compliance", "pii_handling"],
        `pii_handling "${handling}"`,
        "use spec.safety.pii_detection (action: redact or block), which Zahara enforces",
      ),
    );
  return out;
}

/** Reads `UNENFORCED_MANIFEST_FIELDS`: `warn` (the default, also when unset or empty) or `error`; undefined otherwise. */
export function parseUnenforcedSetting(value: string | undefined): EnforcementSeverity | undefined {
  const setting = (value ?? "").trim().toLowerCase();
  if (setting === "" || setting === "warn") return "warning";
  return setting === "error" ? "error" : undefined;
}

/** A check reporting every {@link unenforcedFields} entry of a manifest's text with `severity` and its position. */
export function createUnenforcedCheck(severity: EnforcementSeverity = "warning"): UnenforcedCheck {
  return (text, fileName) => {
    const parsed = parseYamlSource(text, fileName);
    if (!parsed.ok) return [];
    return unenforcedFields(parsed.source.data).map((field) => {
      const position = positionOf(parsed.source, field.path);
      return {
        path: field.path.join("/"),
        message: field.message,
        severity,
        ...(position ? { line: position.line, column: position.column } : {}),
      };
    });
  };
}

/** One line for an unenforced field: `warning: file:line:col path: message` (or `error: …`). */
export function formatEnforcementIssue(fileLabel: string, issue: EnforcementIssue): string {
  return `${issue.severity}: ${formatManifestIssue(fileLabel, issue)}`;
}
