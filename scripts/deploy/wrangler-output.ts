/**
 * Reading what wrangler 4.86 prints, pure. JSON where wrangler offers it
 * (`d1 list --json`, `secret list --format json`, `pages project list
 * --json`, and the ND-JSON output file `WRANGLER_OUTPUT_FILE_PATH` names,
 * where `deploy` and `pages deploy` record their URLs); otherwise wrangler's
 * own messages: `queues info` failing with `Queue "<name>" does not exist`,
 * `secret list` with `Worker "<name>" not found` (a Worker never deployed),
 * and the `  - NAME: Value Encrypted` lines of `pages secret list`.
 */

/** The JSON value in `stdout`, from its first line that opens with `[` or `{` (wrangler may print a line before it). */
function jsonIn(stdout: string, what: string): unknown {
  const start = stdout.search(/^[[{]/m);
  try {
    if (start < 0) throw new Error("no JSON");
    return JSON.parse(stdout.slice(start)) as unknown;
  } catch {
    throw new Error(`${what}: no JSON in wrangler's output: ${stdout.slice(0, 300)}`);
  }
}

function arrayIn(stdout: string, what: string): Record<string, unknown>[] {
  const value = jsonIn(stdout, what);
  if (!Array.isArray(value)) throw new Error(`${what}: wrangler's output is not a JSON array`);
  return value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null);
}

/** `wrangler d1 list --json`: database name → id (`uuid`). */
export function parseD1List(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const db of arrayIn(stdout, "d1 list"))
    if (typeof db.name === "string" && typeof db.uuid === "string") out[db.name] = db.uuid;
  return out;
}

/** `wrangler secret list --format json`: the secret names. */
export function parseSecretList(stdout: string): string[] {
  return arrayIn(stdout, "secret list").flatMap((s) => (typeof s.name === "string" ? [s.name] : []));
}

/** `wrangler pages project list --json`: the project names. */
export function parsePagesProjects(stdout: string): string[] {
  return arrayIn(stdout, "pages project list").flatMap((p) =>
    typeof p["Project Name"] === "string" ? [p["Project Name"]] : [],
  );
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** `wrangler pages secret list --project-name …`: the secret names of the production environment. */
export function parsePagesSecrets(stdout: string): string[] {
  return [...stdout.replace(ANSI, "").matchAll(/^\s+- ([A-Za-z_][A-Za-z0-9_]*): /gm)].map((m) => m[1]!);
}

/** Whether a failed `wrangler queues info <queue>` says the queue does not exist. */
export function queueMissing(output: string, queue: string): boolean {
  return output.replace(ANSI, "").includes(`Queue "${queue}" does not exist`);
}

/** Whether a failed `wrangler secret list` says the Worker does not exist (never deployed). */
export function workerMissing(output: string): boolean {
  return /Worker "[^"]+"[^\n]* not found/.test(output.replace(ANSI, ""));
}

/** What a deploy reported in its output file. */
export interface DeployOutput {
  /** `wrangler deploy`: its targets that are addresses (workers.dev URL, routes, custom domains). */
  addresses: string[];
  /** `wrangler pages deploy`: the deployment's URL and its branch alias. */
  pagesUrl?: string;
  pagesAlias?: string;
}

/** Reads a `WRANGLER_OUTPUT_FILE_PATH` file (one JSON entry a line). Schedules, queues and workflows are not addresses. */
export function parseOutputFile(text: string): DeployOutput {
  const out: DeployOutput = { addresses: [] };
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.type === "deploy" && Array.isArray(entry.targets)) {
      for (const t of entry.targets) {
        if (typeof t === "string" && !/^(schedule:|workflow:|Producer for |Consumer for )/.test(t))
          out.addresses.push(t);
      }
    }
    if (entry.type === "pages-deploy-detailed" || entry.type === "pages-deploy") {
      if (typeof entry.url === "string") out.pagesUrl = entry.url;
      if (typeof entry.alias === "string") out.pagesAlias = entry.alias;
    }
  }
  return out;
}
