/**
 * Tracing settings: the environment as given (strings) and as resolved with
 * defaults. No endpoint → nothing is recorded or exported, but W3C trace
 * context still flows to agents. Which traces are exported: an ordinary one
 * when its trace id falls under the ratio (the same call in every service),
 * and every failed or slow one whole (see `sampling.ts`).
 */

/** The vars a Worker reads for tracing. */
export interface TracingVars {
  /** OTLP/HTTP base URL, e.g. `http://localhost:4318`; spans go to `<url>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  /** `key=value,key2=value2` headers for hosted backends (Honeycomb, Grafana Cloud). Secret. */
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  /** Share of ordinary traces exported, 0–1, decided from the trace id (default {@link DEFAULT_RATIO}). */
  OTEL_TRACES_SAMPLER_ARG?: string;
  /** A trace whose root span lasts at least this many ms is exported whole; 0 turns the rule off (default 1000). */
  OTEL_TRACES_SLOW_MS?: string;
  /** Longest time one export may take before it is abandoned (default 5000 ms). */
  OTEL_EXPORTER_OTLP_TIMEOUT?: string;
}

/** Resolved tracing settings. */
export interface TracingConfig {
  /** Full traces URL, or undefined when tracing is off. */
  tracesUrl: string | undefined;
  headers: Record<string, string>;
  ratio: number;
  /** Root spans at least this long keep their trace; 0 = no slow rule. */
  slowMs: number;
  timeoutMs: number;
}

/** Ratio of ordinary traces kept when `OTEL_TRACES_SAMPLER_ARG` is unset or invalid (as the wrangler configs ship). */
export const DEFAULT_RATIO = 0.1;

/** Slow threshold when `OTEL_TRACES_SLOW_MS` is unset or invalid (as shipped in the wrangler configs). */
export const DEFAULT_SLOW_MS = 1000;

/** Default export timeout: an export is abandoned, never waited on longer. */
export const DEFAULT_EXPORT_TIMEOUT_MS = 5000;

/** Parses `k=v,k2=v2` (values may be percent-encoded, as in the OTel spec). */
export function parseOtlpHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    let v = pair.slice(at + 1).trim();
    try {
      v = decodeURIComponent(v);
    } catch {
      // keep it as written
    }
    if (/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) headers[key] = v;
  }
  return headers;
}

/**
 * The secret parts of `OTEL_EXPORTER_OTLP_HEADERS`, for log redaction: the
 * setting as written, each decoded header value, and the credential after an
 * auth scheme (`Bearer <token>`), so a header logged in any of these forms
 * is redacted.
 */
export function otlpHeaderSecrets(value: string | undefined): string[] {
  if (!value?.trim()) return [];
  const out = [value];
  for (const header of Object.values(parseOtlpHeaders(value))) {
    out.push(header);
    const token = /^[A-Za-z][\w.-]*\s+(\S+)$/.exec(header)?.[1];
    if (token) out.push(token);
  }
  return out;
}

/** Resolves the tracing settings of a Worker from its environment. */
export function resolveTracingConfig(env: TracingVars): TracingConfig {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  let tracesUrl: string | undefined;
  if (endpoint) {
    try {
      const url = new URL(endpoint);
      tracesUrl = url.pathname.endsWith("/v1/traces")
        ? url.toString()
        : `${url.toString().replace(/\/$/, "")}/v1/traces`;
    } catch {
      tracesUrl = undefined;
    }
  }
  const ratio = numberOr(env.OTEL_TRACES_SAMPLER_ARG, DEFAULT_RATIO);
  const slow = numberOr(env.OTEL_TRACES_SLOW_MS, DEFAULT_SLOW_MS);
  const timeout = numberOr(env.OTEL_EXPORTER_OTLP_TIMEOUT, DEFAULT_EXPORT_TIMEOUT_MS);
  return {
    tracesUrl,
    headers: parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
    ratio: Math.min(1, Math.max(0, ratio)),
    slowMs: slow >= 0 ? slow : DEFAULT_SLOW_MS,
    timeoutMs: timeout > 0 ? Math.min(timeout, 25_000) : DEFAULT_EXPORT_TIMEOUT_MS,
  };
}

/** A var as a finite number; unset, empty or not a number gives `fallback`. */
function numberOr(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}
