/**
 * `npm run check:prom`: promtool checks of the Prometheus side.
 * 1. `promtool check rules` on alerts/*.rules.yml;
 * 2. `promtool test rules` on alerts/*.test.yml (each alert firing and not);
 * 3. `promtool check metrics` on dist/metrics-sample.prom, the real
 *    `GET /metrics` output saved by test/gateway/metrics.test.ts after real
 *    traffic (run the gateway tests first, e.g. `npm test`).
 * Exits 1 if a check fails or the sample is missing, 2 if promtool is not installed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const alerts = path.join(root, "alerts");
const sample = path.join(root, "dist", "metrics-sample.prom");

if (spawnSync("promtool", ["--version"], { stdio: "ignore" }).error) {
  console.error(
    "check:prom: promtool is not on PATH. Install it (Debian/Ubuntu: apt-get install prometheus; or a Prometheus release tarball) and run again.",
  );
  process.exit(2);
}

let failed = false;
function run(title: string, args: string[], input?: string): void {
  console.log(`::: ${title}`);
  const result = spawnSync("promtool", args, {
    cwd: alerts,
    encoding: "utf8",
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  if (output) console.log(output);
  if (result.status !== 0) {
    console.error(`check:prom: ${title} failed (exit ${result.status})`);
    failed = true;
  }
}

const files = readdirSync(alerts);
const rules = files.filter((f) => f.endsWith(".rules.yml"));
const tests = files.filter((f) => f.endsWith(".test.yml"));
if (rules.length === 0 || tests.length === 0) {
  console.error("check:prom: alerts/ needs *.rules.yml and *.test.yml files");
  process.exit(1);
}
run(`promtool check rules ${rules.join(" ")}`, ["check", "rules", ...rules]);
run(`promtool test rules ${tests.join(" ")}`, ["test", "rules", ...tests]);

if (!existsSync(sample)) {
  console.error(
    `check:prom: ${path.relative(root, sample)} is missing; it is written by test/gateway/metrics.test.ts (run \`npx vitest run --project gateway\` first)`,
  );
  process.exit(1);
}
const exposition = readFileSync(sample, "utf8");
const series = exposition.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
// `check metrics` lints too; it prints nothing and exits 0 only when the text is clean.
run(`promtool check metrics < ${path.relative(root, sample)} (${series} series)`, ["check", "metrics"], exposition);

if (failed) process.exit(1);
console.log("check:prom: all promtool checks passed");
