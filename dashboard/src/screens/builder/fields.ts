/**
 * The Builder's scalar fields: where each lives in the manifest, how it is
 * labelled and typed, and the default the gateway uses when it is left empty.
 * The form model, the validation mapping and the sections all read this list,
 * so a field is added in one place.
 */

/** How a field's text becomes a manifest value (see `valueOfText` in form-model.ts). */
export type FieldKind = "text" | "multiline" | "number" | "boolean";

/** The form's sections, in display order. */
export type SectionId = "metadata" | "branding" | "capabilities" | "llm" | "constraints" | "resilience";

/** Section headings. */
export const SECTIONS: readonly { id: SectionId; title: string; description: string }[] = [
  { id: "metadata", title: "Metadata", description: "What the agent is called, and how the gateway reaches it." },
  { id: "branding", title: "Branding", description: "How the agent presents itself to people." },
  {
    id: "capabilities",
    title: "Capabilities",
    description: "The tasks callers can run, with the JSON Schemas of their input and output.",
  },
  { id: "llm", title: "LLM", description: "The model behind the agent and its system role." },
  {
    id: "constraints",
    title: "Constraints",
    description: "Per-agent limits the gateway's guard enforces (OSSA fields).",
  },
  {
    id: "resilience",
    title: "Resilience",
    description: "How the gateway shields the agent and its callers (extensions.zahara.resilience).",
  },
];

/** One scalar field of the form. */
export interface FieldDef {
  /** Stable id: the key in the form's `values`, and the DOM id suffix. */
  id: string;
  /** Where the value lives in the manifest. */
  path: readonly string[];
  label: string;
  kind: FieldKind;
  section: SectionId;
  /** A sub-heading inside the section (fields with the same group are shown together). */
  group?: string;
  /** One line of help under the input. */
  hint?: string;
  /** What the gateway uses when the field is empty (shown as the placeholder, and for booleans as the "not set" option). */
  defaultText?: string;
}

const Z = ["extensions", "zahara"] as const;
const R = [...Z, "resilience"] as const;

/**
 * The gateway's resilience defaults (`RESILIENCE_DEFAULTS` in
 * workers/gateway/src/resilience/config.ts; a test keeps the two equal —
 * importing that module here would pull Workers types into the dashboard).
 */
export const RESILIENCE_DEFAULT_TEXT = {
  failureThreshold: "5",
  openMs: "60000",
  halfOpenProbes: "1",
  maxRetries: "3",
  baseMs: "1000",
  capMs: "16000",
  retryOn500: "true",
  retryRatio: "0.2",
  retryMinPerWindow: "10",
  retryWindowMs: "10000",
  tokenEstimate: "1000",
} as const;

const D = RESILIENCE_DEFAULT_TEXT;

/** Every scalar field, in display order within each section. */
export const FIELDS: readonly FieldDef[] = [
  {
    id: "name",
    path: ["metadata", "name"],
    label: "Name",
    kind: "text",
    section: "metadata",
    hint: "Lower-case DNS-style name, e.g. agent-demo. The download is <name>.ossa.yaml.",
  },
  {
    id: "version",
    path: ["metadata", "version"],
    label: "Version",
    kind: "text",
    section: "metadata",
    hint: "Semantic version, e.g. 1.0.0.",
  },
  {
    id: "description",
    path: ["metadata", "description"],
    label: "Description",
    kind: "multiline",
    section: "metadata",
  },
  {
    id: "binding",
    path: [...Z, "binding"],
    label: "Service binding",
    kind: "text",
    section: "metadata",
    group: "Deployment",
    hint: "The gateway's binding to the agent, UPPER_SNAKE, e.g. AGENT_DEMO.",
  },
  {
    id: "service",
    path: [...Z, "service"],
    label: "Worker name",
    kind: "text",
    section: "metadata",
    group: "Deployment",
    hint: "The agent Worker's script name, e.g. zahara-agent-demo.",
  },

  {
    id: "displayName",
    path: [...Z, "branding", "display_name"],
    label: "Display name",
    kind: "text",
    section: "branding",
    hint: "Required when any branding is set.",
  },
  { id: "tagline", path: [...Z, "branding", "tagline"], label: "Tagline", kind: "text", section: "branding" },

  {
    id: "role",
    path: ["spec", "role"],
    label: "System role",
    kind: "multiline",
    section: "llm",
    hint: "The system prompt; a Zahara agent needs one.",
  },
  {
    id: "provider",
    path: ["spec", "llm", "provider"],
    label: "Provider",
    kind: "text",
    section: "llm",
    hint: "A provider name or an env reference such as ${LLM_PROVIDER:-openai}.",
  },
  { id: "model", path: ["spec", "llm", "model"], label: "Model", kind: "text", section: "llm" },
  {
    id: "temperature",
    path: ["spec", "llm", "temperature"],
    label: "Temperature",
    kind: "number",
    section: "llm",
    hint: "0 to 2.",
  },
  {
    id: "maxTokens",
    path: ["spec", "llm", "maxTokens"],
    label: "Max tokens per answer",
    kind: "number",
    section: "llm",
  },

  {
    id: "timeoutSeconds",
    path: ["spec", "constraints", "performance", "timeoutSeconds"],
    label: "Timeout (s)",
    kind: "number",
    section: "constraints",
    hint: "Caps each request's deadline (the gateway's own is 10 s).",
  },
  {
    id: "maxConcurrentRequests",
    path: ["spec", "constraints", "performance", "maxConcurrentRequests"],
    label: "Max concurrent requests",
    kind: "number",
    section: "constraints",
    hint: "Empty: unlimited.",
  },
  {
    id: "maxTokensPerDay",
    path: ["spec", "constraints", "cost", "maxTokensPerDay"],
    label: "Max tokens per day",
    kind: "number",
    section: "constraints",
    hint: "Empty: unlimited.",
  },
  {
    id: "rateLimitEnabled",
    path: ["spec", "safety", "rate_limiting", "enabled"],
    label: "Rate limiting enabled",
    kind: "boolean",
    section: "constraints",
    group: "Agent rate limit",
    defaultText: "true",
  },
  {
    id: "rateLimitRpm",
    path: ["spec", "safety", "rate_limiting", "requests_per_minute"],
    label: "Requests per minute",
    kind: "number",
    section: "constraints",
    group: "Agent rate limit",
    hint: "Empty: unlimited.",
  },
  {
    id: "rateLimitBurst",
    path: ["spec", "safety", "rate_limiting", "burst_limit"],
    label: "Burst",
    kind: "number",
    section: "constraints",
    group: "Agent rate limit",
    hint: "Empty: the per-minute limit.",
  },

  {
    id: "failureThreshold",
    path: [...R, "breaker", "failure_threshold"],
    label: "Failure threshold",
    kind: "number",
    section: "resilience",
    group: "Circuit breaker",
    hint: "Consecutive failures that open the breaker.",
    defaultText: D.failureThreshold,
  },
  {
    id: "openMs",
    path: [...R, "breaker", "open_ms"],
    label: "Open for (ms)",
    kind: "number",
    section: "resilience",
    group: "Circuit breaker",
    hint: "How long it stays open before a half-open probe.",
    defaultText: D.openMs,
  },
  {
    id: "halfOpenProbes",
    path: [...R, "breaker", "half_open_probes"],
    label: "Half-open probes",
    kind: "number",
    section: "resilience",
    group: "Circuit breaker",
    defaultText: D.halfOpenProbes,
  },
  {
    id: "maxRetries",
    path: [...R, "retries", "max_retries"],
    label: "Max retries",
    kind: "number",
    section: "resilience",
    group: "Retries",
    hint: "0 to 10.",
    defaultText: D.maxRetries,
  },
  {
    id: "baseMs",
    path: [...R, "retries", "base_ms"],
    label: "Backoff base (ms)",
    kind: "number",
    section: "resilience",
    group: "Retries",
    defaultText: D.baseMs,
  },
  {
    id: "capMs",
    path: [...R, "retries", "cap_ms"],
    label: "Backoff cap (ms)",
    kind: "number",
    section: "resilience",
    group: "Retries",
    defaultText: D.capMs,
  },
  {
    id: "retryOn500",
    path: [...R, "retries", "retry_on_500"],
    label: "Retry on 500",
    kind: "boolean",
    section: "resilience",
    group: "Retries",
    defaultText: D.retryOn500,
  },
  {
    id: "retryRatio",
    path: [...R, "retry_budget", "ratio"],
    label: "Budget ratio",
    kind: "number",
    section: "resilience",
    group: "Retry budget",
    hint: "Retries allowed per request, 0 to 1.",
    defaultText: D.retryRatio,
  },
  {
    id: "retryMinPerWindow",
    path: [...R, "retry_budget", "min_per_window"],
    label: "Minimum per window",
    kind: "number",
    section: "resilience",
    group: "Retry budget",
    defaultText: D.retryMinPerWindow,
  },
  {
    id: "retryWindowMs",
    path: [...R, "retry_budget", "window_ms"],
    label: "Window (ms)",
    kind: "number",
    section: "resilience",
    group: "Retry budget",
    defaultText: D.retryWindowMs,
  },
  {
    id: "keyRpm",
    path: [...R, "rate_limit_per_key", "requests_per_minute"],
    label: "Requests per minute per key",
    kind: "number",
    section: "resilience",
    group: "Per-key rate limit",
    hint: "Empty: no per-key limit.",
  },
  {
    id: "keyBurst",
    path: [...R, "rate_limit_per_key", "burst"],
    label: "Burst per key",
    kind: "number",
    section: "resilience",
    group: "Per-key rate limit",
    hint: "Empty: the per-minute limit.",
  },
  {
    id: "tokenEstimate",
    path: [...R, "token_estimate"],
    label: "Token estimate per call",
    kind: "number",
    section: "resilience",
    group: "Token budget",
    hint: "Reserved against the daily budget before each call.",
    defaultText: D.tokenEstimate,
  },
];

/** A field id. */
export type FieldId = string;

/** The fields of one section, in order. */
export function fieldsIn(section: SectionId): FieldDef[] {
  return FIELDS.filter((f) => f.section === section);
}

/** Where the fallbacks list lives. */
export const FALLBACKS_PATH = [...Z, "fallbacks"] as const;
/** Where the capabilities (tools) live. */
export const TOOLS_PATH = ["spec", "tools"] as const;
