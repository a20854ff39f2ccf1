/**
 * The secrets `npm run deploy` uploads, checked first. An operator hands them
 * over in the environment (`GATEWAY_API_KEYS=… ADMIN_API_KEYS=… npm run deploy`)
 * or in a dotenv file (`npm run deploy -- --secrets-file prod.secrets`); the
 * deploy refuses, before changing anything, plaintext bootstrap keys shorter
 * than 32 characters (the gateway would refuse them anyway, see
 * workers/gateway/src/auth/bootstrap-policy.ts), any value committed in a
 * `.dev.vars.example` (the development keys and session secret), and a
 * `SESSION_SECRET` under 32 bytes. Secrets not handed over are left as they are
 * in Cloudflare (`wrangler secret put` still works); the gateway reports short
 * ones on `/health`. Pure, apart from reading files.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { BOOTSTRAP_SECRETS, MIN_BOOTSTRAP_KEY_CHARS, isShortPlaintext, secretEntries } from "../workers/gateway/src/auth/bootstrap-policy";

/** Secrets of the gateway Worker the deploy may upload. */
export const GATEWAY_SECRETS = [...BOOTSTRAP_SECRETS, "JWT_HS256_SECRET", "OTEL_EXPORTER_OTLP_HEADERS"] as const;
/** Secrets of the dashboard's Pages project the deploy may upload. */
export const DASHBOARD_SECRETS = ["GATEWAY_ADMIN_KEY", "GATEWAY_CALLER_KEY", "SESSION_SECRET"] as const;

/** Parses dotenv text: `NAME=value` lines; `#` comments and blank lines ignored; quotes around a value removed. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith("#")) continue;
    out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

/** The values committed in the repository's `.dev.vars.example` files: never acceptable in a deployment. */
export function developmentValues(root: string): Set<string> {
  const values = new Set<string>();
  for (const file of [".dev.vars.example", "dashboard/.dev.vars.example"]) {
    for (const value of Object.values(parseDotenv(readFileSync(path.join(root, file), "utf8")))) {
      for (const entry of secretEntries(value)) if (entry.length >= 8) values.add(entry);
    }
  }
  return values;
}

/** What is wrong with the secrets to upload, one sentence each (never a value). */
export function secretProblems(secrets: Record<string, string | undefined>, devValues: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (value === undefined) continue;
    const entries = name === "OTEL_EXPORTER_OTLP_HEADERS" ? [value] : secretEntries(value);
    if (entries.some((e) => devValues.has(e))) problems.push(`${name} holds a development value from a .dev.vars.example`);
    if ((BOOTSTRAP_SECRETS as readonly string[]).includes(name)) {
      const short = entries.filter(isShortPlaintext).length;
      if (short > 0) problems.push(`${name} has ${short} plaintext key(s) shorter than ${MIN_BOOTSTRAP_KEY_CHARS} characters`);
    }
    if (name === "SESSION_SECRET" && new TextEncoder().encode(value).byteLength < 32) problems.push("SESSION_SECRET is shorter than 32 bytes");
  }
  return problems;
}

/** The secrets handed over for one target: from `--secrets-file` if given, else from `env`. */
export function pickSecrets(names: readonly string[], env: Record<string, string | undefined>, file?: Record<string, string>): Record<string, string> {
  const source = file ?? env;
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = source[name];
    if (value !== undefined && value !== "") out[name] = value;
  }
  return out;
}
