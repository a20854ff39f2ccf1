/**
 * Tracing variants for the benches. The shipped settings, read from the
 * gateway's `wrangler.toml` (the bench platform otherwise forces ratio 1 on
 * every Worker). And the wiring as it was, for comparison: a second bench
 * build whose tree is the bench tree with `workers/shared/observability`
 * taken from the last commit (HEAD), bundled the same way (`wrangler deploy
 * --dry-run`); `bench:tracing` runs it as the "as it was" variant,
 * `bench:profile` profiles it with PROFILE_BUILD=before.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BenchBuild } from "./build";

const OBSERVABILITY = "workers/shared/observability";

/** The tracing settings the gateway ships with (`OTEL_TRACES_SAMPLER_ARG`, `OTEL_TRACES_SLOW_MS`). */
export function shippedTracingVars(root: string): Record<string, string> {
  const toml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
  const value = (name: string) => new RegExp(`^${name} = "([^"]*)"`, "m").exec(toml)?.[1] ?? "";
  return {
    OTEL_TRACES_SAMPLER_ARG: value("OTEL_TRACES_SAMPLER_ARG"),
    OTEL_TRACES_SLOW_MS: value("OTEL_TRACES_SLOW_MS"),
  };
}

/** Builds into `dir` from `build`'s tree with HEAD's tracing wiring (`readable`: no minification). */
export function buildBefore(root: string, build: BenchBuild, dir: string, readable = false): BenchBuild {
  const tree = path.join(dir, "tree");
  const dist = path.join(dir, "dist");
  rmSync(dir, { recursive: true, force: true });
  cpSync(build.tree, tree, { recursive: true });
  const git = (args: string[]) => execFileSync("git", args, { cwd: root });
  const listing = git(["ls-tree", "--name-only", "HEAD", `${OBSERVABILITY}/`]).toString("utf8");
  const files = listing.split("\n").filter(Boolean);
  rmSync(path.join(tree, OBSERVABILITY), { recursive: true, force: true });
  mkdirSync(path.join(tree, OBSERVABILITY), { recursive: true });
  for (const file of files) writeFileSync(path.join(tree, file), git(["show", `HEAD:${file}`]));
  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" };
  for (const w of build.workers) {
    const args = ["deploy", "--dry-run", "--outdir", path.join(dist, w.name), "-c", w.config];
    if (readable) args.push("--minify=false");
    execFileSync(wrangler, args, { cwd: tree, env, stdio: ["ignore", "ignore", "inherit"] });
  }
  return { tree, dist, gzipBytes: {}, workers: build.workers };
}
