/**
 * Where the browser checks run: the settings (URLs, admin key, chromium) and
 * the platform itself, `npm run dev` started unless the dashboard answers.
 * When it starts the platform, it first starts the OpenAI-compatible double
 * (test/doubles/openai-server.ts) in this process on a free port, and gives
 * `npm run dev` `LLM_BASE_URL` (`http://127.0.0.1:<port>/v1`, the base URL the
 * agent runtime appends `/chat/completions` to) and `LLM_API_KEY`, which
 * scripts/dev.ts passes on to the agents: LLM capabilities then answer.
 * A platform that was already running has whatever LLM it was given, so the
 * flows that need one ask {@link platformHasLlm} and skip those checks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type OpenAiDouble, startOpenAiDouble } from "../doubles/openai-server";

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

/** The API key the LLM double accepts (`Authorization: Bearer test`). */
export const LLM_API_KEY = "test";

/** What {@link startPlatform} started: `npm run dev` and the LLM double, or nothing. */
export interface Platform {
  child?: ChildProcess;
  llm?: OpenAiDouble;
}

let llmStarted = false;

/** Whether the agents' LLM is the double this process started (false when the platform was already running). */
export function platformHasLlm(): boolean {
  return llmStarted;
}

/** Starts `npm run dev` unless the dashboard already answers; waits until the gateway and the dashboard do. */
export async function startPlatform(): Promise<Platform> {
  if (await up(`${DASHBOARD}/`)) return {};
  const llm = await startOpenAiDouble(LLM_API_KEY);
  llmStarted = true;
  console.log(`starting npm run dev … (LLM: the OpenAI double at ${llm.url})`);
  const child = spawn("npm", ["run", "dev"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", LLM_BASE_URL: llm.url, LLM_API_KEY },
  });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if ((await up(`${GATEWAY}/health`)) && (await up(`${DASHBOARD}/`))) return { child, llm };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.error(log);
  stopPlatform({ child, llm });
  throw new Error("the platform did not come up within 240 s");
}

/** Stops what {@link startPlatform} started (`npm run dev`'s whole process group, the double); nothing when it started nothing. */
export function stopPlatform({ child, llm }: Platform): void {
  void llm?.close();
  if (child?.pid) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
}
