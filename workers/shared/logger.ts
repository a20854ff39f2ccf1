/**
 * Structured JSON logs: one object per line with the integration guide's
 * fields (`timestamp, level, service, message, request_id, duration_ms`).
 * Loggers are created per request; there is no module-level logger state.
 */

/** Log levels in increasing severity. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Extra structured fields for one log line. Never put keys or tokens here. */
export type LogFields = Record<string, unknown>;

/** A structured logger bound to a service (and usually a request id). */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /** A logger that also redacts `secrets` (e.g. the credential a request presented). */
  redacting(secrets: readonly string[]): Logger;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  service: string;
  /** Minimum level written; unknown values fall back to `info`. */
  level?: string | undefined;
  /** Fields added to every line (e.g. `request_id`). */
  fields?: LogFields;
  /** Where lines go; defaults to the console method matching the level. */
  sink?: (level: LogLevel, line: string) => void;
  /** Secret values (API keys, tokens) replaced by `[REDACTED]` wherever they appear in a line. */
  redact?: readonly string[];
}

/** Shortest value treated as a secret to redact (shorter ones would mangle ordinary text). */
export const MIN_REDACT_LENGTH = 8;

/** Parses a `LOG_LEVEL` value, defaulting to `info`. */
export function parseLogLevel(value: string | undefined): LogLevel {
  const v = value?.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(v ?? "") ? (v as LogLevel) : "info";
}

const consoleSink = (level: LogLevel, line: string): void => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

/** Creates a JSON-lines logger for `service`, honouring `level`. */
export function createLogger({ service, level, fields = {}, sink = consoleSink, redact = [] }: LoggerOptions): Logger {
  const min = LOG_LEVELS.indexOf(parseLogLevel(level));
  // Secrets as they appear inside a JSON string (quotes and backslashes escaped).
  const secrets = redact.filter((s) => s.length >= MIN_REDACT_LENGTH).map((s) => JSON.stringify(s).slice(1, -1));
  const write = (lvl: LogLevel, message: string, extra?: LogFields): void => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    const entry = { timestamp: new Date().toISOString(), level: lvl, service, message, ...fields, ...extra };
    let line = JSON.stringify(entry);
    for (const secret of secrets) line = line.split(secret).join("[REDACTED]");
    sink(lvl, line);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (more) => createLogger({ service, level, fields: { ...fields, ...more }, sink, redact }),
    redacting: (more) => createLogger({ service, level, fields, sink, redact: [...redact, ...more] }),
  };
}
