/**
 * `npm run types`: regenerates every Worker's `worker-configuration.d.ts`
 * (its `Env`) from its wrangler config with `wrangler types`, for each Worker
 * of the list (scripts/lib/workers.ts: one per manifest, then the gateway).
 * Run it after editing a wrangler config. `npm run types -- agent-demo gateway`
 * regenerates only the Workers named.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateTypes } from "./lib/worker-types.ts";
import { listWorkers } from "./lib/workers.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const names = process.argv.slice(2);
const all = listWorkers(root);
const unknown = names.filter((n) => !all.some((w) => w.name === n));
if (unknown.length > 0) {
  console.error(`types: no Worker named ${unknown.join(", ")} (Workers: ${all.map((w) => w.name).join(", ")})`);
  process.exit(2);
}
const workers = names.length > 0 ? all.filter((w) => names.includes(w.name)) : all;
try {
  await generateTypes(root, workers);
  for (const w of workers) console.log(`types: ${w.dir}/worker-configuration.d.ts`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
