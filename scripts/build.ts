/**
 * `npm run build`: compiles the manifests and bundles every Worker with
 * `wrangler deploy --dry-run --outdir dist/<worker>`, then prints each
 * bundle's size and gzip size. Nothing is uploaded.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");

/** Every Worker: its dist folder name and wrangler config. */
const WORKERS = [
  { name: "agent-demo", config: "workers/agent-demo/wrangler.toml" },
  { name: "agent-custom", config: "workers/agent-custom/wrangler.toml" },
  { name: "gateway", config: "wrangler.toml" },
] as const;

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const rows: string[] = [];
for (const w of WORKERS) {
  const outdir = path.join(root, "dist", w.name);
  execFileSync(wrangler, ["deploy", "--dry-run", "--outdir", outdir, "-c", w.config], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
  const files = readdirSync(outdir).filter((f) => f.endsWith(".js"));
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const buf = readFileSync(path.join(outdir, f));
    raw += buf.byteLength;
    gz += gzipSync(buf, { level: 9 }).byteLength;
  }
  rows.push(`${w.name.padEnd(14)} ${(raw / 1024).toFixed(1).padStart(8)} KiB  ${(gz / 1024).toFixed(1).padStart(7)} KiB gzip`);
}
console.log("bundle          size          gzip");
for (const row of rows) console.log(row);
