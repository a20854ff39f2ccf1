/**
 * What `npm run deploy` deploys, read from the repository alone (no call to
 * Cloudflare): the Workers in deploy order (scripts/lib/workers.ts: the
 * agents, then the gateway), each with the D1 databases and Queues its
 * wrangler config binds and the secrets it reads, then the dashboard's Pages
 * project. The configs are read with wrangler's own reader, so what the
 * deploy creates is what `wrangler deploy` will look for. Also the generated
 * deploy config: a copy of a Worker's config, as JSON, with the real D1
 * database ids in place of the committed placeholders (see docs/deploy.md).
 */
import path from "node:path";
import { type Unstable_RawConfig, experimental_readRawConfig } from "wrangler";
import { type SecretNeed, agentSecretNeeds, dashboardSecretNeeds, gatewaySecretNeeds } from "../deploy-secrets";
import { listWorkers } from "../lib/workers";

/** A D1 database a Worker binds. `migrationsDir` is relative to the repository root. */
export interface D1Database {
  binding: string;
  name: string;
  migrationsDir: string;
}

/** A Worker to deploy. Paths are relative to the repository root. */
export interface DeployWorker {
  /** `agent-demo`, …, `gateway`. */
  name: string;
  kind: "agent" | "gateway";
  /** Its wrangler service name, as its config says (what `wrangler secret list` looks up). */
  service: string;
  config: string;
  databases: D1Database[];
  queues: string[];
  secrets: SecretNeed[];
}

/** The dashboard's Pages project. */
export interface PagesTarget {
  project: string;
  /** Its folder (wrangler runs there, to find its Functions and wrangler.toml) and its build output in it. */
  dir: string;
  outputDir: string;
  /** The branch deployed to: the production branch a created project gets. */
  branch: string;
  secrets: SecretNeed[];
}

export interface Project {
  workers: DeployWorker[];
  pages: PagesTarget;
}

/** The dashboard's folder, and the production branch of the Pages project the deploy creates and deploys to. */
export const DASHBOARD_DIR = "dashboard";
export const PAGES_BRANCH = "main";
/** The generated config's file name, written next to the config it copies (so its relative paths still hold). */
export const GENERATED_CONFIG_NAME = "wrangler.deploy.json";

/** A wrangler config as written (no defaults filled in), by wrangler's own reader. */
export function readRawConfig(root: string, config: string): Unstable_RawConfig {
  return experimental_readRawConfig({ config: path.join(root, config) }).rawConfig;
}

function databasesOf(raw: Unstable_RawConfig, config: string): D1Database[] {
  return (raw.d1_databases ?? []).map((d) => {
    if (!d.database_name)
      throw new Error(
        `${config}: the D1 binding ${d.binding} has no database_name, so the deploy cannot find or create it`,
      );
    return {
      binding: d.binding,
      name: d.database_name,
      migrationsDir: path.join(path.dirname(config), d.migrations_dir ?? "migrations"),
    };
  });
}

function queuesOf(raw: Unstable_RawConfig): string[] {
  const names = [
    ...(raw.queues?.producers ?? []).map((p) => p.queue),
    ...(raw.queues?.consumers ?? []).map((c) => c.queue),
  ];
  return [...new Set(names)];
}

/** Everything the deploy needs to know about the repository at `root`. */
export function readProject(root: string): Project {
  const workers = listWorkers(root).map((entry): DeployWorker => {
    const raw = readRawConfig(root, entry.config);
    return {
      name: entry.name,
      kind: entry.kind,
      service: raw.name ?? entry.service,
      config: entry.config,
      databases: databasesOf(raw, entry.config),
      queues: queuesOf(raw),
      secrets: entry.kind === "gateway" ? gatewaySecretNeeds() : agentSecretNeeds(),
    };
  });
  const dashboard = readRawConfig(root, path.join(DASHBOARD_DIR, "wrangler.toml"));
  const auth = dashboard.vars?.DASHBOARD_AUTH;
  return {
    workers,
    pages: {
      project: dashboard.name ?? "zahara-dashboard",
      dir: DASHBOARD_DIR,
      outputDir: dashboard.pages_build_output_dir ?? "dist",
      branch: PAGES_BRANCH,
      secrets: dashboardSecretNeeds(typeof auth === "string" ? auth : "login"),
    },
  };
}

/** Where a Worker's generated deploy config goes: next to its config. */
export function generatedConfigPath(config: string): string {
  return path.join(path.dirname(config), GENERATED_CONFIG_NAME);
}

/**
 * The config `raw` with each D1 binding's `database_id` set from `ids`
 * (database name → id). Throws, naming it, when a database has no id.
 */
export function withDatabaseIds(raw: Unstable_RawConfig, ids: Readonly<Record<string, string>>): Unstable_RawConfig {
  return {
    ...raw,
    d1_databases: (raw.d1_databases ?? []).map((d) => {
      const id = d.database_name ? ids[d.database_name] : undefined;
      if (!id) throw new Error(`no id for the D1 database ${d.database_name ?? d.binding}`);
      return { ...d, database_id: id };
    }),
  };
}
