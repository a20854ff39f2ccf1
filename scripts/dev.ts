/**
 * `npm run dev`: the whole platform locally in workerd. Creates `.dev.vars`
 * from `.dev.vars.example` when missing (and `dashboard/.dev.vars` from
 * `dashboard/.dev.vars.example`), compiles the manifests, then starts every
 * Worker of the list (scripts/lib/workers.ts) with `wrangler dev`: each agent
 * on its manifest's `dev_port` (agent-demo :3001 with chaos on, agent-custom
 * :3002), the hosted-agent Worker (:3000), then the gateway (:8000); the gateway reaches the agents through service
 * bindings resolved by wrangler's local dev registry. Before that it applies
 * the D1 migrations to the local databases (`wrangler dev` applies none by
 * itself). Once the gateway answers, it builds the dashboard (`vite build`,
 * skipped when dashboard/dist is newer than its sources) and serves it with its Pages Functions on :8788 (`wrangler pages dev`),
 * whose GATEWAY service binding resolves through the same registry.
 * Ctrl-C stops all. `npm run dev -- --reset` deletes the local state first.
 * Offline noise (wrangler's `Request.cf` warning and its DNS stack, once per
 * Worker) is said once, in one line.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { access, appendFile, copyFile, readFile, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GATEWAY_DEV_PORT, listWorkers } from "./lib/workers.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const vite = path.join(root, "node_modules", ".bin", "vite");

/** One Worker to run: its config, port and extra `--var`s. */
interface DevWorker {
  name: string;
  config: string;
  port: number;
  /** DevTools inspector port; each process needs its own. */
  inspectorPort: number;
  vars?: string[];
}

/** Extra `--var`s of particular Workers: agent-demo's chaos capability is on in local development. */
const DEV_VARS: Record<string, string[]> = { "agent-demo": ["CHAOS_ENABLED:true"] };

/**
 * LLM settings the agents take from this process's environment when set (`LLM_BASE_URL=http://127.0.0.1:9999/v1
 * LLM_API_KEY=… npm run dev`, as the browser checks do with their OpenAI double); otherwise each agent's
 * wrangler.toml and .dev.vars hold.
 */
const LLM_ENV = ["LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL", "LLM_PROVIDER", "LLM_BACKEND"] as const;
const llmVars = LLM_ENV.flatMap((name) => (process.env[name] ? [`${name}:${process.env[name]}`] : []));

const workers: DevWorker[] = listWorkers(root).map((w) => ({
  name: w.name,
  config: w.config,
  port: w.devPort,
  inspectorPort: w.inspectorPort,
  vars: [...(DEV_VARS[w.name] ?? []), ...(w.kind === "agent" ? llmVars : [])],
}));

/** Creates `<dir>/.dev.vars` from its example, or appends variables the example gained since. */
async function ensureDevVars(dir: string, note: string): Promise<void> {
  const target = path.join(root, dir, ".dev.vars");
  const example = path.join(root, dir, ".dev.vars.example");
  const shown = path.join(dir, ".dev.vars");
  try {
    await access(target);
  } catch {
    await copyFile(example, target);
    console.log(`[dev] created ${shown} from ${shown}.example (${note})`);
    return;
  }
  const names = (text: string) =>
    new Set(
      text
        .split("\n")
        .map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
        .filter(Boolean),
    );
  const have = names(await readFile(target, "utf8"));
  const missing = (await readFile(example, "utf8")).split("\n").filter((l) => {
    const name = /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1];
    return name !== undefined && !have.has(name);
  });
  if (missing.length > 0) {
    await appendFile(target, `\n${missing.join("\n")}\n`);
    console.log(`[dev] added to ${shown}: ${missing.map((l) => l.split("=")[0]).join(", ")}`);
  }
}

/**
 * Offline, each `wrangler dev` warns that it cannot fetch the `Request.cf` object and prints the DNS error's
 * stack: expected without network, so the whole run says it once, in one line.
 */
const CF_WARNING = /Unable to fetch the `Request\.cf` object/;
const CF_ERROR = /^(Error: getaddrinfo \w+ workers\.cloudflare\.com|\s+at .*(GetAddrInfoReqWrap|node:dns|async_hooks))/;
let cfWarned = false;

/** True for a line the dev run leaves out (the offline `Request.cf` noise), after saying so once. */
function quiet(line: string, out: NodeJS.WritableStream): boolean {
  if (CF_ERROR.test(line)) return true;
  if (!CF_WARNING.test(line)) return false;
  if (!cfWarned) out.write("[dev] offline: wrangler uses a placeholder Request.cf object (expected without network)\n");
  cfWarned = true;
  return true;
}

function prefixLines(name: string, stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void {
  let buffered = "";
  stream.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) if (!quiet(line, out)) out.write(`[${name}] ${line}\n`);
  });
}

/** D1 databases whose migrations are applied locally before the Workers start. */
const localDatabases = [
  { name: "zahara-request-log", config: "wrangler.toml" },
  { name: "zahara-access", config: "wrangler.toml" },
];

/** Applies pending D1 migrations to the local databases (`.wrangler/state`); exits on failure. */
async function applyLocalMigrations(): Promise<void> {
  for (const db of localDatabases) {
    const child = spawn(wrangler, ["d1", "migrations", "apply", db.name, "--local", "-c", db.config], {
      cwd: root,
      // CI=true: no confirmation prompt (wrangler answers yes in a non-interactive context).
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0", CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    prefixLines("d1", child.stdout!, process.stdout);
    prefixLines("d1", child.stderr!, process.stderr);
    const code = await new Promise<number | null>((resolve) => {
      child.on("error", () => resolve(1));
      child.on("exit", resolve);
    });
    if (code !== 0) {
      console.error(`[dev] applying the ${db.name} migrations failed (exit ${code})`);
      process.exit(1);
    }
  }
}

function start(worker: DevWorker): ChildProcess {
  const args = [
    "dev",
    "-c",
    worker.config,
    "--port",
    String(worker.port),
    "--inspector-port",
    String(worker.inspectorPort),
    "--ip",
    "127.0.0.1",
    "--show-interactive-dev-session=false",
  ];
  // Every Worker runs as local development (the gateway's .dev.vars says so too, for a bare `wrangler dev`).
  for (const v of ["ZAHARA_ENV:development", ...(worker.vars ?? [])]) args.push("--var", v);
  const child = spawn(wrangler, args, {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  prefixLines(worker.name, child.stdout!, process.stdout);
  prefixLines(worker.name, child.stderr!, process.stderr);
  return child;
}

/** The dashboard: Pages dev server for dashboard/dist with the Functions in dashboard/functions (inspector after the Workers'). */
const DASHBOARD = {
  name: "dashboard",
  port: 8788,
  inspectorPort: Math.max(...workers.map((w) => w.inspectorPort)) + 1,
};

/** What the dashboard's bundle is built from: its own sources and the shared code it imports. */
const DASHBOARD_INPUTS = ["dashboard", "workers/shared", "workers/gateway/src", "durable-objects", "package-lock.json"];
const SKIPPED_DIRS = new Set(["dist", "node_modules", ".wrangler", "functions"]);

/** The newest modification time under `target` (skipping build output and dependencies), in ms. */
async function newestMtime(target: string): Promise<number> {
  const info = await stat(target).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(target, { withFileTypes: true });
  const times = await Promise.all(
    entries.filter((e) => !SKIPPED_DIRS.has(e.name)).map((e) => newestMtime(path.join(target, e.name))),
  );
  return Math.max(0, ...times);
}

/** True when dashboard/dist is newer than everything it is built from (then the start skips `vite build`). */
async function dashboardUpToDate(): Promise<boolean> {
  const built = (await stat(path.join(root, "dashboard", "dist", "index.html")).catch(() => undefined))?.mtimeMs;
  if (built === undefined) return false;
  const inputs = await Promise.all(DASHBOARD_INPUTS.map((p) => newestMtime(path.join(root, p))));
  return Math.max(...inputs) < built;
}

/** Builds the dashboard front end into dashboard/dist unless it is up to date; exits on failure. */
async function buildDashboard(): Promise<void> {
  if (await dashboardUpToDate()) {
    console.log("[dev] dashboard: dashboard/dist is up to date, not rebuilt");
    return;
  }
  try {
    execFileSync(vite, ["build", "-c", "dashboard/vite.config.ts", "--logLevel", "warn"], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
    });
  } catch {
    console.error("[dev] the dashboard build failed");
    process.exit(1);
  }
}

/**
 * `wrangler pages dev` run in dashboard/, so it reads dashboard/wrangler.toml, functions/ and
 * .dev.vars (dashboard/package.json makes dashboard/ the Pages project root; see its description).
 */
function startDashboard(): ChildProcess {
  const args = [
    "pages",
    "dev",
    "dist",
    "--port",
    String(DASHBOARD.port),
    "--inspector-port",
    String(DASHBOARD.inspectorPort),
    "--ip",
    "127.0.0.1",
    "--show-interactive-dev-session=false",
  ];
  // The Clinic shows agents' MCP and A2A addresses on the local gateway.
  const gateway = workers.find((w) => w.name === "gateway");
  if (gateway) args.push("--binding", `GATEWAY_PUBLIC_URL=http://localhost:${gateway.port}`);
  const child = spawn(wrangler, args, {
    cwd: path.join(root, "dashboard"),
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  prefixLines(DASHBOARD.name, child.stdout!, process.stdout);
  prefixLines(DASHBOARD.name, child.stderr!, process.stderr);
  return child;
}

/** Resolves once the gateway answers /health (or after 60 s, to start the dashboard anyway). */
async function gatewayReady(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`http://127.0.0.1:${GATEWAY_DEV_PORT}/health`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** `--reset`: local state (request log, keys, breakers, runs: every `.wrangler/state`) is deleted first. */
if (process.argv.includes("--reset")) {
  const dirs = [".", "dashboard", ...workers.map((w) => path.dirname(w.config))].map((d) =>
    path.join(root, d, ".wrangler", "state"),
  );
  for (const dir of new Set(dirs)) await rm(dir, { recursive: true, force: true });
  console.log("[dev] --reset: local state deleted (request log, keys, breakers, runs)");
}
await ensureDevVars(".", "dev API key: zahara-dev-key, admin key: zahara-dev-admin-key");
await ensureDevVars("dashboard", "the dashboard's gateway keys and session secret");
await applyLocalMigrations();
await buildDashboard();
const children: { name: string; child: ChildProcess }[] = workers.map((w) => ({ name: w.name, child: start(w) }));
let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 1500).unref();
};
const watch = ({ name, child }: { name: string; child: ChildProcess }) =>
  child.on("exit", (code) => {
    if (!stopping) {
      console.error(`[dev] ${name} exited with code ${code}; stopping the others`);
      stop(code ?? 1);
    }
  });
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
children.forEach(watch);
await gatewayReady();
if (!stopping) {
  const dashboard = { name: DASHBOARD.name, child: startDashboard() };
  children.push(dashboard);
  watch(dashboard);
  const urls = [...workers].reverse().map((w) => `${w.name} http://localhost:${w.port}`);
  console.log(
    `[dev] ${[...urls, `dashboard http://localhost:${DASHBOARD.port}`].join(" · ")} (admin key: zahara-dev-admin-key)`,
  );
}
