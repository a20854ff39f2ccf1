/**
 * What tracing exports, end to end through the real gateway and agent-demo:
 * ordinary traces by a ratio both services apply to the trace id alike,
 * failed and slow ones whole whatever the ratio, each service deciding its
 * own part; and what an untraced or unsampled request costs, read from the
 * gateway's tracing counters (the gateway runs in this isolate). The gateway
 * takes its tracing settings per request here (its env, as `wrangler.toml`
 * vars would set them) and exports to the steady receiver, where agent-demo
 * exports too, at ratio 0.5 (vitest.config.ts).
 */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../workers/gateway/src/index";
import { withTracing } from "../../workers/shared/observability/instrument";
import { inSpan } from "../../workers/shared/observability/spans";
import { tracingStats } from "../../workers/shared/observability/stats";
import { MAX_SPANS_PER_TRACE } from "../../workers/shared/observability/tracer";
import type { ReceivedSpan } from "../doubles/otlp-receiver";
import { BASE, KEY, pollUntil } from "./helpers";
import {
  STEADY_ENDPOINT,
  descends,
  droppedAtHalf,
  keptAtHalf,
  steadySpans,
  steadyTrace,
  traceparentFor,
} from "./tracing-helpers";

const ctx = createExecutionContext();
const GATEWAY = "zahara-gateway";
const AGENT = "zahara-agent-demo";

/** The gateway's env with these tracing vars, exporting to the steady receiver. */
function gatewayEnv(vars: Record<string, string>): Env {
  return { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: STEADY_ENDPOINT, ...vars } as Env;
}

/** One request to agent-demo through the gateway under `e`, in the trace `traceId` when given. */
async function send(e: Env, task: string, parameters: Record<string, unknown>, traceId?: string, sampledFlag = true) {
  const id = `sampling-${crypto.randomUUID()}`;
  const caller = traceId ? traceparentFor(traceId, sampledFlag) : undefined;
  const headers: Record<string, string> = { "Content-Type": "application/json", "X-API-Key": KEY, "X-Request-Id": id };
  if (caller) headers.traceparent = caller.header;
  const body = JSON.stringify({ task, parameters });
  const request = new Request(`${BASE}/agents/agent-demo/execute`, { method: "POST", headers, body });
  const res = await worker.fetch(request, e, ctx);
  await res.arrayBuffer();
  return { id, status: res.status, callerSpanId: caller?.spanId };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const services = (trace: ReceivedSpan[]) => new Set(trace.map((s) => s.service));
/** Time for an export that was never made to have arrived anyway (kept parts are sent within ~50 ms). */
const GRACE_MS = 400;

describe("tracing: what is exported", () => {
  it("the ratio keeps or drops the same traces on the gateway and the agent, whatever the caller's flag", async () => {
    const e = gatewayEnv({ OTEL_TRACES_SAMPLER_ARG: "0.5" });
    const kept = [keptAtHalf(), keptAtHalf(), keptAtHalf()];
    const dropped = [droppedAtHalf(), droppedAtHalf(), droppedAtHalf()];
    // The caller's sampled flag says the opposite each time: it decides nothing.
    for (const t of kept) expect((await send(e, "echo", { t }, t, false)).status).toBe(200);
    for (const t of dropped) expect((await send(e, "echo", { t }, t, true)).status).toBe(200);
    // And trace ids the gateway makes up itself.
    const own = [];
    for (let i = 0; i < 8; i++) own.push((await send(e, "echo", { i })).id);
    for (const t of kept) {
      const trace = await pollUntil(
        () => steadyTrace(t),
        (s) => services(s).size === 2,
        100,
      );
      expect(services(trace)).toEqual(new Set([GATEWAY, AGENT]));
    }
    await sleep(GRACE_MS);
    for (const t of dropped) expect(await steadyTrace(t)).toEqual([]);
    const all = await steadySpans();
    for (const id of own) {
      const parts = all.filter((s) => s.attributes["zahara.request_id"] === id);
      const gateway = parts.some((s) => s.service === GATEWAY);
      expect(
        parts.some((s) => s.service === AGENT),
        `request ${id}: the agent made the gateway's call`,
      ).toBe(gateway);
    }
  });

  it("a failed request's trace is exported whole even when the ratio drops ordinary ones", async () => {
    const e = gatewayEnv({ OTEL_TRACES_SAMPLER_ARG: "0" });
    const before = tracingStats();
    const ordinary = droppedAtHalf();
    expect((await send(e, "echo", {}, ordinary)).status).toBe(200);
    const failing = droppedAtHalf();
    expect((await send(e, "chaos", { fail_status: 503 }, failing)).status).toBe(502);
    // Gateway: root, admission and attempt per attempt, a backoff between; agent: a part per attempt, each a 503.
    const done = (t: ReceivedSpan[]) => {
      const attempts = t.filter((s) => s.name === "upstream.attempt").length;
      const agent503s = t.filter((s) => s.service === AGENT && s.attributes["http.response.status_code"] === 503);
      return attempts >= 2 && agent503s.length === attempts;
    };
    const trace = await pollUntil(() => steadyTrace(failing), done, 150);
    const attempts = trace.filter((s) => s.name === "upstream.attempt");
    const root = trace.find((s) => s.service === GATEWAY && s.kind === 2 /* SERVER */)!;
    expect(root.attributes).toMatchObject({ "http.response.status_code": 502, "agent.id": "agent-demo" });
    for (const a of attempts) expect(a.status?.code).toBe(2); // STATUS_CODE_ERROR
    expect(trace.filter((s) => s.name === "upstream.admission")).toHaveLength(attempts.length);
    expect(trace.filter((s) => s.name === "upstream.backoff")).toHaveLength(attempts.length - 1);
    const agentRoots = trace.filter((s) => s.service === AGENT && s.kind === 2);
    for (const r of agentRoots) expect(attempts.some((a) => descends(trace, r, a))).toBe(true);
    // The agent's own steps came with its parts.
    expect(trace.filter((s) => s.service === AGENT && s.name === "agent.capability")).toHaveLength(attempts.length);
    await sleep(GRACE_MS);
    expect(await steadyTrace(ordinary)).toEqual([]);
    const after = tracingStats();
    expect(after.keptByError - before.keptByError).toBe(1);
    expect(after.tracesDropped - before.tracesDropped).toBe(1);
  });

  it("a slow request's trace is exported whole", async () => {
    const e = gatewayEnv({ OTEL_TRACES_SAMPLER_ARG: "0", OTEL_TRACES_SLOW_MS: "1000" });
    const t = droppedAtHalf();
    // agent-demo's threshold is the default, 1000 ms: its part is slow too.
    expect((await send(e, "chaos", { delay_ms: 1100 }, t)).status).toBe(200);
    const has = (s: ReceivedSpan[], name: string) => s.some((x) => x.name === name);
    const whole = (s: ReceivedSpan[]) => has(s, "agent.chaos") && has(s, "upstream.attempt");
    const trace = await pollUntil(() => steadyTrace(t), whole, 150);
    expect(services(trace)).toEqual(new Set([GATEWAY, AGENT]));
    const attempt = trace.find((s) => s.name === "upstream.attempt")!;
    const agentRoot = trace.find((s) => s.service === AGENT && s.kind === 2)!;
    expect(descends(trace, agentRoot, attempt)).toBe(true);
    expect(
      descends(
        trace,
        trace.find((s) => s.name === "agent.chaos")!,
        agentRoot,
      ),
    ).toBe(true);
  });

  it("each service decides its part: slow in the gateway, fast in the agent exports the gateway's part", async () => {
    const e = gatewayEnv({ OTEL_TRACES_SAMPLER_ARG: "0", OTEL_TRACES_SLOW_MS: "100" });
    const t = droppedAtHalf();
    // 200 ms: over the gateway's 100 ms here, under agent-demo's 1000 ms, and outside both ratios.
    expect((await send(e, "chaos", { delay_ms: 200 }, t)).status).toBe(200);
    const trace = await pollUntil(
      () => steadyTrace(t),
      (s) => s.some((x) => x.name === "upstream.attempt"),
      100,
    );
    await sleep(GRACE_MS);
    expect(services(await steadyTrace(t))).toEqual(new Set([GATEWAY]));
    expect(trace.find((s) => s.kind === 2)?.attributes["http.response.status_code"]).toBe(200);
  });
});

describe("tracing: what it costs a request", () => {
  it("with tracing off a request records no span, and the trace context still reaches the agent", async () => {
    const e = gatewayEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "" });
    const t = keptAtHalf();
    const before = tracingStats();
    const { status, callerSpanId } = await send(e, "echo", {}, t);
    expect(status).toBe(200);
    expect(tracingStats().spansRecorded - before.spansRecorded).toBe(0);
    // agent-demo (traced, ratio 0.5 keeps this id) continued the caller's trace through the untraced gateway.
    const trace = await pollUntil(
      () => steadyTrace(t),
      (s) => s.length > 0,
      100,
    );
    expect(services(trace)).toEqual(new Set([AGENT]));
    expect(trace.find((s) => s.kind === 2)?.parentSpanId).toBe(callerSpanId);
  });

  it("a request the ratio drops is recorded, then forgotten: never serialised or sent", async () => {
    const e = gatewayEnv({ OTEL_TRACES_SAMPLER_ARG: "0" });
    await sleep(GRACE_MS); // exports of earlier tests have gone out
    const before = tracingStats();
    const t = droppedAtHalf();
    expect((await send(e, "echo", {}, t)).status).toBe(200);
    await sleep(GRACE_MS);
    const after = tracingStats();
    // Root, admission and attempt at least: recording every span is what lets a failure be exported whole.
    expect(after.spansRecorded - before.spansRecorded).toBeGreaterThanOrEqual(3);
    expect(after.tracesDropped - before.tracesDropped).toBe(1);
    expect(after.spansExported - before.spansExported).toBe(0);
    expect(after.exports - before.exports).toBe(0);
    expect(await steadyTrace(t)).toEqual([]);
  });

  it("a request's part of a trace holds at most MAX_SPANS_PER_TRACE spans; beyond, work runs unrecorded", async () => {
    type CapEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: string; OTEL_TRACES_SAMPLER_ARG: string };
    const steps = MAX_SPANS_PER_TRACE + 44;
    const handler: ExportedHandler<CapEnv> = {
      async fetch() {
        let ran = 0;
        for (let i = 0; i < steps; i++) await inSpan("step", { i }, async () => void ran++);
        return new Response(String(ran));
      },
    };
    const traced = withTracing<CapEnv, ExportedHandler<CapEnv>>(handler, { name: "zahara-cap-test" });
    const t = keptAtHalf();
    const before = tracingStats();
    const request = new Request("https://cap.test/", { headers: { traceparent: traceparentFor(t).header } });
    const capEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: STEADY_ENDPOINT, OTEL_TRACES_SAMPLER_ARG: "1" };
    const res = await traced.fetch!(request as Request<unknown, IncomingRequestCfProperties>, capEnv, ctx);
    expect(await res.text()).toBe(String(steps));
    const trace = await pollUntil(
      () => steadyTrace(t),
      (s) => s.length >= MAX_SPANS_PER_TRACE,
      100,
    );
    await sleep(GRACE_MS);
    expect(await steadyTrace(t)).toHaveLength(MAX_SPANS_PER_TRACE); // the root and 255 steps
    expect(trace.every((s) => s.service === "zahara-cap-test")).toBe(true);
    expect(tracingStats().spansDiscarded - before.spansDiscarded).toBe(steps + 1 - MAX_SPANS_PER_TRACE);
  });
});
