/**
 * Tracing settings: the environment as given (strings) and as resolved with
 * defaults. No endpoint → nothing is recorded or exported, but W3C trace
 * context still flows to agents.
 */

/** The vars a Worker reads for tracing. */
export interface TracingVars {
  /** OTLP/HTTP base URL, e.g. `http://localhost:4318`; spans go to `<url>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  /** `key=value,key2=value2` headers for hosted backends (Honeycomb, Grafana Cloud). Secret. */
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  /** Head-sampling ratio 0–1 (default 1). */
  OTEL_TRACES_SAMPLER_ARG?: string;
  /** Longest time one export may take before it is abandoned (default 5000 ms). */
  OTEL_EXPORTER_OTLP_TIMEOUT?: string;
}

/** Resolved tracing settings. */
export interface TracingConfig {
  /** Full traces URL, or undefined when tracing is off. */
  tracesUrl: string | undefined;
  headers: Record<string, string>;
  ratio: number;
  timeoutMs: number;
}

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
      tracesUrl = url.pathname.endsWith("/v1/traces") ? url.toString() : `${url.toString().replace(/\/$/, "")}/v1/traces`;
    } catch {
      tracesUrl = undefined;
    }
  }
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  const timeout = Number(env.OTEL_EXPORTER_OTLP_TIMEOUT ?? DEFAULT_EXPORT_TIMEOUT_MS);
  return {
    tracesUrl,
    headers: parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
    ratio: Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? Math.min(timeout, 25_000) : DEFAULT_EXPORT_TIMEOUT_MS,
  };
}
