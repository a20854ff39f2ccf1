/**
 * `npm run agent:new` end to end, in a temporary copy of the repository (no
 * node_modules, .git or dist; node_modules is a symlink to this one's): it
 * scaffolds agent-third, then the list of Workers, `manifests:check`, the
 * typecheck of the new Worker and the gateway, `npm run build` (every Worker
 * bundled by `wrangler deploy --dry-run`) and the gateway in workerd, with
 * the three agents' bundles behind it, all see the new agent: an echo
 * through `POST /agents/agent-third/execute` with a dev key answers.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchWorkers } from "../../scripts/bench/build.ts";
import { type BenchPlatform, startPlatform } from "../../scripts/bench/platform.ts";
import { agentWorkers, listWorkers } from "../../scripts/lib/workers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NAME = "agent-third";
/** A plaintext caller key, accepted in local development (ZAHARA_ENV=development). */
const DEV_KEY = "zahara-dev-key";
/** Folders left out of the copy, wherever they are. */
const SKIPPED = new Set(["node_modules", ".git", ".wrangler", "dist"]);
/** Local secret files (`.dev.vars`, `.env`, …), not copied; their examples are. */
const SECRET_FILE = /^\.(?:dev\.vars|env)(?:\.(?!example$).+)?$/;

let tree = "";
let scaffolded = "";

/** Runs `npm run --silent <args>` in the copy; resolves with its output, or rejects with it. */
function npm(...args: string[]): Promise<string> {
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" };
  return new Promise((resolve, reject) => {
    execFile(
      "npm",
      ["run", "--silent", ...args],
      { cwd: tree, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (error) reject(new Error(`npm run ${args.join(" ")} failed (${error.code}):\n${output}`));
        else resolve(output);
      },
    );
  });
}

beforeAll(async () => {
  tree = mkdtempSync(path.join(tmpdir(), "zahara-agent-new-"));
  const copied = (src: string) =>
    !path
      .relative(ROOT, src)
      .split(path.sep)
      .some((part) => SKIPPED.has(part)) && !SECRET_FILE.test(path.basename(src));
  cpSync(ROOT, tree, { recursive: true, filter: copied });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");
  scaffolded = await npm("agent:new", "--", NAME);
});

afterAll(() => {
  if (tree) rmSync(tree, { recursive: true, force: true });
});

describe("npm run agent:new", () => {
  it("writes the manifest, the Worker folder and the gateway's binding; the list of Workers has the agent", async () => {
    const before = agentWorkers(ROOT);
    const agent = agentWorkers(tree).find((a) => a.name === NAME);
    expect(agent).toMatchObject({
      binding: "AGENT_THIRD",
      service: `zahara-${NAME}`,
      config: `workers/${NAME}/wrangler.toml`,
      manifest: `manifests/${NAME}.ossa.yaml`,
    });
    // The next free dev port, and ports no other Worker uses.
    expect(agent?.devPort).toBe(Math.max(...before.map((a) => a.devPort)) + 1);
    const workers = listWorkers(tree);
    expect(new Set(workers.map((w) => w.devPort)).size).toBe(workers.length);
    expect(new Set(workers.map((w) => w.inspectorPort)).size).toBe(workers.length);

    for (const file of ["src/index.ts", "wrangler.toml", "tsconfig.json", "worker-configuration.d.ts"])
      expect(existsSync(path.join(tree, "workers", NAME, file)), file).toBe(true);
    const toml = readFileSync(path.join(tree, "workers", NAME, "wrangler.toml"), "utf8");
    expect(toml).toMatch(new RegExp(`^name = "zahara-${NAME}"$`, "m"));
    expect(toml).toMatch(new RegExp(`^port = ${agent?.devPort}$`, "m"));
    expect(toml).not.toContain("agent-custom");
    expect(readFileSync(path.join(tree, "wrangler.toml"), "utf8")).toContain(
      `[[services]]\nbinding = "AGENT_THIRD"\nservice = "zahara-${NAME}"\n`,
    );
    expect(readFileSync(path.join(tree, "workers/gateway/worker-configuration.d.ts"), "utf8")).toMatch(
      /AGENT_THIRD: Fetcher/,
    );
    expect(readFileSync(path.join(tree, "workers/generated/index.ts"), "utf8")).toContain(`from "./manifests/${NAME}"`);
    expect(scaffolded).toContain(`manifests/${NAME}.ossa.yaml`);
    expect(scaffolded).toContain("Next steps");

    // A second time, or with a bad name: refused, nothing written.
    await expect(npm("agent:new", "--", NAME)).rejects.toThrow(/already exists/);
    await expect(npm("agent:new", "--", "Third_Agent")).rejects.toThrow(/lowercase/);
    expect(existsSync(path.join(tree, "workers", "Third_Agent"))).toBe(false);
  });

  it("manifests:check accepts it with the others", async () => {
    const count = readdirSync(path.join(tree, "manifests")).filter((f) => f.endsWith(".ossa.yaml")).length;
    expect(count).toBe(agentWorkers(ROOT).length + 1);
    expect(await npm("manifests:check")).toContain(`${count} files checked, 0 invalid`);
  });

  it("the typecheck lists its project and passes it and the gateway's", async () => {
    expect((await npm("typecheck", "--", "--list")).split("\n")).toContain(`workers/${NAME}/tsconfig.json`);
    const output = await npm("typecheck", "--", `workers/${NAME}`, "workers/gateway");
    expect(output).toContain(`ok     workers/${NAME}/tsconfig.json`);
    expect(output).toContain("ok     workers/gateway/tsconfig.json");
  });

  it("the build bundles it, and the gateway in workerd routes to it", async () => {
    const built = await npm("build");
    expect(built).toMatch(new RegExp(`^${NAME} +[\\d.]+ KiB`, "m"));
    const dist = path.join(tree, "dist");
    expect(existsSync(path.join(dist, NAME, "index.js"))).toBe(true);

    let platform: BenchPlatform | undefined;
    try {
      // The bench's platform: the gateway and every agent of the list, bundled as above, in one workerd.
      const build = { tree, dist, gzipBytes: {}, workers: benchWorkers(tree) };
      expect(build.workers.map((w) => w.name)).toContain(NAME);
      platform = await startPlatform(tree, build, path.join(tree, "dist", "state"), {
        persist: false,
        vars: { ZAHARA_ENV: "development", GATEWAY_API_KEYS: DEV_KEY, LOG_LEVEL: "error" },
      });
      const headers = { "Content-Type": "application/json", "X-API-Key": DEV_KEY };
      const listed = await fetch(new URL("/agents", platform.gatewayUrl), { headers });
      expect(listed.status).toBe(200);
      expect(JSON.stringify(await listed.json())).toContain(`"${NAME}"`);
      const res = await fetch(new URL(`/agents/${NAME}/execute`, platform.gatewayUrl), {
        method: "POST",
        headers,
        body: JSON.stringify({ task: "echo", parameters: { hello: "third" } }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ agent: NAME, task: "echo", result: { hello: "third" } });
    } finally {
      await platform?.close();
    }
  });
});
