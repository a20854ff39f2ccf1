/**
 * The deploy as a plan, pure: given the repository ({@link Project}), what
 * the account holds ({@link AccountState}, from the read-only lookups in
 * {@link lookupCommands}) and the names of the secrets handed over to this
 * deploy, the ordered steps: create the missing D1 databases, then the
 * missing Queues; write each Worker's generated config with the real
 * database ids; apply the remote D1 migrations; deploy the agents, then the
 * gateway; build the dashboard, create its Pages project if missing, upload
 * its handed-over secrets and deploy it. A required secret neither set nor
 * handed over empties the plan: the deploy stops before changing anything.
 * Without an account state (the dry run) every create is "if missing" and
 * the secrets are "checked at deploy". scripts/deploy/execute.ts runs it.
 */
import type { SecretNeed } from "../deploy-secrets";
import { type PagesTarget, type Project, generatedConfigPath } from "./project";

/** A command line, run in `cwd` (relative to the repository root; "" is the root). */
export interface Command {
  program: "wrangler" | "vite";
  args: string[];
  cwd: string;
}

/** What the account holds, as the lookups found it. */
export interface AccountState {
  /** D1 database name → id. */
  databases: Record<string, string>;
  queues: string[];
  /** Worker service name → the names of its secrets; null when the Worker is not deployed yet. */
  workerSecrets: Record<string, string[] | null>;
  pagesProjects: string[];
  /** The Pages project's secrets; null when the project does not exist yet. */
  pagesSecrets: string[] | null;
}

/** The names of the secrets handed over to this deploy (`--secrets-file` or the environment), per target. */
export interface HandedOver {
  /** Worker name (`gateway`) → secret names. */
  workers: Record<string, string[]>;
  pages: string[];
}

export type Step =
  | { kind: "create-d1"; database: string; ifMissing: boolean; command: Command }
  | { kind: "create-queue"; queue: string; ifMissing: boolean; command: Command }
  | { kind: "write-config"; worker: string; from: string; to: string; databases: string[] }
  | { kind: "migrate"; database: string; command: Command }
  | { kind: "deploy-worker"; worker: string; secrets: string[]; command: Command }
  | { kind: "build-dashboard"; command: Command }
  | { kind: "create-pages"; project: string; ifMissing: boolean; command: Command }
  | { kind: "pages-secrets"; project: string; secrets: string[]; command: Command }
  | { kind: "deploy-pages"; project: string; command: Command };

/** Where one secret stands: set in Cloudflare, handed over (uploaded by this deploy), neither, or not looked up (dry run). */
export type SecretState = "set" | "handed over" | "missing" | "unknown";

export interface SecretStatus {
  /** `zahara-gateway`, or the Pages project's name. */
  target: string;
  kind: "worker" | "pages";
  need: SecretNeed;
  state: SecretState;
  /** Whether the Worker or project exists yet (unknown in a dry run: true). */
  exists: boolean;
  /** The Worker's wrangler config, for `wrangler secret put -c`. */
  config?: string;
}

export interface Plan {
  steps: Step[];
  secrets: SecretStatus[];
  /** Required secrets neither set nor handed over; when any, `steps` is empty. */
  missing: SecretStatus[];
}

const wrangler = (args: string[], cwd = ""): Command => ({ program: "wrangler", args, cwd });

/** The read-only lookups, one builder each (the Pages commands run in the dashboard's folder, where its wrangler.toml is). */
export const lookup = {
  databases: (): Command => wrangler(["d1", "list", "--json"]),
  queue: (queue: string): Command => wrangler(["queues", "info", queue]),
  workerSecrets: (config: string): Command => wrangler(["secret", "list", "--format", "json", "-c", config]),
  pagesProjects: (pages: PagesTarget): Command => wrangler(["pages", "project", "list", "--json"], pages.dir),
  pagesSecrets: (pages: PagesTarget): Command =>
    wrangler(["pages", "secret", "list", "--project-name", pages.project], pages.dir),
};

/** The queues the Workers bind, once each. */
export function queuesOf(project: Project): string[] {
  return [...new Set(project.workers.flatMap((w) => w.queues))];
}

/** The read-only lookups a deploy starts with, in order (the Pages secrets only when the project exists). */
export function lookupCommands(project: Project): Command[] {
  return [
    lookup.databases(),
    ...queuesOf(project).map(lookup.queue),
    ...project.workers.map((w) => lookup.workerSecrets(w.config)),
    lookup.pagesProjects(project.pages),
    lookup.pagesSecrets(project.pages),
  ];
}

function stateOf(
  need: SecretNeed,
  present: readonly string[] | null | undefined,
  handed: readonly string[],
): SecretState {
  if (handed.includes(need.name)) return "handed over";
  if (present === undefined) return "unknown";
  return present?.includes(need.name) ? "set" : "missing";
}

/** Every secret of every target, and where it stands. */
function secretStatuses(project: Project, account: AccountState | undefined, handed: HandedOver): SecretStatus[] {
  const rows: SecretStatus[] = [];
  for (const w of project.workers) {
    const present = account ? (account.workerSecrets[w.service] ?? null) : undefined;
    for (const need of w.secrets) {
      rows.push({
        target: w.service,
        kind: "worker",
        need,
        state: stateOf(need, present, handed.workers[w.name] ?? []),
        exists: present !== null,
        config: w.config,
      });
    }
  }
  const present = account ? account.pagesSecrets : undefined;
  for (const need of project.pages.secrets) {
    rows.push({
      target: project.pages.project,
      kind: "pages",
      need,
      state: stateOf(need, present, handed.pages),
      exists: present !== null,
    });
  }
  return rows;
}

/**
 * The plan. `account` undefined: the dry run (nothing looked up). `deployArgs`
 * are appended to every Worker's `wrangler deploy`.
 */
export function planDeploy(
  project: Project,
  account: AccountState | undefined,
  handed: HandedOver,
  deployArgs: readonly string[] = [],
): Plan {
  const secrets = secretStatuses(project, account, handed);
  const missing = secrets.filter((s) => s.need.required && s.state === "missing");
  if (missing.length > 0) return { steps: [], secrets, missing };

  const steps: Step[] = [];
  const databases = [
    ...new Map(
      project.workers.flatMap((w) => w.databases.map((d) => [d.name, { db: d, worker: w }] as const)),
    ).values(),
  ];
  for (const { db } of databases) {
    if (!account || !account.databases[db.name])
      steps.push({
        kind: "create-d1",
        database: db.name,
        ifMissing: !account,
        command: wrangler(["d1", "create", db.name]),
      });
  }
  for (const queue of queuesOf(project)) {
    if (!account || !account.queues.includes(queue))
      steps.push({ kind: "create-queue", queue, ifMissing: !account, command: wrangler(["queues", "create", queue]) });
  }
  const configOf = new Map<string, string>();
  for (const w of project.workers) {
    if (w.databases.length === 0) continue;
    configOf.set(w.name, generatedConfigPath(w.config));
    steps.push({
      kind: "write-config",
      worker: w.name,
      from: w.config,
      to: generatedConfigPath(w.config),
      databases: w.databases.map((d) => d.name),
    });
  }
  for (const { db, worker } of databases) {
    steps.push({
      kind: "migrate",
      database: db.name,
      command: wrangler([
        "d1",
        "migrations",
        "apply",
        db.name,
        "--remote",
        "-c",
        configOf.get(worker.name) ?? worker.config,
      ]),
    });
  }
  for (const w of project.workers) {
    const handedOver = handed.workers[w.name] ?? [];
    steps.push({
      kind: "deploy-worker",
      worker: w.name,
      secrets: handedOver,
      command: wrangler(["deploy", "-c", configOf.get(w.name) ?? w.config, ...deployArgs]),
    });
  }
  const { pages } = project;
  steps.push({
    kind: "build-dashboard",
    command: { program: "vite", args: ["build", "-c", `${pages.dir}/vite.config.ts`], cwd: "" },
  });
  if (!account || !account.pagesProjects.includes(pages.project)) {
    steps.push({
      kind: "create-pages",
      project: pages.project,
      ifMissing: !account,
      command: wrangler(["pages", "project", "create", pages.project, "--production-branch", pages.branch], pages.dir),
    });
  }
  if (handed.pages.length > 0) {
    steps.push({
      kind: "pages-secrets",
      project: pages.project,
      secrets: handed.pages,
      command: wrangler(["pages", "secret", "bulk", "--project-name", pages.project], pages.dir),
    });
  }
  steps.push({
    kind: "deploy-pages",
    project: pages.project,
    command: wrangler(
      [
        "pages",
        "deploy",
        pages.outputDir,
        "--project-name",
        pages.project,
        "--branch",
        pages.branch,
        "--commit-dirty=true",
      ],
      pages.dir,
    ),
  });
  return { steps, secrets, missing };
}
