/**
 * Regenerates Workers' `worker-configuration.d.ts` (their `Env`, from their
 * wrangler configs) with `wrangler types`, the way `npm run types` always
 * has: runtime types come from @cloudflare/workers-types, vars are typed as
 * plain strings. Secrets are typed from the `.dev.vars` next to the config,
 * as wrangler does; where there is none yet (a fresh clone, before
 * `npm run dev` creates it), from its `.dev.vars.example`, so the Env keeps
 * its secrets either way. Shared by `npm run types` and `npm run agent:new`.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { WorkerEntry } from "./workers.ts";

const run = promisify(execFile);

/** `wrangler types` arguments for a Worker (paths relative to the root, as the generated header quotes them). */
export function typesArgs(root: string, worker: WorkerEntry): string[] {
  const args = [
    "types",
    "-c",
    worker.config,
    `${worker.dir}/worker-configuration.d.ts`,
    "--strict-vars=false",
    "--include-runtime=false",
  ];
  const configDir = path.dirname(worker.config);
  const example = path.join(configDir, ".dev.vars.example");
  if (!existsSync(path.join(root, configDir, ".dev.vars")) && existsSync(path.join(root, example)))
    args.push("--env-file", example);
  return args;
}

/** Runs `wrangler types` for each Worker, all at once; rejects with wrangler's output for those that failed. */
export async function generateTypes(root: string, workers: readonly WorkerEntry[]): Promise<void> {
  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" };
  const results = await Promise.allSettled(workers.map((w) => run(wrangler, typesArgs(root, w), { cwd: root, env })));
  const failures = workers.flatMap((w, i) => {
    const result = results[i];
    if (result === undefined || result.status === "fulfilled") return [];
    const error = result.reason as { stdout?: string; stderr?: string; message?: string };
    return [`${w.name}: wrangler ${typesArgs(root, w).join(" ")}\n${error.stderr || error.stdout || error.message}`];
  });
  if (failures.length > 0)
    throw new Error(`wrangler types failed for ${failures.length} Worker(s):\n${failures.join("\n")}`);
}
