/**
 * Runs `npm run deploy` (scripts/deploy.ts, through tsx) against the
 * stand-in wrangler: a scratch copy of the files the deploy reads (the
 * manifests, every wrangler config, the `.dev.vars.example` files) as
 * ZAHARA_DEPLOY_ROOT, a fake account in a JSON file, and a bin folder first
 * on PATH whose `wrangler` and `vite` run test/deploy/fake-wrangler.ts
 * (transpiled once to JavaScript: starting tsx per call would be slow).
 * Returns the exit code, the output and the calls the stand-in recorded.
 */
import { spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { listWorkers } from "../../scripts/lib/workers";
import type { FakeAccount, FakeCall } from "./fake-wrangler";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The bin folder holding `wrangler` and `vite`, made once per test file. */
export function makeBin(): string {
  const bin = mkdtempSync(path.join(tmpdir(), "zahara-fake-bin-"));
  const source = readFileSync(path.join(ROOT, "test/deploy/fake-wrangler.ts"), "utf8");
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  writeFileSync(path.join(bin, "fake-wrangler.mjs"), js);
  for (const program of ["wrangler", "vite"]) {
    const file = path.join(bin, program);
    writeFileSync(
      file,
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(bin, "fake-wrangler.mjs")}" ${program} "$@"\n`,
    );
    chmodSync(file, 0o755);
  }
  return bin;
}

/** A scratch checkout: the files the deploy reads, copied from this one. */
export function makeRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), "zahara-deploy-root-"));
  const files = [
    "wrangler.toml",
    ".dev.vars.example",
    "dashboard/wrangler.toml",
    "dashboard/.dev.vars.example",
    ...listWorkers(ROOT).map((w) => w.config),
  ];
  for (const file of new Set(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    cpSync(path.join(ROOT, file), path.join(root, file));
  }
  cpSync(path.join(ROOT, "manifests"), path.join(root, "manifests"), { recursive: true });
  return root;
}

export interface DeployRun {
  /** The scratch checkout deployed. */
  root: string;
  code: number;
  stdout: string;
  stderr: string;
  /** Each call as `program args…`, a secrets file's path shown as `<file>` and a folder other than the root as `(in dir/)`. */
  calls: string[];
  raw: FakeCall[];
  account: FakeAccount;
}

/** Runs the deploy with `args` against `account`; `env` adds to a clean environment (no secret from this shell). */
export async function runDeploy(
  bin: string,
  account: FakeAccount,
  args: string[],
  env: Record<string, string> = {},
): Promise<DeployRun> {
  const root = makeRoot();
  const scratch = mkdtempSync(path.join(tmpdir(), "zahara-deploy-run-"));
  const statePath = path.join(scratch, "account.json");
  const logPath = path.join(scratch, "calls.ndjson");
  writeFileSync(statePath, JSON.stringify(account));
  const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), [path.join(ROOT, "scripts/deploy.ts"), ...args], {
    cwd: root,
    env: {
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
      HOME: process.env.HOME ?? scratch,
      ZAHARA_DEPLOY_ROOT: root,
      ZAHARA_WRANGLER: "wrangler",
      ZAHARA_VITE: "vite",
      FAKE_WRANGLER_STATE: statePath,
      FAKE_WRANGLER_LOG: logPath,
      ...env,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)));
  const raw = existsSync(logPath)
    ? readFileSync(logPath, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as FakeCall)
    : [];
  const calls = raw.map((c) => {
    const args = c.args.map((a, i) =>
      c.args[i - 1] === "--secrets-file" || (c.args[2] === "bulk" && i === c.args.length - 1) ? "<file>" : a,
    );
    const dir = path.relative(root, c.cwd);
    return `${dir ? `(in ${dir}/) ` : ""}${[c.program, ...args].join(" ")}`;
  });
  return {
    root,
    code,
    stdout,
    stderr,
    calls,
    raw,
    account: JSON.parse(readFileSync(statePath, "utf8")) as FakeAccount,
  };
}

/** The deploy's read-only lookups, in order, for this checkout's Workers (pages secrets: when the project exists). */
export function lookups(projectExists: boolean): string[] {
  return [
    "wrangler d1 list --json",
    "wrangler queues info zahara-request-log",
    ...listWorkers(ROOT).map((w) => `wrangler secret list --format json -c ${w.config}`),
    "(in dashboard/) wrangler pages project list --json",
    ...(projectExists ? ["(in dashboard/) wrangler pages secret list --project-name zahara-dashboard"] : []),
  ];
}

/** The agents' deploys, in order. */
export function agentDeploys(): string[] {
  return listWorkers(ROOT)
    .filter((w) => w.kind === "agent")
    .map((w) => `wrangler deploy -c ${w.config}`);
}
