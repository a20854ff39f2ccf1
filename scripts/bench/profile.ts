/**
 * `npm run bench:profile`: CPU profiles under load. Starts the bench platform
 * with workerd's inspector open, profiles every Worker isolate (gateway with
 * its Durable Objects, agent-demo, agent-custom) while the target takes load,
 * writes `dist/bench/<worker>.cpuprofile` (open in Chrome DevTools) and
 * prints, per isolate, its busy CPU per request, the modules of the bundle
 * that spent it (self time; a native call such as `fetch` or `URL` is charged
 * to the module that made it, found from esbuild's `// path` comments in the
 * readable bundle), the share spent in tracing code, and the functions with
 * the most self time.
 *
 * Settings: PROFILE_DURATION_S (default 5), PROFILE_CONCURRENCY (default 32),
 * PROFILE_TARGET (`gateway`, default, or `direct` for agent-demo alone),
 * PROFILE_VARS (JSON of vars set on every Worker, e.g.
 * `{"OTEL_EXPORTER_OTLP_ENDPOINT":""}` for tracing off), PROFILE_BUILD
 * (`before`: the tracing wiring of the last commit, see tracing-variants.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inspectorSession as session } from "./inspector";
import { buildBench } from "./build";
import { buildBefore } from "./tracing-variants";
import { runLoad } from "./load";
import { startPlatform } from "./platform";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = path.join(root, "dist", "bench");
const INSPECTOR_PORT = 9230;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

const VM_FRAMES = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** Microseconds of CPU per node id, from the sample time deltas (more exact than hit counts). */
function selfMicros(profile: Profile): Map<number, number> {
  const us = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    us.set(id, (us.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  return us;
}

/** Milliseconds the isolate spent running (every sample not idle). */
function busyMs(profile: Profile, us: Map<number, number>): number {
  let total = 0;
  for (const node of profile.nodes) if (node.callFrame.functionName !== "(idle)") total += us.get(node.id) ?? 0;
  return total / 1000;
}

/** Maps a bundle line (1-based) to the source module esbuild put there, from its `// <path>` comments. */
function moduleIndex(bundle: string): (line: number) => string {
  const starts: { line: number; module: string }[] = [];
  bundle.split("\n").forEach((text, i) => {
    const m = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/.exec(text);
    if (m) starts.push({ line: i + 1, module: moduleName(m[1] as string) });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = starts[mid] as { line: number; module: string };
      if (s.line <= line) {
        found = s.module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** A package name for dependencies, the source path (from `workers/` or `durable-objects/`) for ours. */
function moduleName(p: string): string {
  const nm = p.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const rest = p.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? p);
  }
  const stripped = p.replace(/^(\.\.\/)+/, "");
  return stripped.startsWith("workers/") || stripped.startsWith("durable-objects/") ? stripped : `workers/${stripped}`;
}

/**
 * True for the modules that make up tracing: the OTel packages and our
 * wiring — not Server-Timing, and not the service-binding call itself
 * (its native `fetch`, made by the wiring that adds `traceparent`, is the
 * request to the agent, traced or not).
 */
export function isTracingModule(module: string): boolean {
  if (module.includes("shared/observability/")) {
    return !module.includes("server-timing.ts") && !module.endsWith("bindings.ts (native: fetch)");
  }
  return module.startsWith("@opentelemetry/") || module.startsWith("@microlabs/otel-cf-workers");
}

/** Self time per module: native frames are charged to the nearest ancestor with a bundle location. */
type ModuleIndex = Map<string, (line: number) => string>;

function byModule(profile: Profile, us: Map<number, number>, bundles: ModuleIndex): Map<string, number> {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const located = (n: ProfileNode): string | undefined => {
    const index = bundles.get(n.callFrame.url);
    return index ? index(n.callFrame.lineNumber + 1) : undefined;
  };
  const out = new Map<string, number>();
  for (const n of profile.nodes) {
    const t = us.get(n.id) ?? 0;
    if (t === 0 || n.callFrame.functionName === "(idle)") continue;
    let module = VM_FRAMES.has(n.callFrame.functionName) ? n.callFrame.functionName : located(n);
    for (let p = parent.get(n.id); module === undefined && p !== undefined; p = parent.get(p)) {
      const pn = nodes.get(p) as ProfileNode;
      const m = located(pn);
      if (m) module = `${m} (native: ${n.callFrame.functionName || "anonymous"})`;
    }
    const native = `(native: ${n.callFrame.functionName || "anonymous"})`;
    module ??= n.callFrame.url.startsWith("node-internal:") ? "workerd node-compat" : native;
    out.set(module, (out.get(module) ?? 0) + t);
  }
  return out;
}

function topSelf(profile: Profile, us: Map<number, number>, n: number): string[] {
  const total = [...us.values()].reduce((s, v) => s + v, 0) || 1;
  const byFn = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || "(anonymous)"} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ""}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + (us.get(node.id) ?? 0));
  }
  const top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, n);
  return top.map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
}

async function main(): Promise<void> {
  const durationS = Number(process.env.PROFILE_DURATION_S ?? 5);
  const connections = Number(process.env.PROFILE_CONCURRENCY ?? 32);
  const direct = process.env.PROFILE_TARGET === "direct";
  const vars = JSON.parse(process.env.PROFILE_VARS ?? "{}") as Record<string, string>;
  const before = process.env.PROFILE_BUILD === "before";
  const current = buildBench(root, path.join(out, "build"), { readable: true, skipShippedSizes: true });
  const build = before ? buildBefore(root, current, path.join(out, "build-before"), true) : current;
  const state = path.join(out, "build", "state");
  const platform = await startPlatform(root, build, state, { inspectorPort: INSPECTOR_PORT, vars });
  try {
    const body = JSON.stringify({ task: "echo", parameters: { text: "hello" } });
    const json = { "Content-Type": "application/json" };
    const target = direct
      ? { url: new URL("/run", platform.agentUrl).toString(), headers: json, body }
      : {
          url: new URL("/agents/agent-demo/execute", platform.gatewayUrl).toString(),
          headers: { ...json, "X-API-Key": platform.callerKey },
          body,
        };
    await runLoad(target, connections, 2);
    type Target = { id: string; title: string; webSocketDebuggerUrl: string };
    const targets = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json()) as Target[];
    const isolates = targets.filter((t) => t.title.includes("zahara-"));
    const sessions = await Promise.all(
      isolates.map(async (t) => ({
        name: t.title.slice(t.title.indexOf("zahara-")),
        s: await session(t.webSocketDebuggerUrl),
      })),
    );
    for (const { s } of sessions) {
      await s.send("Profiler.enable");
      await s.send("Profiler.setSamplingInterval", { interval: 200 });
      await s.send("Profiler.start");
    }
    const result = await runLoad(target, connections, durationS);
    mkdirSync(out, { recursive: true });
    const what = `${direct ? "agent-demo direct" : "gateway"}${before ? " (HEAD's tracing wiring)" : ""}`;
    const speed = `${result.rps.toFixed(1)} req/s, p50 ${result.latencyMs.p50.toFixed(2)} ms`;
    console.log(`${what} at concurrency ${connections}, vars ${JSON.stringify(vars)}: ${speed}`);
    for (const { name, s } of sessions) {
      const { profile } = (await s.send("Profiler.stop")) as { profile: Profile };
      writeFileSync(path.join(out, `${name}.cpuprofile`), JSON.stringify(profile));
      const us = selfMicros(profile);
      const busy = busyMs(profile, us);
      const perRequest = (ms: number) => (ms / Math.max(1, result.requests)).toFixed(3);
      const file = `dist/bench/${name}.cpuprofile`;
      console.log(`\n${name} (${file}): busy ${busy.toFixed(0)} ms, ${perRequest(busy)} ms per request`);
      if (busy === 0) continue;
      const bundles = new Map<string, (line: number) => string>();
      for (const url of new Set(profile.nodes.map((n) => n.callFrame.url))) {
        if (url.endsWith("index.js")) bundles.set(url, moduleIndex(readFileSync(path.resolve(root, url), "utf8")));
      }
      const modules = [...byModule(profile, us, bundles)].sort((a, b) => b[1] - a[1]);
      const share = (ms: number) => `${((ms / busy) * 100).toFixed(1)}%`;
      const line = ([m, t]: [string, number]) => `    ${share(t / 1000).padStart(6)}  ${perRequest(t / 1000)} ms  ${m}`;
      const tracingModules = modules.filter(([m]) => isTracingModule(m));
      const tracing = tracingModules.reduce((s, [, t]) => s + t, 0) / 1000;
      console.log(`  tracing code: ${share(tracing)} of busy, ${perRequest(tracing)} ms per request:`);
      for (const entry of tracingModules) console.log(line(entry));
      console.log("  by module (self, natives charged to their caller):");
      for (const entry of modules.slice(0, 22)) console.log(line(entry));
      console.log("  by function (self):");
      for (const line of topSelf(profile, us, 15)) console.log(`    ${line}`);
      s.close();
    }
  } finally {
    await platform.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
