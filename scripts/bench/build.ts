/**
 * The bench's bundles: the real Workers, bundled by `wrangler deploy
 * --dry-run` exactly as a deploy does, from a copy of the source tree whose
 * only difference is agent-demo's manifest with its rate and concurrency
 * limits raised — the shipped 600 requests/min would turn a load test into
 * a test of 429s. The guard still runs every admission; it just admits.
 * The Workers are the list's (scripts/lib/workers.ts), gateway first.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { type Document, parseDocument } from "yaml";
import { type WorkerEntry, serviceWorkers, gatewayWorker } from "../lib/workers.ts";

/** Where the bench's copy of the tree and its bundles live. */
export interface BenchBuild {
  /** Root of the copied tree (its wrangler configs are used for bindings). */
  tree: string;
  /** Bundle directory per Worker: `<dist>/<name>/index.js`. */
  dist: string;
  /** Gzip size (level 9) of each Worker's shipped bundle (from the real tree), in bytes, as `scripts/build.ts` measures it. */
  gzipBytes: Record<string, number>;
  /** The Workers bundled, gateway first ({@link benchWorkers}). */
  workers: WorkerEntry[];
}

/** The Workers of the tree at `root` (wrangler configs relative to it), gateway first: the first Worker Miniflare serves. */
export function benchWorkers(root: string): WorkerEntry[] {
  return [gatewayWorker(), ...serviceWorkers(root)];
}

/** The limits set in the bench copy of agent-demo's manifest (high enough never to refuse). */
export const BENCH_LIMITS = { requestsPerMinute: 1_000_000, burst: 100_000, concurrency: 10_000 } as const;

// docs/openapi.json: the gateway serves it (GET /openapi.json).
const COPIED = [
  "package.json",
  "tsconfig.json",
  "wrangler.toml",
  "workers",
  "durable-objects",
  "scripts/manifests-compile.ts",
  "manifests",
  "docs/openapi.json",
];

/** Raises agent-demo's rate and concurrency limits to {@link BENCH_LIMITS} in its parsed manifest. */
export function raiseLimits(doc: Document): void {
  doc.setIn(["spec", "safety", "rate_limiting", "requests_per_minute"], BENCH_LIMITS.requestsPerMinute);
  doc.setIn(["spec", "safety", "rate_limiting", "burst_limit"], BENCH_LIMITS.burst);
  doc.setIn(["spec", "constraints", "performance", "maxConcurrentRequests"], BENCH_LIMITS.concurrency);
  doc.setIn(["extensions", "zahara", "resilience", "rate_limit_per_key"], {
    requests_per_minute: BENCH_LIMITS.requestsPerMinute,
    burst: BENCH_LIMITS.burst,
  });
}

/** Options of {@link buildBench}. */
export interface BuildOptions {
  /** Minification off (CPU profiles with real function names). */
  readable?: boolean;
  /** Edits agent-demo's parsed manifest in the copy (default {@link raiseLimits}). */
  editManifest?: (doc: Document) => void;
  /** Skips bundling from the real tree (the shipped sizes stay 0). */
  skipShippedSizes?: boolean;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".js"))
    .map((f) => path.join(dir, f));
}

/**
 * Copies the tree to `<out>/tree`, edits agent-demo's manifest there (by
 * default raising its limits), and bundles every Worker into `<out>/dist`.
 */
export function buildBench(
  root: string,
  out: string,
  { readable = false, editManifest = raiseLimits, skipShippedSizes = false }: BuildOptions = {},
): BenchBuild {
  const tree = path.join(out, "tree");
  const dist = path.join(out, "dist");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  for (const entry of COPIED)
    cpSync(path.join(root, entry), path.join(tree, entry), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}generated${path.sep}`),
    });
  symlinkSync(path.join(root, "node_modules"), path.join(tree, "node_modules"), "dir");
  const manifest = path.join(tree, "manifests", "agent-demo.ossa.yaml");
  const doc = parseDocument(readFileSync(manifest, "utf8"));
  editManifest(doc);
  writeFileSync(manifest, doc.toString());

  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" };
  const bundle = (cwd: string, config: string, outdir: string, extra: string[] = []) =>
    execFileSync(wrangler, ["deploy", "--dry-run", "--outdir", outdir, "-c", config, ...extra], {
      cwd,
      env,
      stdio: ["ignore", "ignore", "inherit"],
    });
  const gzipBytes: Record<string, number> = {};
  const workers = benchWorkers(tree);
  for (const w of workers) {
    bundle(tree, w.config, path.join(dist, w.name), readable ? ["--minify=false"] : []);
    if (skipShippedSizes) {
      gzipBytes[w.name] = 0;
      continue;
    }
    // Sizes are of what ships: the same Worker bundled from the real tree.
    const shipped = path.join(out, "shipped", w.name);
    bundle(root, w.config, shipped);
    gzipBytes[w.name] = jsFiles(shipped).reduce(
      (sum, f) => sum + gzipSync(readFileSync(f), { level: 9 }).byteLength,
      0,
    );
  }
  return { tree, dist, gzipBytes, workers };
}
