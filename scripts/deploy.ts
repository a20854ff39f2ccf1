/**
 * `npm run deploy`: checks the secrets handed over (scripts/deploy-secrets.ts:
 * from the environment or `--secrets-file <dotenv file>`; short bootstrap keys
 * and development values are refused before anything changes), deploys the
 * agent Workers, then the gateway (whose service bindings need the agents to
 * exist) and uploads its secrets (`wrangler secret bulk`), then the
 * dashboard: builds it (`vite build`) and uploads it with its Functions to
 * the Pages project `zahara-dashboard` (`wrangler pages deploy dist` run in
 * dashboard/, so the Functions and dashboard/wrangler.toml are used; its
 * GATEWAY binding needs the gateway), and its secrets. Needs Cloudflare
 * credentials (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID). Other arguments
 * go to the Workers' `wrangler deploy`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DASHBOARD_SECRETS, GATEWAY_SECRETS, developmentValues, parseDotenv, pickSecrets, secretProblems } from "./deploy-secrets";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const vite = path.join(root, "node_modules", ".bin", "vite");
const configs = ["workers/agent-demo/wrangler.toml", "workers/agent-custom/wrangler.toml", "wrangler.toml"];

const args = process.argv.slice(2);
const fileAt = args.indexOf("--secrets-file");
const secretsFile = fileAt >= 0 ? args[fileAt + 1] : undefined;
if (fileAt >= 0) args.splice(fileAt, 2);
if (fileAt >= 0 && !secretsFile) {
  console.error("--secrets-file needs a path");
  process.exit(2);
}
const fromFile = secretsFile ? parseDotenv(readFileSync(path.resolve(secretsFile), "utf8")) : undefined;
const gatewaySecrets = pickSecrets(GATEWAY_SECRETS, process.env, fromFile);
const dashboardSecrets = pickSecrets(DASHBOARD_SECRETS, process.env, fromFile);
const problems = secretProblems({ ...gatewaySecrets, ...dashboardSecrets }, developmentValues(root));
if (problems.length > 0) {
  console.error(`Refusing to deploy:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}

/** Uploads `secrets` with `wrangler … secret bulk <file>`: a JSON file only the user can read, deleted at once. */
function uploadSecrets(secrets: Record<string, string>, wranglerArgs: string[], cwd: string): void {
  if (Object.keys(secrets).length === 0) return;
  console.log(`\n▶ wrangler ${wranglerArgs.join(" ")} <file> (${Object.keys(secrets).join(", ")})`);
  const dir = mkdtempSync(path.join(tmpdir(), "zahara-secrets-"));
  const file = path.join(dir, "secrets.json");
  try {
    writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
    execFileSync(wrangler, [...wranglerArgs, file], { cwd, stdio: "inherit" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const config of configs) {
  console.log(`\n▶ wrangler deploy -c ${config}`);
  execFileSync(wrangler, ["deploy", "-c", config, ...args], { cwd: root, stdio: "inherit" });
}
uploadSecrets(gatewaySecrets, ["secret", "bulk", "-c", "wrangler.toml"], root);

console.log("\n▶ vite build -c dashboard/vite.config.ts");
execFileSync(vite, ["build", "-c", "dashboard/vite.config.ts"], { cwd: root, stdio: "inherit" });
console.log("\n▶ wrangler pages deploy dashboard/dist --project-name zahara-dashboard");
execFileSync(wrangler, ["pages", "deploy", "dist", "--project-name", "zahara-dashboard"], { cwd: path.join(root, "dashboard"), stdio: "inherit" });
uploadSecrets(dashboardSecrets, ["pages", "secret", "bulk", "--project-name", "zahara-dashboard"], path.join(root, "dashboard"));
if (Object.keys(gatewaySecrets).length === 0) {
  console.log("\nNo gateway secrets handed over: the ones set in Cloudflare are kept (check GET /health for refused keys).");
}
