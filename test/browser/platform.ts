/**
 * Where the browser checks run: the settings (URLs, admin key, chromium) and
 * the platform itself, `npm run dev` started unless the dashboard answers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root directory. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Where screenshots go: `<name>-1280.png` and `<name>-390.png`. */
export const shots = path.join(root, "dist", "screenshots");
/** The dashboard's URL (ZAHARA_DASHBOARD_URL: use one that is already running). */
export const DASHBOARD = process.env.ZAHARA_DASHBOARD_URL ?? "http://localhost:8788";
/** The gateway's URL; its /health tells that `npm run dev` is up. */
export const GATEWAY = process.env.ZAHARA_GATEWAY_URL ?? "http://localhost:8000";
/** The admin key the dev platform accepts. */
export const ADMIN_KEY = process.env.ZAHARA_ADMIN_KEY ?? "zahara-dev-admin-key";
/** The chromium playwright-core drives (Debian's by default). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

async function up(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

/** Starts `npm run dev` unless the dashboard already answers; waits until the gateway and the dashboard do. */
export async function startPlatform(): Promise<ChildProcess | undefined> {
  if (await up(`${DASHBOARD}/`)) return undefined;
  console.log("starting npm run dev …");
  const child = spawn("npm", ["run", "dev"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if ((await up(`${GATEWAY}/health`)) && (await up(`${DASHBOARD}/`))) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.error(log);
  stopPlatform(child);
  throw new Error("the platform did not come up within 240 s");
}

/** Stops what {@link startPlatform} started (its whole process group); nothing when it started nothing. */
export function stopPlatform(child: ChildProcess | undefined): void {
  if (child?.pid) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
}
