/**
 * `npm run deploy`: deploys the agent Workers, then the gateway (whose
 * service bindings need the agents to exist). Needs Cloudflare credentials
 * (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID) and the secrets set with
 * `wrangler secret put` (see README).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const configs = ["workers/agent-demo/wrangler.toml", "workers/agent-custom/wrangler.toml", "wrangler.toml"];

for (const config of configs) {
  console.log(`\n▶ wrangler deploy -c ${config}`);
  execFileSync(wrangler, ["deploy", "-c", config, ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
}
