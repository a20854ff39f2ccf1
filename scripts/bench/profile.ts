/**
 * `npm run bench:profile`: CPU profiles of the gateway path under load. Starts
 * the bench platform with workerd's inspector open, profiles every Worker
 * isolate (gateway with its Durable Objects, agent-demo, agent-custom) while
 * the gateway takes load at concurrency 32, writes `dist/bench/<worker>.cpuprofile`
 * (open in Chrome DevTools) and prints the functions with the most self time.
 *
 * Settings: PROFILE_DURATION_S (default 5), PROFILE_CONCURRENCY (default 32).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { buildBench } from "./build";
import { runLoad } from "./load";
import { startPlatform } from "./platform";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = path.join(root, "dist", "bench");
const INSPECTOR_PORT = 9230;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Milliseconds the isolate spent running (every sample not idle), from the sample time deltas. */
function busyMs(profile: Profile): number {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let us = 0;
  for (let i = 0; i < samples.length; i++) if (!idle.has(samples[i] as number)) us += deltas[i] ?? 0;
  return us / 1000;
}

/** A minimal DevTools protocol session over the inspector's WebSocket. */
async function session(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let id = 0;
  const pending = new Map<number, (v: unknown) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  return {
    send: (method: string, params: Record<string, unknown> = {}) =>
      new Promise<unknown>((resolve) => {
        pending.set(++id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

function topSelf(profile: Profile, n: number): string[] {
  const total = profile.nodes.reduce((s, node) => s + (node.hitCount ?? 0), 0) || 1;
  const byFn = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || "(anonymous)"} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ""}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  return [...byFn].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
}

async function main(): Promise<void> {
  const durationS = Number(process.env.PROFILE_DURATION_S ?? 5);
  const connections = Number(process.env.PROFILE_CONCURRENCY ?? 32);
  const build = buildBench(root, path.join(out, "build"), { readable: true });
  const platform = await startPlatform(root, build, path.join(out, "build", "state"), { inspectorPort: INSPECTOR_PORT });
  try {
    const target = {
      url: new URL("/agents/agent-demo/execute", platform.gatewayUrl).toString(),
      headers: { "Content-Type": "application/json", "X-API-Key": platform.callerKey },
      body: JSON.stringify({ task: "echo", parameters: { text: "hello" } }),
    };
    await runLoad(target, connections, 2);
    const targets = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json()) as { id: string; title: string; webSocketDebuggerUrl: string }[];
    const sessions = await Promise.all(targets.filter((t) => t.title.includes("zahara-")).map(async (t) => ({ name: t.title.slice(t.title.indexOf("zahara-")), s: await session(t.webSocketDebuggerUrl) })));
    for (const { s } of sessions) {
      await s.send("Profiler.enable");
      await s.send("Profiler.setSamplingInterval", { interval: 200 });
      await s.send("Profiler.start");
    }
    const result = await runLoad(target, connections, durationS);
    mkdirSync(out, { recursive: true });
    console.log(`gateway at concurrency ${connections}: ${result.rps.toFixed(1)} req/s, p50 ${result.latencyMs.p50.toFixed(2)} ms`);
    for (const { name, s } of sessions) {
      const { profile } = (await s.send("Profiler.stop")) as { profile: Profile };
      writeFileSync(path.join(out, `${name}.cpuprofile`), JSON.stringify(profile));
      const busy = busyMs(profile);
      console.log(`\n${name} (dist/bench/${name}.cpuprofile): busy ${busy.toFixed(0)} ms, ${(busy / Math.max(1, result.requests)).toFixed(2)} ms per gateway request; self time:`);
      for (const line of topSelf(profile, 25)) console.log(`  ${line}`);
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
