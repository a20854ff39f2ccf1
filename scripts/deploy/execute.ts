/**
 * Runs the deploy: the read-only lookups that make the {@link AccountState}
 * ({@link discover}), then a plan's steps in order ({@link execute}). Each
 * command is printed before it runs; a failing one stops the deploy. The
 * generated configs (real D1 ids) and the temporary secrets files (mode
 * 0600) are removed when the deploy ends, fails or is interrupted. The
 * programs come from {@link Tools}: the pinned wrangler and vite in
 * node_modules unless ZAHARA_WRANGLER / ZAHARA_VITE name others (the tests'
 * stand-in wrangler).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type AccountState, type Command, type Plan, type Step, lookup, queuesOf } from "./plan";
import { type Project, readRawConfig, withDatabaseIds } from "./project";
import { type Deployed, commandText } from "./report";
import {
  parseD1List,
  parseOutputFile,
  parsePagesProjects,
  parsePagesSecrets,
  parseSecretList,
  queueMissing,
  workerMissing,
} from "./wrangler-output";

/** Where the deploy runs and with which programs. */
export interface Tools {
  /** The repository deployed. */
  root: string;
  /** The wrangler and vite executables (a path, or a name looked up on PATH). */
  wrangler: string;
  vite: string;
  env: NodeJS.ProcessEnv;
}

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `command`; `capture` keeps stdout and stderr (lookups), else they go to the terminal. */
function run(
  tools: Tools,
  command: Command,
  options: { capture?: boolean; env?: NodeJS.ProcessEnv; extraArgs?: string[] } = {},
): Promise<Result> {
  const program = command.program === "wrangler" ? tools.wrangler : tools.vite;
  const args = [...command.args, ...(options.extraArgs ?? [])];
  const child = spawn(program, args, {
    cwd: path.join(tools.root, command.cwd),
    env: { ...tools.env, ...options.env },
    stdio: options.capture ? ["inherit", "pipe", "pipe"] : "inherit",
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", (error) => reject(new Error(`could not run ${program}: ${error.message}`)));
    child.on("close", (code, signal) => resolve({ status: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** Runs `command` and throws, with its output, unless it succeeds. */
async function must(tools: Tools, command: Command, options: Parameters<typeof run>[2] = {}): Promise<Result> {
  console.log(`\n▶ ${commandText({ ...command, args: [...command.args, ...(options.extraArgs ?? [])] })}`);
  const result = await run(tools, command, options);
  if (result.status !== 0) {
    throw new Error(
      `${commandText(command)} failed (exit ${result.status})${options.capture ? `:\n${result.stdout}${result.stderr}` : ""}`,
    );
  }
  return result;
}

/** The lookups (see lookupCommands in plan.ts): what exists in the account. Changes nothing. */
export async function discover(tools: Tools, project: Project): Promise<AccountState> {
  const databases = parseD1List((await must(tools, lookup.databases(), { capture: true })).stdout);
  const queues: string[] = [];
  for (const queue of queuesOf(project)) {
    const result = await lookUp(tools, lookup.queue(queue), (out) => queueMissing(out, queue));
    if (result) queues.push(queue);
  }
  const workerSecrets: AccountState["workerSecrets"] = {};
  for (const w of project.workers) {
    const result = await lookUp(tools, lookup.workerSecrets(w.config), workerMissing);
    workerSecrets[w.service] = result ? parseSecretList(result.stdout) : null;
  }
  const { pages } = project;
  const pagesProjects = parsePagesProjects((await must(tools, lookup.pagesProjects(pages), { capture: true })).stdout);
  const pagesSecrets = pagesProjects.includes(pages.project)
    ? parsePagesSecrets((await must(tools, lookup.pagesSecrets(pages), { capture: true })).stdout)
    : null;
  return { databases, queues, workerSecrets, pagesProjects, pagesSecrets };
}

/** A lookup that may find nothing: its result, or undefined when `absent` recognises the failure; any other failure throws. */
async function lookUp(
  tools: Tools,
  command: Command,
  absent: (output: string) => boolean,
): Promise<Result | undefined> {
  console.log(`\n▶ ${commandText(command)}`);
  const result = await run(tools, command, { capture: true });
  if (result.status === 0) return result;
  if (absent(result.stdout + result.stderr)) return undefined;
  throw new Error(`${commandText(command)} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
}

/** The secret values handed over, per target (names as in HandedOver). */
export interface SecretValues {
  workers: Record<string, Record<string, string>>;
  pages: Record<string, string>;
}

/** Runs the plan's steps in order; returns where each deployed target answers. */
export async function execute(
  tools: Tools,
  project: Project,
  plan: Plan,
  account: AccountState,
  secrets: SecretValues,
): Promise<Deployed[]> {
  const ids: Record<string, string> = { ...account.databases };
  const scratch = mkdtempSync(path.join(tmpdir(), "zahara-deploy-"));
  const generated: string[] = [];
  const cleanUp = (): void => {
    for (const file of generated) rmSync(file, { force: true });
    rmSync(scratch, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanUp();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let written = 0;
  /** Runs `use` with `values` in a file only the user can read, deleted as soon as `use` ends (none when there are no values). */
  const withSecretsFile = async (
    values: Record<string, string>,
    use: (file: string | undefined) => Promise<unknown>,
  ): Promise<void> => {
    if (Object.keys(values).length === 0) {
      await use(undefined);
      return;
    }
    const file = path.join(scratch, `secrets-${++written}.json`);
    writeFileSync(file, JSON.stringify(values), { mode: 0o600 });
    try {
      await use(file);
    } finally {
      rmSync(file, { force: true });
    }
  };
  const deployed: Deployed[] = [];
  const outputFile = (): string => path.join(scratch, `output-${++written}.ndjson`);

  const runStep = async (step: Step): Promise<void> => {
    switch (step.kind) {
      case "create-d1":
      case "create-queue":
      case "create-pages":
      case "migrate":
      case "build-dashboard":
        await must(tools, step.command);
        return;
      case "write-config": {
        if (step.databases.some((name) => !ids[name])) {
          Object.assign(ids, parseD1List((await must(tools, lookup.databases(), { capture: true })).stdout));
        }
        const target = path.join(tools.root, step.to);
        generated.push(target);
        writeFileSync(
          target,
          `${JSON.stringify(withDatabaseIds(readRawConfig(tools.root, step.from), ids), null, 2)}\n`,
        );
        console.log(`\n▶ wrote ${step.to} (${step.from} with the ids of ${step.databases.join(", ")})`);
        return;
      }
      case "deploy-worker": {
        const output = outputFile();
        await withSecretsFile(secrets.workers[step.worker] ?? {}, (file) =>
          must(tools, step.command, {
            extraArgs: file ? ["--secrets-file", file] : [],
            env: { WRANGLER_OUTPUT_FILE_PATH: output },
          }),
        );
        const worker = project.workers.find((w) => w.name === step.worker);
        deployed.push({
          name: step.worker,
          addresses: readOutput(output).addresses,
          ...(worker?.kind === "agent"
            ? { note: "no public address: reached through the gateway's service binding" }
            : {}),
        });
        return;
      }
      case "pages-secrets":
        await withSecretsFile(secrets.pages, (file) => must(tools, step.command, { extraArgs: file ? [file] : [] }));
        return;
      case "deploy-pages": {
        const output = outputFile();
        await must(tools, step.command, { env: { WRANGLER_OUTPUT_FILE_PATH: output } });
        const { pagesUrl, pagesAlias } = readOutput(output);
        deployed.push({
          name: "dashboard",
          addresses: [pagesUrl, pagesAlias].filter((a): a is string => typeof a === "string" && a !== ""),
        });
        return;
      }
    }
  };

  try {
    for (const step of plan.steps) await runStep(step);
    return deployed;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    cleanUp();
  }
}

function readOutput(file: string): ReturnType<typeof parseOutputFile> {
  try {
    return parseOutputFile(readFileSync(file, "utf8"));
  } catch {
    return { addresses: [] };
  }
}
