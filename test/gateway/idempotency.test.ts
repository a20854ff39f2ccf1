/**
 * Exactly-once on request through the gateway: a caller's Idempotency-Key
 * reaches the agent scoped to the caller (replays for the same caller and
 * body, never across callers); without one, no Durable Object is involved
 * in the agent, and the gateway makes one awaited round trip (admission).
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../../workers/gateway/src/index";
import { configOf, guardOf } from "./guards";
import { ADMIN_KEY, BASE, HASHED_KEY, KEY, expectError, get, pollUntil, post } from "./helpers";

interface Timeline {
  requests: { timeline: { agent: string; status: number; spans: { name: string; desc?: string }[] }[] }[];
}

/** The agent's idempotency spans of a logged request (the request log is written after the response). */
async function idempotencySpans(requestId: string): Promise<string[]> {
  const res = await pollUntil(
    () => get(`/v1/requests/${requestId}`, { "X-API-Key": ADMIN_KEY }),
    (r) => r.status === 200,
    250,
  );
  const body = (await res.json()) as Timeline;
  return body.requests
    .flatMap((r) => r.timeline)
    .flatMap((a) => a.spans.filter((s) => s.name === "idempotency").map((s) => s.desc ?? ""));
}

const echo = (text: string) => ({ task: "echo", parameters: { text } });
const call = (body: unknown, headers: Record<string, string>) => post("/agents/agent-demo/execute", body, headers);

describe("Idempotency-Key through the gateway", () => {
  it("the same caller, key and body replays the first answer, marked Idempotent-Replayed", async () => {
    const key = `order-${crypto.randomUUID()}`;
    const first = await call(echo("once"), {
      "X-API-Key": KEY,
      "Idempotency-Key": key,
      "X-Request-Id": `idem-a-${key}`,
    });
    expect(first.status).toBe(200);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const again = await call(echo("once"), {
      "X-API-Key": KEY,
      "Idempotency-Key": key,
      "X-Request-Id": `idem-b-${key}`,
    });
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await again.json()) as { result: unknown }).result).toEqual(
      ((await first.json()) as { result: unknown }).result,
    );
    expect(await idempotencySpans(`idem-a-${key}`)).toEqual(["begin: new", "record outcome"]);
    expect(await idempotencySpans(`idem-b-${key}`)).toEqual(["begin: replay"]);
  });

  it("another body under the same key is 422 IDEMPOTENCY_KEY_REUSED", async () => {
    const key = `order-${crypto.randomUUID()}`;
    expect((await call(echo("one"), { "X-API-Key": KEY, "Idempotency-Key": key })).status).toBe(200);
    // The agent's 4xx is relayed as the agent sent it.
    await expectError(
      await call(echo("two"), { "X-API-Key": KEY, "Idempotency-Key": key }),
      422,
      "IDEMPOTENCY_KEY_REUSED",
      "agent-demo",
    );
  });

  it("keys are scoped to the caller: another key's identical request runs again", async () => {
    const key = `shared-${crypto.randomUUID()}`;
    expect(
      (await call(echo("x"), { "X-API-Key": KEY, "Idempotency-Key": key })).headers.get("Idempotent-Replayed"),
    ).toBeNull();
    const other = await call(echo("x"), { "X-API-Key": HASHED_KEY, "Idempotency-Key": key });
    expect(other.status).toBe(200);
    expect(other.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("without a key no idempotency store is used, even when the request id repeats", async () => {
    const id = `no-key-${crypto.randomUUID()}`;
    expect((await call(echo("plain"), { "X-API-Key": KEY, "X-Request-Id": id })).status).toBe(200);
    expect(await idempotencySpans(id)).toEqual([]);
  });

  it("a malformed key is 400 INVALID_HEADER before any agent call", async () => {
    await expectError(
      await call(echo("x"), { "X-API-Key": KEY, "Idempotency-Key": "a".repeat(201) }),
      400,
      "INVALID_HEADER",
    );
    await expectError(
      await call(echo("x"), { "X-API-Key": KEY, "Idempotency-Key": "has space" }),
      400,
      "INVALID_HEADER",
    );
  });
});

describe("Durable Object round trips per request", () => {
  it("are counted in the request's log line: a cold isolate awaits the guard, a leased one does not; reports travel later, batched", async () => {
    const lines: string[] = [];
    for (const m of ["log", "info", "warn", "error"] as const)
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const ids: string[] = [];
    const contexts: ExecutionContext[] = [];
    for (let i = 0; i < 8; i++) {
      const ctx = createExecutionContext();
      contexts.push(ctx);
      const id = `do-calls-${crypto.randomUUID()}`;
      ids.push(id);
      const res = await worker.fetch(
        new Request(`${BASE}/agents/agent-demo/execute`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-API-Key": KEY, "X-Request-Id": id },
          body: JSON.stringify(echo(`count-${i}`)),
        }),
        { ...env, LOG_LEVEL: "info" } as Env,
        ctx,
      );
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // Background work (reports, the lease given back when idle) ends after the answers.
    for (const ctx of contexts) await waitOnExecutionContext(ctx);
    vi.restoreAllMocks();
    const done = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.message === "request completed");
    const awaited = ids.map((id) => Number(done.find((l) => l.request_id === id)?.do_calls ?? 0));
    // The first request (a cold isolate) and the second (which asks for a lease) await the guard; then the lease admits.
    expect(awaited[0]).toBe(1);
    expect(awaited.slice(2)).toEqual([0, 0, 0, 0, 0, 0]);
    // Every request still reached the guard's metrics, in a few background exchanges.
    const background = ids.reduce(
      (n, id) => n + Number(done.find((l) => l.request_id === id)?.do_calls_background ?? 0),
      0,
    );
    expect(background).toBeLessThanOrEqual(8);
    const metrics = await pollUntil(
      () => guardOf("agent-demo").metrics(configOf("agent-demo")),
      (m) => (m.counters.requests.echo?.["200"] ?? 0) >= 8,
    );
    expect(metrics.counters.requests.echo?.["200"]).toBe(8);
  });
});
