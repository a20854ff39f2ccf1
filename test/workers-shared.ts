/**
 * Shared pieces of the workerd test projects: paths, the agent Workers of
 * the list (scripts/lib/workers.ts, one per manifest) as Miniflare auxiliary
 * Workers (built bundles, see global-setup.ts), and the API keys the gateway
 * tests use.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { type WorkerEntry, serviceWorkers } from "../scripts/lib/workers.ts";

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Compatibility date of every Worker (keep in step with the wrangler configs). */
export const COMPATIBILITY_DATE = "2026-04-20";

/** Plaintext test key, and a second one configured only as its SHA-256 (`sha256:` entry). */
export const TEST_KEY = "test-key-primary";
/** Configured as `sha256:<hex>`; the gateway never sees it in plaintext. */
export const TEST_HASHED_KEY = "test-key-hashed";
/** Admin key (ADMIN_API_KEYS) and scrape token (METRICS_SCRAPE_TOKEN) of the gateway tests. */
export const TEST_ADMIN_KEY = "test-admin-key";
export const TEST_SCRAPE_TOKEN = "test-scrape-token";
/** SHA-256 of {@link TEST_HASHED_KEY}. */
export const TEST_HASHED_KEY_SHA256 = "sha256:" + (await sha256Hex(TEST_HASHED_KEY));

async function sha256Hex(text: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  return createHash("sha256").update(text).digest("hex");
}

/** Miniflare options for an agent Worker built into `dist/<name>/index.js`, named by its service. */
export function agentWorker(agent: WorkerEntry, bindings: Record<string, string>) {
  return {
    name: agent.service,
    modules: true,
    scriptPath: path.join(ROOT, "dist", agent.name, "index.js"),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: ["nodejs_compat"],
    bindings: {
      LOG_LEVEL: "error",
      MAX_BODY_BYTES: "1048576",
      LLM_BACKEND: "openai",
      ZAHARA_ENV: "development",
      ...bindings,
    },
    // As in the agents' wrangler configs: the bundle exports IdempotencyStore (SQLite-backed).
    durableObjects: { IDEMPOTENCY: { className: "IdempotencyStore", useSQLite: true } },
  };
}

/**
 * Every agent of the list as a Miniflare auxiliary Worker, with `bindings(name)`
 * on top of the shared ones (per-agent settings: agent-demo's chaos, say).
 */
export function agentWorkersOf(bindings: (name: string) => Record<string, string>) {
  return serviceWorkers(ROOT).map((agent) => agentWorker(agent, bindings(agent.name)));
}

/**
 * The gateway's D1 migrations (request log, access control) as the bindings
 * test/gateway/setup.ts applies in each test file (D1 storage is per file).
 */
export async function gatewayMigrationBindings() {
  return {
    TEST_MIGRATIONS: await readD1Migrations(path.join(ROOT, "migrations/request-log")),
    TEST_ACCESS_MIGRATIONS: await readD1Migrations(path.join(ROOT, "migrations/access")),
  };
}
