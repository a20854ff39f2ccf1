/**
 * A stand-in for `wrangler` (and `vite`) in the deploy tests: an account held
 * in a JSON file (FAKE_WRANGLER_STATE: D1 databases, queues, Workers with
 * their secret names, Pages projects with theirs), changed by the create,
 * deploy and secret commands, and answered like wrangler 4.86 answers (JSON
 * lists, its error messages, the ND-JSON WRANGLER_OUTPUT_FILE_PATH entries).
 * Every call is appended to FAKE_WRANGLER_LOG: program, arguments, folder,
 * and what a `-c` config or a secrets file held (the D1 ids, the secret names
 * and the file's mode), so the tests check the ids reached wrangler. Like
 * wrangler, `deploy` and `migrations apply` fail on a D1 id the account does
 * not have, and `deploy` on a queue it does not have. The test transpiles it
 * to JavaScript and runs it as `wrangler <args>` / `vite <args>` from PATH.
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";

/** The fake account. */
export interface FakeAccount {
  databases: { name: string; uuid: string }[];
  queues: string[];
  /** Worker name → its secret names. */
  workers: Record<string, string[]>;
  /** Pages project → its secret names. */
  pages: Record<string, string[]>;
  /** A command (`deploy`, `d1 migrations`, …) that fails, as an API error would. */
  failing?: string;
}

/** One recorded call. */
export interface FakeCall {
  program: string;
  args: string[];
  cwd: string;
  /** A `-c` config's D1 database ids (name → id). */
  databaseIds?: Record<string, string>;
  /** A secrets file's names and mode (octal). */
  secretNames?: string[];
  secretsMode?: string;
}

interface ConfigFacts {
  name: string;
  workersDev: boolean;
  databaseIds: Record<string, string>;
  queues: string[];
}

/** What the fake needs from a config: JSON (the generated one) fully, TOML by pattern. */
function readConfig(file: string): ConfigFacts {
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".json")) {
    const raw = JSON.parse(text) as {
      name: string;
      workers_dev?: boolean;
      d1_databases?: { database_name: string; database_id: string }[];
      queues?: { producers?: { queue: string }[]; consumers?: { queue: string }[] };
    };
    return {
      name: raw.name,
      workersDev: raw.workers_dev !== false,
      databaseIds: Object.fromEntries((raw.d1_databases ?? []).map((d) => [d.database_name, d.database_id])),
      queues: [...(raw.queues?.producers ?? []), ...(raw.queues?.consumers ?? [])].map((q) => q.queue),
    };
  }
  const name = /^name\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? "";
  return { name, workersDev: !/^workers_dev\s*=\s*false/m.test(text), databaseIds: {}, queues: [] };
}

function flag(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

function fail(message: string): never {
  process.stderr.write(`\n✘ [ERROR] ${message}\n\n`);
  process.exit(1);
}

const out = (text: string): void => void process.stdout.write(`${text}\n`);
const output = (entry: Record<string, unknown>): void => {
  const file = process.env.WRANGLER_OUTPUT_FILE_PATH;
  if (file) appendFileSync(file, `${JSON.stringify({ version: 1, ...entry, timestamp: new Date().toISOString() })}\n`);
};

const [program = "wrangler", ...args] = process.argv.slice(2);
const statePath = process.env.FAKE_WRANGLER_STATE ?? "";
const state = JSON.parse(readFileSync(statePath, "utf8")) as FakeAccount;
const call: FakeCall = { program, args, cwd: process.cwd() };
const configArg = flag(args, "-c");
const config = program === "wrangler" && configArg ? readConfig(path.resolve(configArg)) : undefined;
if (config && Object.keys(config.databaseIds).length > 0) call.databaseIds = config.databaseIds;
const secretsArg =
  flag(args, "--secrets-file") ?? (args[0] === "pages" && args[2] === "bulk" ? args.at(-1) : undefined);
const secrets = secretsArg ? (JSON.parse(readFileSync(secretsArg, "utf8")) as Record<string, string>) : undefined;
if (secretsArg && secrets) {
  call.secretNames = Object.keys(secrets);
  call.secretsMode = (statSync(secretsArg).mode & 0o777).toString(8);
}
appendFileSync(process.env.FAKE_WRANGLER_LOG ?? "", `${JSON.stringify(call)}\n`);

/** Fails like wrangler when a config binds a D1 id or a queue the account does not have. */
function checkBindings(facts: ConfigFacts): void {
  for (const [name, id] of Object.entries(facts.databaseIds)) {
    if (!state.databases.some((d) => d.uuid === id)) fail(`D1 database ${name} (${id}) not found [code: 7404]`);
  }
  for (const queue of facts.queues)
    if (!state.queues.includes(queue))
      fail(`Queue "${queue}" does not exist. To create it, run: wrangler queues create ${queue}`);
}

/** The arguments that are not flags or flag values (the commands put positionals before flags). */
const positional = args.filter(
  (a, i) => !a.startsWith("-") && !(i > 0 && args[i - 1]!.startsWith("-") && !args[i - 1]!.includes("=")),
);
const command = program === "vite" ? "vite" : positional.slice(0, 2).join(" ");
if (state.failing === command) fail("A request to the Cloudflare API failed. [code: 10013]");
switch (command) {
  case "vite":
    out("vite: built (stand-in)");
    break;
  case "d1 list":
    out(
      JSON.stringify(
        state.databases.map((d) => ({
          uuid: d.uuid,
          name: d.name,
          created_at: "2026-01-01T00:00:00.000Z",
          version: "production",
          num_tables: 0,
          file_size: 0,
        })),
        null,
        2,
      ),
    );
    break;
  case "d1 create": {
    const name = positional[2]!;
    if (state.databases.some((d) => d.name === name)) fail("A database with that name already exists");
    const uuid = randomUUID();
    state.databases.push({ name, uuid });
    out(
      `✅ Successfully created DB '${name}' in region WEUR\nCreated your new D1 database.\n\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "${name}"\ndatabase_id = "${uuid}"`,
    );
    break;
  }
  case "d1 migrations": {
    const name = positional[3]!;
    if (!config) fail("No configuration file found.");
    const id = config.databaseIds[name];
    if (!id || !state.databases.some((d) => d.uuid === id))
      fail(`D1 database ${name} (${id ?? "no id"}) not found [code: 7404]`);
    out(`🌀 Executing on remote database ${name} (${id}):\n✅ Applied migrations`);
    break;
  }
  case "queues info": {
    const name = positional[2]!;
    if (!state.queues.includes(name))
      fail(`Queue "${name}" does not exist. To create it, run: wrangler queues create ${name}`);
    out(`Queue Name: ${name}\nQueue ID: fake-queue-id`);
    break;
  }
  case "queues create":
    state.queues.push(positional[2]!);
    out(`🌀 Creating queue '${positional[2]}'\n✅ Created queue '${positional[2]}'`);
    break;
  case "secret list": {
    const name = config?.name ?? "";
    const names = state.workers[name];
    if (!names)
      fail(`Worker "${name}" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.`);
    out(
      JSON.stringify(
        names.map((n) => ({ name: n, type: "secret_text" })),
        null,
        "  ",
      ),
    );
    break;
  }
  case "deploy": {
    if (!config) fail("Missing entry-point");
    checkBindings(config);
    state.workers[config.name] = [...new Set([...(state.workers[config.name] ?? []), ...Object.keys(secrets ?? {})])];
    const targets = config.workersDev
      ? [`https://${config.name}.fake.workers.dev`, "schedule: 17 3 * * *", "Producer for zahara-request-log"]
      : [];
    output({ type: "deploy", worker_name: config.name, version_id: randomUUID(), targets });
    out(`Uploaded ${config.name}\nDeployed ${config.name} triggers\n${targets.map((t) => `  ${t}`).join("\n")}`);
    break;
  }
  case "pages project": {
    const sub = positional[2];
    if (sub === "list") {
      out(
        JSON.stringify(
          Object.keys(state.pages).map((p) => ({
            "Project Name": p,
            "Project Domains": `${p}.pages.dev`,
            "Git Provider": "No",
            "Last Modified": "1 day ago",
          })),
          null,
          2,
        ),
      );
    } else if (sub === "create") {
      state.pages[positional[3]!] = [];
      out(`✨ Successfully created the '${positional[3]}' project.`);
    } else fail(`fake wrangler: unexpected ${args.join(" ")}`);
    break;
  }
  case "pages secret": {
    const project = flag(args, "--project-name") ?? "";
    const names = state.pages[project];
    if (!names) fail(`Project "${project}" does not exist.`);
    if (positional[2] === "list") {
      out(
        `The "\u001b[34mproduction\u001b[39m" environment of your Pages project "${project}" has access to the following secrets:`,
      );
      for (const n of names) out(`  - ${n}: \u001b[3mValue Encrypted\u001b[23m`);
    } else if (positional[2] === "bulk") {
      state.pages[project] = [...new Set([...names, ...Object.keys(secrets ?? {})])];
      out(`✨ ${Object.keys(secrets ?? {}).length} secrets successfully uploaded`);
    } else fail(`fake wrangler: unexpected ${args.join(" ")}`);
    break;
  }
  case "pages deploy": {
    const project = flag(args, "--project-name") ?? "";
    if (!state.pages[project]) fail(`Project "${project}" does not exist.`);
    const url = `https://0a1b2c3d.${project}.pages.dev`;
    const alias = `https://${flag(args, "--branch") ?? "main"}.${project}.pages.dev`;
    output({ type: "pages-deploy", pages_project: project, deployment_id: "0a1b2c3d", url });
    output({
      type: "pages-deploy-detailed",
      pages_project: project,
      deployment_id: "0a1b2c3d",
      url,
      alias,
      environment: "production",
    });
    out(`✨ Deployment complete! Take a peek over at ${url}`);
    break;
  }
  default:
    fail(`fake wrangler: unexpected command ${args.join(" ")}`);
}
writeFileSync(statePath, JSON.stringify(state, null, 2));
