/**
 * Vitest global setup (runs in Node before any workerd starts): compiles the
 * manifests and bundles every agent Worker of the list (scripts/lib/workers.ts)
 * with wrangler, exactly as deploys do, so the gateway tests talk to real
 * agent bundles over service bindings.
 * Several projects (gateway, dashboard) list it; the bundles are built once
 * per vitest process.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { serviceWorkers } from "../scripts/lib/workers.ts";
import { ROOT } from "./workers-shared.ts";

export default function setup(): void {
  if (process.env.ZAHARA_AGENT_BUNDLES_BUILT === "1") return;
  const wrangler = path.join(ROOT, "node_modules", ".bin", "wrangler");
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" };
  for (const agent of serviceWorkers(ROOT)) {
    execFileSync(
      wrangler,
      ["deploy", "--dry-run", "--outdir", path.join(ROOT, "dist", agent.name), "-c", path.join(ROOT, agent.config)],
      {
        cwd: ROOT,
        env,
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
  }
  process.env.ZAHARA_AGENT_BUNDLES_BUILT = "1";
}
