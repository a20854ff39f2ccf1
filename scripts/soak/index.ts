/**
 * `npm run soak`: the platform under injected faults. Bundles the Workers as
 * a deploy does, runs them in workerd through Miniflare with persisted state,
 * and sends 10 000 requests at concurrency 32 through the gateway to
 * agent-demo's `chaos` capability in phases (0 %, 10 %, 50 %, 100 % failures;
 * 0 s, 2 s and 12 s delays against a 4 s deadline), restarting the runtime in
 * the middle of the 100 % phase with none in flight (drained) and of the 2 s
 * delay phase with every client's request in flight (hard). Then it checks every request's answer, the
 * request log, the breaker, upstream attempts, permits and the state kept
 * across the restart (scripts/soak/checks.ts); then starts long-running runs
 * with webhooks and restarts the runtime under them (scripts/soak/runs.ts),
 * checking each ends once; prints a table and writes
 * `dist/soak/result.json` and `result.md`. Exits 1 when a check fails.
 *
 * `--short` (CI) sends about a fifth of the requests in the same phases;
 * `--docs` also replaces the results block in docs/soak.md.
 * Settings: SOAK_SHARE (0–1, overrides `--short`), SOAK_CONCURRENCY (default 32).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Document } from "yaml";
import { buildBench, raiseLimits } from "../bench/build";
import { replaceDocBlock } from "../readme-block";
import {
  type Check,
  checkAttempts,
  checkBreaker,
  checkPermits,
  checkRequestLog,
  checkReservations,
  checkResponses,
  checkRestart,
} from "./checks";
import { type PersistedState, awaitRequestLog, pollGuard, readGuard, readPersisted } from "./observe";
import { FULL_PHASES, SOAK_DEADLINE_MS, scalePhases, totalRequests } from "./phases";
import { type SoakPlatform, startSoakPlatform, stateDirOf } from "./platform";
import { markdown, phaseRows } from "./report";
import { checkRawHttp, probeRawHttp } from "./raw-http";
import { runPhases } from "./runner";
import { type Delivery, SOAK_WEBHOOK_SECRET, awaitRuns, checkRuns, isFinalRun, readRuns, startRuns } from "./runs";
import { startWebhookReceiver } from "../../test/doubles/webhook-receiver";
import { OUTBOX_FLUSH_MS } from "../../workers/gateway/src/request-log/message";

/** Room past the outbox's flush for an answer's way back to the client (a row may be lost for it too). */
const CRASH_SLACK_MS = 250;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = path.join(root, "dist", "soak");
const share = Number(process.env.SOAK_SHARE ?? (process.argv.includes("--short") ? 0.2 : 1));
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 32);

/** The soak's breaker: trips on 5 consecutive failures or ≥ 10 % of the last 40 calls, open for 1.5 s so recovery is seen within a phase. */
const SOAK_BREAKER = {
  failure_threshold: 5,
  open_ms: 1500,
  half_open_probes: 1,
  failure_rate: { threshold: 0.1, window: 40, minimum_calls: 20 },
};

/** agent-demo as shipped, but: limits above the load (still enforced, permits still counted) and the soak's breaker. */
function soakManifest(doc: Document): void {
  raiseLimits(doc);
  // Room for the permits a hard restart leaves held until their leases end, besides the live load.
  doc.setIn(["spec", "constraints", "performance", "maxConcurrentRequests"], 3 * concurrency);
  doc.setIn(["extensions", "zahara", "resilience", "breaker"], SOAK_BREAKER);
}

/** Waits until background reports have landed: no permit held, no tokens reserved. */
async function settled(platform: SoakPlatform, timeoutMs = 15_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const g = await readGuard(platform);
    if ((g.in_flight === 0 && (g.tokens?.reserved ?? 0) === 0) || Date.now() > until) return g.in_flight;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts the soak's runs with webhooks, restarts the runtime once every run is executing, and checks that each
 * ends succeeded, once, with one verified webhook.
 */
async function soakRuns(platform: SoakPlatform): Promise<Check[]> {
  const receiver = await startWebhookReceiver();
  try {
    const ids = await startRuns(platform, `${receiver.url}/soak-runs`);
    const running = await awaitRuns(platform, ids, (r) => r.status === "running", 10_000);
    const ms = await platform.restart();
    console.log(
      `  hard restart with ${running.filter((r) => r.status === "running").length}/${ids.length} runs executing (${Math.round(ms)} ms)`,
    );
    const ended = await awaitRuns(platform, ids, isFinalRun, 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    const later = await readRuns(platform, ids);
    const res = await fetch(`${receiver.controlUrl}/__received__?path=/soak-runs`);
    const { deliveries } = (await res.json()) as { deliveries: Delivery[] };
    return checkRuns(ids, ended, later, deliveries, SOAK_WEBHOOK_SECRET);
  } finally {
    await receiver.close();
  }
}

async function main(): Promise<void> {
  process.env.WRANGLER_SEND_METRICS = "false";
  const phases = scalePhases(FULL_PHASES, share);
  const expected = totalRequests(phases);
  console.log(
    `soak: ${expected} requests at concurrency ${concurrency}, ${phases.length} phases, deadline ${SOAK_DEADLINE_MS} ms; building…`,
  );
  const build = buildBench(root, path.join(out, "build"), { editManifest: soakManifest, skipShippedSizes: true });
  const platform = await startSoakPlatform(root, build, stateDirOf(out));
  const prefix = `soak-${Date.now().toString(36)}`;
  const restarts: {
    mode: "drained" | "hard";
    before: PersistedState;
    after: PersistedState;
    ms: number;
    cut: number;
  }[] = [];
  /** When the hard restart killed the runtime (epoch ms). */
  let crashAt: number | undefined;
  const poller = pollGuard(platform);
  let answered = 0;
  try {
    // Before the load: requests with a lying Content-Length over a raw socket, then one well-formed request.
    const marker = `zz${Math.random().toString(16).slice(2, 14)}`;
    const raw = await probeRawHttp(platform.gatewayUrl(), platform.callerKey, marker);
    const after = await fetch(new URL("/agents/agent-demo/execute", platform.gatewayUrl()), {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": platform.callerKey },
      body: JSON.stringify({ task: "chaos", parameters: {} }),
    });
    await after.body?.cancel();
    const rawChecks = checkRawHttp(raw, marker, after.status === 200);
    const started = Date.now();
    const { responses, windows } = await runPhases(phases, {
      gatewayUrl: platform.gatewayUrl,
      callerKey: platform.callerKey,
      concurrency,
      idPrefix: prefix,
      onResponse: () => {
        if (++answered % 1000 === 0)
          console.log(`  ${answered}/${expected} answered (${Math.round((Date.now() - started) / 1000)} s)`);
      },
      onRestart: async (phase, cut) => {
        const mode = phase.restartMode ?? "drained";
        if (mode === "drained") {
          await settled(platform);
          // An orderly restart (a redeploy, an eviction) lets each request's waitUntil finish, the outbox's flush
          // timer included; Miniflare's dispose would cut it, so wait for it here.
          await new Promise((r) => setTimeout(r, OUTBOX_FLUSH_MS + CRASH_SLACK_MS));
        }
        // Hard: read while the requests are in flight, then kill the runtime under them at once.
        const before = await readPersisted(platform);
        if (mode === "hard") crashAt = Date.now();
        const ms = await platform.restart();
        const after = await readPersisted(platform);
        restarts.push({ mode, before, after, ms, cut: cut.size });
        console.log(
          `  ${mode} restart in ${phase.name} (${Math.round(ms)} ms, ${cut.size} requests in flight): breaker ${before.guard.breaker.state} → ${after.guard.breaker.state}`,
        );
      },
    });
    // Long-running runs across a third, hard restart (scripts/soak/runs.ts).
    const runChecks = await soakRuns(platform);
    // Permits and reservations a hard restart left held come back when their leases end (the longest deadline + 5 s).
    const inFlight = await settled(platform, 30_000);
    const end = await readPersisted(platform);
    const { transitions, failures } = await poller.stop();
    const logged = await awaitRequestLog(platform, prefix, expected);
    const checks: Check[] = [
      ...rawChecks,
      ...checkResponses(expected, responses),
      checkRequestLog(
        responses,
        logged,
        crashAt === undefined ? undefined : { at: crashAt, windowMs: OUTBOX_FLUSH_MS + CRASH_SLACK_MS },
      ),
      checkAttempts(logged),
      ...checkBreaker(phases, windows, transitions),
      checkPermits(inFlight),
      checkReservations(end),
      ...(restarts.length > 0
        ? restarts.flatMap((r) => checkRestart(r.before, r.after, r.mode))
        : [{ name: "runtime restarted mid-soak", ok: false, detail: "no phase asked for a restart" }]),
      ...runChecks,
    ];
    const rows = phaseRows(phases, windows, responses, logged, transitions);
    const seconds = Math.round((Date.now() - started) / 1000);
    const restartText = restarts.map((r) => `${r.mode} in ${Math.round(r.ms)} ms with ${r.cut} in flight`).join(", ");
    const header = `Soak: ${expected} requests at concurrency ${concurrency} in ${seconds} s (deadline ${SOAK_DEADLINE_MS} ms; restarts: ${restartText}; ${failures} guard polls failed while restarting)`;
    const md = markdown(rows, checks, header);
    mkdirSync(out, { recursive: true });
    writeFileSync(
      path.join(out, "result.json"),
      JSON.stringify({ phases, windows, rows, checks, restarts, transitions, seconds }, null, 2),
    );
    writeFileSync(path.join(out, "result.md"), md);
    console.log(`\n${md}`);
    if (process.argv.includes("--docs")) {
      replaceDocBlock(path.join(root, "docs", "soak.md"), "soak", md);
      console.log("soak: docs/soak.md updated");
    }
    const failed = checks.filter((c) => !c.ok);
    console.log(
      failed.length === 0
        ? `soak: all ${checks.length} checks passed`
        : `soak: ${failed.length} of ${checks.length} checks FAILED: ${failed.map((c) => c.name).join("; ")}`,
    );
    process.exitCode = failed.length === 0 ? 0 : 1;
  } finally {
    await poller.stop();
    await platform.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
