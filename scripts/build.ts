/**
 * `npm run build`: compiles the manifests and bundles every Worker of the
 * list (scripts/lib/workers.ts: one per manifest, then the gateway) with
 * `wrangler deploy --dry-run --outdir dist/<worker>`, builds the dashboard
 * (`vite build` → dashboard/dist) and bundles its Pages Functions
 * (`wrangler pages functions build` → dist/dashboard-functions), then prints
 * each one's size and gzip size. Nothing is uploaded.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { listWorkers } from "./lib/workers.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const vite = path.join(root, "node_modules", ".bin", "vite");

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const rows: string[] = [];

/** Files under `dir` (recursively) whose names match `pattern`. */
function filesIn(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && pattern.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Adds a size row for `files`. */
function sizeRow(name: string, files: string[]): void {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const buf = readFileSync(f);
    raw += buf.byteLength;
    gz += gzipSync(buf, { level: 9 }).byteLength;
  }
  rows.push(
    `${name.padEnd(14)} ${(raw / 1024).toFixed(1).padStart(8)} KiB  ${(gz / 1024).toFixed(1).padStart(7)} KiB gzip`,
  );
}

for (const w of listWorkers(root)) {
  const outdir = path.join(root, "dist", w.name);
  execFileSync(wrangler, ["deploy", "--dry-run", "--outdir", outdir, "-c", w.config], {
    cwd: root,
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  sizeRow(
    w.name,
    filesIn(outdir, /\.js$/).filter((f) => path.dirname(f) === outdir),
  );
}

// The dashboard: its static front end (what browsers download) and its Pages Functions bundle.
execFileSync(vite, ["build", "-c", "dashboard/vite.config.ts", "--logLevel", "warn"], {
  cwd: root,
  env,
  stdio: ["ignore", "ignore", "inherit"],
});
sizeRow("dashboard", filesIn(path.join(root, "dashboard", "dist"), /\.(js|css|html)$/));
const fnOut = path.join(root, "dist", "dashboard-functions");
mkdirSync(fnOut, { recursive: true });
execFileSync(
  wrangler,
  [
    "pages",
    "functions",
    "build",
    "--outdir",
    fnOut,
    "--output-routes-path",
    path.join(fnOut, "_routes.json"),
    "--minify",
  ],
  {
    cwd: path.join(root, "dashboard"),
    env,
    stdio: ["ignore", "ignore", "inherit"],
  },
);
sizeRow("dashboard-fn", filesIn(fnOut, /\.js$/));

console.log("bundle          size          gzip");
for (const row of rows) console.log(row);
