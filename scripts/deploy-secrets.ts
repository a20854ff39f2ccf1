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
 * ones on `/health`. Also which secrets each deploy target reads and whether
 * the deploy stops without them ({@link gatewaySecretNeeds} and its siblings:
 * decided from the code and docs/configuration.md). Pure, apart from reading
 * files.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  BOOTSTRAP_SECRETS,
  MIN_BOOTSTRAP_KEY_CHARS,
  isShortPlaintext,
  secretEntries,
} from "../workers/gateway/src/auth/bootstrap-policy";

/** Secrets of the gateway Worker the deploy may upload. */
export const GATEWAY_SECRETS = [
  ...BOOTSTRAP_SECRETS,
  "JWT_HS256_SECRET",
  "WEBHOOK_SIGNING_SECRET",
  "OTEL_EXPORTER_OTLP_HEADERS",
] as const;
/** Secrets of the dashboard's Pages project the deploy may upload. */
export const DASHBOARD_SECRETS = ["GATEWAY_ADMIN_KEY", "GATEWAY_CALLER_KEY", "SESSION_SECRET"] as const;

/** A secret a deploy target reads: whether the deploy stops when it is neither set nor handed over, and why. */
export interface SecretNeed {
  name: string;
  required: boolean;
  purpose: string;
}

const OTLP_HEADERS: SecretNeed = {
  name: "OTEL_EXPORTER_OTLP_HEADERS",
  required: false,
  purpose: "only for a trace collector that wants headers",
};

/**
 * The gateway's secrets. Required: GATEWAY_API_KEYS and ADMIN_API_KEYS, the
 * bootstrap keys (without them nothing can call the gateway or create a
 * managed key, and the dashboard's GATEWAY_ADMIN_KEY has nothing to match).
 */
export function gatewaySecretNeeds(): SecretNeed[] {
  return [
    {
      name: "GATEWAY_API_KEYS",
      required: true,
      purpose: "bootstrap caller keys (break-glass; callers get managed keys)",
    },
    {
      name: "ADMIN_API_KEYS",
      required: true,
      purpose: "bootstrap admin keys: the admin API, managed keys, the dashboard's sign-in",
    },
    { name: "METRICS_SCRAPE_TOKEN", required: false, purpose: "a scraper's token for /metrics (admin keys work too)" },
    {
      name: "WEBHOOK_SIGNING_SECRET",
      required: false,
      purpose: "signs run webhooks; without it a run cannot ask for one",
    },
    { name: "JWT_HS256_SECRET", required: false, purpose: "only for HS256 JWT bearer tokens" },
    OTLP_HEADERS,
  ];
}

/** An agent's secrets: none required (LLM capabilities answer 503 LLM_NOT_CONFIGURED without a provider). */
export function agentSecretNeeds(): SecretNeed[] {
  return [
    { name: "LLM_API_KEY", required: false, purpose: "only for LLM capabilities on a provider that needs a key" },
    OTLP_HEADERS,
  ];
}

/** The dashboard's secrets: both gateway keys always; SESSION_SECRET in `login` mode only (`access` mode has no session cookie). */
export function dashboardSecretNeeds(auth: string): SecretNeed[] {
  const login = auth.trim().toLowerCase() !== "access";
  return [
    { name: "GATEWAY_ADMIN_KEY", required: true, purpose: "the proxy's admin key (/v1/*, /metrics, session checks)" },
    { name: "GATEWAY_CALLER_KEY", required: true, purpose: "the proxy's caller key (/agents, /execute, /health)" },
    {
      name: "SESSION_SECRET",
      required: login,
      purpose: login ? "signs the session cookie (DASHBOARD_AUTH = login)" : "unused with DASHBOARD_AUTH = access",
    },
  ];
}

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
    if (entries.some((e) => devValues.has(e)))
      problems.push(`${name} holds a development value from a .dev.vars.example`);
    if ((BOOTSTRAP_SECRETS as readonly string[]).includes(name)) {
      const short = entries.filter(isShortPlaintext).length;
      if (short > 0)
        problems.push(`${name} has ${short} plaintext key(s) shorter than ${MIN_BOOTSTRAP_KEY_CHARS} characters`);
    }
    if (name === "SESSION_SECRET" && new TextEncoder().encode(value).byteLength < 32)
      problems.push("SESSION_SECRET is shorter than 32 bytes");
  }
  return problems;
}

/** The secrets handed over for one target: from `--secrets-file` if given, else from `env`. */
export function pickSecrets(
  names: readonly string[],
  env: Record<string, string | undefined>,
  file?: Record<string, string>,
): Record<string, string> {
  const source = file ?? env;
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = source[name];
    if (value !== undefined && value !== "") out[name] = value;
  }
  return out;
}
