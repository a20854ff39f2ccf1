/**
 * The rules of one run (runs/run-state.ts), as pure functions of the record
 * and the time: every interleaving the Durable Object may see (a cancel racing
 * completion, an interruption, a key still held by the agent) played out
 * without a runtime.
 */
import { describe, expect, it } from "vitest";
import {
  MAX_EXECUTIONS,
  MAX_RESULT_BYTES,
  type ExecutionOutcome,
  type RunRecord,
  cancelRun,
  deferExecution,
  deliveryDue,
  expired,
  finishExecution,
  newRun,
  nextWake,
  recordDelivery,
  restoreRun,
  startExecution,
  toView,
} from "../../workers/gateway/src/runs/run-state";

const T = 1_800_000_000_000;
const principal = { id: "key_abc", kind: "bootstrap" as const, scopes: ["*"] };
const queued = newRun(
  { runId: "run_1", agent: "a", task: "t", parameters: {}, principal, requestId: "req-1", timeoutMs: 30_000 },
  T,
);
const withHook = newRun(
  {
    runId: "run_2",
    agent: "a",
    task: "t",
    parameters: {},
    principal,
    requestId: "req-2",
    timeoutMs: 30_000,
    callbackUrl: "https://hooks.example.com/x",
  },
  T,
);
const ok: ExecutionOutcome = { ok: true, attempts: 1, result: { answer: 42 }, servedBy: "a" };
const failed: ExecutionOutcome = {
  ok: false,
  attempts: 3,
  error: { error: "boom", code: "UPSTREAM_FAILED", status: 502, request_id: "req-1" },
};
const settings = { heartbeatMs: 10_000, retentionMs: 7 * 86_400_000 };

function started(r: RunRecord, now: number): RunRecord {
  const d = startExecution(r, now);
  if (!d.start) throw new Error("expected a start");
  return d.record;
}

describe("a run's life", () => {
  it("starts queued, runs, and succeeds with its result, attempts and times", () => {
    expect(queued).toMatchObject({ status: "queued", executions: 0, attempts: 0, seq: 1 });
    expect(nextWake(queued, T, settings)).toBe(T);
    const running = started(queued, T + 5);
    expect(running).toMatchObject({
      status: "running",
      startedAt: T + 5,
      deadlineAt: T + 5 + 30_000,
      executions: 1,
      inFlightSince: T + 5,
    });
    expect(nextWake(running, T + 5, settings)).toBe(T + 5 + settings.heartbeatMs);
    const done = finishExecution(running, ok, T + 100);
    expect(toView(done)).toEqual({
      run_id: "run_1",
      agent: "a",
      task: "t",
      status: "succeeded",
      result: { answer: 42 },
      served_by: "a",
      attempts: 1,
      created_at: new Date(T).toISOString(),
      started_at: new Date(T + 5).toISOString(),
      finished_at: new Date(T + 100).toISOString(),
      request_id: "req-1",
      status_url: "/v1/runs/run_1",
    });
    expect(toView(done, { withResult: false }).result).toBeUndefined();
    // Kept until the end of its retention, then expired.
    expect(nextWake(done, T + 100, settings)).toBe(T + 100 + settings.retentionMs);
    expect(expired(done, T + 100 + settings.retentionMs - 1, settings.retentionMs)).toBe(false);
    expect(expired(done, T + 100 + settings.retentionMs, settings.retentionMs)).toBe(true);
  });

  it("fails with the error shape and the attempts of every execution", () => {
    const done = finishExecution(started(queued, T), failed, T + 10);
    expect(done).toMatchObject({ status: "failed", attempts: 3, error: failed.error });
    expect(done.result).toBeUndefined();
  });

  it(`fails a result larger than ${MAX_RESULT_BYTES} bytes (it could not be kept)`, () => {
    const huge: ExecutionOutcome = { ...ok, result: { text: "x".repeat(MAX_RESULT_BYTES) } };
    const done = finishExecution(started(queued, T), huge, T + 10);
    expect(done).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { code: "UPSTREAM_FAILED", status: 502, details: { max_result_bytes: MAX_RESULT_BYTES } },
    });
    expect(done.result).toBeUndefined();
  });

  it("restores only a record of its own version", () => {
    expect(restoreRun(queued)).toEqual(queued);
    expect(restoreRun({ ...queued, v: 2 })).toBeNull();
    expect(restoreRun(undefined)).toBeNull();
  });
});

describe("exactly one final state", () => {
  it("a cancel after completion changes nothing (409 for the caller)", () => {
    const done = finishExecution(started(queued, T), ok, T + 10);
    const d = cancelRun(done, T + 11, "req-c");
    expect(d.cancelled).toBe(false);
    expect(d.record).toBe(done);
  });

  it("a completion after a cancel is dropped: the run stays cancelled, without a result", () => {
    const running = started(queued, T);
    const c = cancelRun(running, T + 5, "req-c");
    if (!c.cancelled) throw new Error("expected a cancel");
    expect(c.wasRunning).toBe(true);
    expect(c.record).toMatchObject({
      status: "cancelled",
      finishedAt: T + 5,
      error: { code: "RUN_CANCELLED", status: 409, request_id: "req-c" },
    });
    expect(finishExecution(c.record, ok, T + 6)).toBe(c.record);
    expect(startExecution(c.record, T + 7)).toEqual({ start: false, record: c.record });
    expect(deferExecution(c.record, 1, T + 8, 1000)).toBe(c.record);
  });

  it("a queued run cancelled never starts", () => {
    const c = cancelRun(queued, T + 1, "req-c");
    expect(c.cancelled && !c.wasRunning).toBe(true);
    expect(startExecution(c.record, T + 2).start).toBe(false);
  });
});

describe("interruptions", () => {
  it("an execution still in flight when the object wakes without one is resumed, by the original deadline", () => {
    const running = started(queued, T);
    const d = startExecution(running, T + 12_000);
    expect(d).toMatchObject({ start: true, resumed: true, remainingMs: 18_000 });
    expect(d.record).toMatchObject({ executions: 2, startedAt: T, deadlineAt: T + 30_000 });
  });

  it(`gives up after ${MAX_EXECUTIONS} executions, or past the deadline, with the error shape`, () => {
    let r = queued;
    for (let i = 0; i < MAX_EXECUTIONS; i++) r = started(r, T + i);
    const d = startExecution(r, T + 100);
    expect(d.start).toBe(false);
    expect(d.record).toMatchObject({ status: "failed", error: { code: "UPSTREAM_FAILED", status: 502 } });
    const late = startExecution(started(queued, T), T + 30_000);
    expect(late.record).toMatchObject({ status: "failed", error: { code: "UPSTREAM_TIMEOUT", status: 504 } });
  });

  it("a key still held by the agent defers the same execution: asked again later, not counted again", () => {
    const resumed = started(started(queued, T), T + 1000);
    const waiting = deferExecution(resumed, 2, T + 2000, 1000);
    expect(waiting).toMatchObject({ status: "running", attempts: 2, retryAt: T + 3000, executions: 2 });
    expect(waiting.inFlightSince).toBeUndefined();
    expect(nextWake(waiting, T + 2000, settings)).toBe(T + 3000);
    const again = startExecution(waiting, T + 3000);
    expect(again).toMatchObject({ start: true, resumed: true, record: { executions: 2 } });
    expect(again.record.retryAt).toBeUndefined();
  });
});

describe("webhooks", () => {
  const retries = [5_000, 30_000];
  const attempt = (n: number, okay: boolean, at: number) => ({
    attempt: n,
    at: new Date(at).toISOString(),
    ok: okay,
    duration_ms: 3,
    ...(okay ? { status: 204 } : { status: 503 }),
  });

  it("are due when the run ends, whatever the end", () => {
    expect(deliveryDue(withHook, T)).toBe(false);
    const done = finishExecution(started(withHook, T), ok, T + 10);
    expect(deliveryDue(done, T + 10)).toBe(true);
    expect(nextWake(done, T + 10, settings)).toBe(T + 10);
    const c = cancelRun(withHook, T + 1, "r");
    expect(deliveryDue(c.record, T + 1)).toBe(true);
  });

  it("retry on the schedule, then give up; a 2xx ends them delivered", () => {
    let r = finishExecution(started(withHook, T), ok, T);
    r = recordDelivery(r, attempt(1, false, T), retries, T);
    expect(r.callback).toMatchObject({ state: "pending", nextAttemptAt: T + 5_000 });
    expect(deliveryDue(r, T + 4_999)).toBe(false);
    r = recordDelivery(r, attempt(2, false, T + 5_000), retries, T + 5_000);
    expect(r.callback).toMatchObject({ state: "pending", nextAttemptAt: T + 35_000 });
    const gaveUp = recordDelivery(r, attempt(3, false, T + 35_000), retries, T + 35_000);
    expect(gaveUp.callback).toMatchObject({ state: "failed" });
    expect(gaveUp.callback!.deliveries).toHaveLength(3);
    expect(nextWake(gaveUp, T + 35_000, settings)).toBe(T + settings.retentionMs);
    const delivered = recordDelivery(r, attempt(3, true, T + 35_000), retries, T + 35_000);
    expect(delivered.callback).toMatchObject({ state: "delivered" });
    expect(toView(delivered).callback).toEqual({
      url: "https://hooks.example.com/x",
      state: "delivered",
      deliveries: delivered.callback!.deliveries,
    });
    // Nothing more is recorded once it has ended.
    expect(recordDelivery(delivered, attempt(4, false, T + 40_000), retries, T + 40_000)).toBe(delivered);
  });
});
