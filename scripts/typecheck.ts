/**
 * `npm run typecheck`: type-checks every project, as many at a time as there
 * are CPUs, incrementally (each project's build info in dist/.tsbuildinfo/,
 * so an unchanged project is checked again in a fraction of the time). The
 * projects: the root (Node scripts), the dashboard and its Functions, the
 * shared Workers code (workers/, durable-objects/: also what an editor
 * opens for those files), each Worker of the list (scripts/lib/workers.ts:
 * one per manifest, then the gateway) and every test tree
 * (test/<name>/tsconfig.json). Each check is what `tsc -p <project>
 * --incremental --tsBuildInfoFile <file>` does, run by long-lived worker
 * processes (scripts/lib/typecheck-worker.ts) that share TypeScript and the
 * parsed files between projects. Prints each project's result as it ends,
 * then the output of those that failed; exits 1 if any did.
 * `npm run typecheck -- workers/gateway test/gateway/tsconfig.json` checks
 * only the projects named; `-- --list` prints the projects and checks none.
 */
import { fork } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CheckRequest, CheckResult } from "./lib/typecheck-worker.ts";
import { listWorkers } from "./lib/workers.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const workerScript = path.join(root, "scripts", "lib", "typecheck-worker.ts");
const cacheDir = path.join(root, "dist", ".tsbuildinfo");
const durationsFile = path.join(cacheDir, "durations.json");
/** Memory set aside per worker process, in bytes. */
const WORKER_MEMORY = 2 * 1024 ** 3;

/** Every project, root-relative, in a stable order. */
function typecheckProjects(repo: string): string[] {
  const fixed = [
    "tsconfig.json",
    "dashboard/tsconfig.json",
    "dashboard/functions/tsconfig.json",
    "workers/tsconfig.json",
    "durable-objects/tsconfig.json",
  ];
  const workers = listWorkers(repo).map((w) => `${w.dir}/tsconfig.json`);
  const tests = readdirSync(path.join(repo, "test"), { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(repo, "test", e.name, "tsconfig.json")))
    .map((e) => `test/${e.name}/tsconfig.json`)
    .sort();
  return [...fixed, ...workers, ...tests];
}

/** A project named on the command line: its tsconfig.json or its folder. */
function projectOf(arg: string): string {
  const rel = path.relative(root, path.resolve(arg)).split(path.sep).join("/");
  return rel.endsWith(".json") ? rel : `${rel ? `${rel}/` : ""}tsconfig.json`;
}

/** The build info file of a project: `dist/.tsbuildinfo/<its folder, dashed>.tsbuildinfo`. */
function buildInfoOf(project: string): string {
  const name = path.dirname(project) === "." ? "root" : path.dirname(project).replaceAll("/", "-");
  return path.join("dist", ".tsbuildinfo", `${name}.tsbuildinfo`);
}

function readDurations(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(durationsFile, "utf8")) as Record<string, number>;
  } catch {
    return {};
  }
}

async function main(argv: string[]): Promise<number> {
  const all = typecheckProjects(root);
  if (argv.includes("--list")) {
    console.log(all.join("\n"));
    return 0;
  }
  const wanted = argv.map(projectOf);
  const missing = wanted.filter((p) => !existsSync(path.join(root, p)));
  if (missing.length > 0) {
    console.error(`typecheck: no such project: ${missing.join(", ")}`);
    return 2;
  }
  const projects = wanted.length > 0 ? wanted : all;
  mkdirSync(cacheDir, { recursive: true });
  // Longest first (last run's times; unknown ones first of all), so the slowest never starts last.
  const durations = readDurations();
  const queue = [...projects].sort((a, b) => (durations[b] ?? Infinity) - (durations[a] ?? Infinity));
  // One job per CPU, each worker holding up to about 1.5 GB (TypeScript and the files it shares), within the memory.
  const jobs = Math.max(1, Math.min(availableParallelism(), Math.floor(totalmem() / WORKER_MEMORY), queue.length));
  const pretty = process.stdout.isTTY === true;
  const started = performance.now();
  const results: CheckResult[] = [];
  // One worker process per job (tsx's loader inherited through execArgv), each fed the next project as it ends one.
  const worker = () =>
    new Promise<void>((resolve) => {
      const child = fork(workerScript, [], {
        cwd: root,
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        execArgv: [...process.execArgv, "--max-old-space-size=4096"],
      });
      let current: string | undefined;
      const next = () => {
        current = queue.shift();
        if (current === undefined) child.disconnect();
        else child.send({ project: current, buildInfo: buildInfoOf(current), pretty } satisfies CheckRequest);
      };
      child.on("message", (result: CheckResult) => {
        results.push(result);
        console.log(
          `typecheck: ${result.ok ? "ok    " : "FAILED"} ${result.project} (${(result.ms / 1000).toFixed(1)} s)`,
        );
        next();
      });
      child.on("exit", (code) => {
        if (current !== undefined)
          results.push({
            project: current,
            ok: false,
            ms: 0,
            output: `the typecheck worker exited (code ${code}) while checking it`,
          });
        resolve();
      });
      child.on("error", () => resolve());
      next();
    });
  await Promise.all(Array.from({ length: jobs }, worker));
  // Whatever no worker got to (they all died) fails too.
  for (const project of queue)
    results.push({ project, ok: false, ms: 0, output: "not checked: every typecheck worker exited" });
  writeFileSync(
    durationsFile,
    JSON.stringify({ ...durations, ...Object.fromEntries(results.map((r) => [r.project, Math.round(r.ms)])) }, null, 2),
  );

  const failed = results.filter((r) => !r.ok).sort((a, b) => projects.indexOf(a.project) - projects.indexOf(b.project));
  for (const r of failed) console.log(`\n── ${r.project} ──\n${r.output || "(tsc failed with no output)"}`);
  const summary = `${projects.length} project(s), ${jobs} at a time, ${((performance.now() - started) / 1000).toFixed(1)} s`;
  if (failed.length === 0) {
    console.log(`typecheck: ${summary}, all passed`);
    return 0;
  }
  console.log(`\ntypecheck: ${summary}; ${failed.length} failed: ${failed.map((r) => r.project).join(", ")}`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
