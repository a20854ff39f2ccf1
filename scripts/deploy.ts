/**
 * `npm run deploy`: deploys the agent Workers, then the gateway (whose
 * service bindings need the agents to exist), then the dashboard: builds it
 * (`vite build`) and uploads it with its Functions to the Pages project
 * `zahara-dashboard` (`wrangler pages deploy dist` run in dashboard/, so the
 * Functions and dashboard/wrangler.toml are used; its GATEWAY binding needs
 * the gateway). Needs Cloudflare credentials (CLOUDFLARE_API_TOKEN,
 * CLOUDFLARE_ACCOUNT_ID) and the secrets set with `wrangler secret put` /
 * `wrangler pages secret put` (see README). Extra arguments go to the Workers'
 * `wrangler deploy`.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const vite = path.join(root, "node_modules", ".bin", "vite");
const configs = ["workers/agent-demo/wrangler.toml", "workers/agent-custom/wrangler.toml", "wrangler.toml"];

for (const config of configs) {
  console.log(`\n▶ wrangler deploy -c ${config}`);
  execFileSync(wrangler, ["deploy", "-c", config, ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
}

console.log("\n▶ vite build -c dashboard/vite.config.ts");
execFileSync(vite, ["build", "-c", "dashboard/vite.config.ts"], { cwd: root, stdio: "inherit" });
console.log("\n▶ wrangler pages deploy dashboard/dist --project-name zahara-dashboard");
execFileSync(wrangler, ["pages", "deploy", "dist", "--project-name", "zahara-dashboard"], { cwd: path.join(root, "dashboard"), stdio: "inherit" });
