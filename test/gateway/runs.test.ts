/**
 * Long-running runs, end to end in workerd: `Prefer: respond-async` on the
 * execute routes answers 202 with a run id, the run's Durable Object executes
 * the call through the real agent bundles, and `/v1/runs` reads, lists,
 * streams and cancels it, for its creator only (docs/runs.md).
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SseParser } from "../../workers/shared/http/sse";
import type { RunView } from "../../workers/gateway/src/runs/types";
import { ADMIN_KEY, BASE, HASHED_KEY, KEY, expectError, get, pollUntil, post } from "./helpers";

const ASYNC = { Prefer: "respond-async" };

interface Accepted {
  run_id: string;
  status: string;
  status_url: string;
  request_id: string;
}

/** Starts a run of agent-demo's `task` and returns the 202's body. */
async function start(
  task: string,
  parameters: Record<string, unknown>,
  headers: Record<string, string> = {},
  extra: object = {},
): Promise<Accepted> {
  const res = await post("/agents/agent-demo/execute", { task, parameters, ...extra }, { ...ASYNC, ...headers });
  const text = await res.text();
  expect(res.status, text).toBe(202);
  return JSON.parse(text) as Accepted;
}

async function read(id: string, key = KEY): Promise<RunView> {
  const res = await get(`/v1/runs/${id}`, { "X-API-Key": key });
  expect(res.status).toBe(200);
  return res.json<RunView>();
}

/** Polls the run until `done` holds (at most ~`seconds`). */
function until(id: string, done: (r: RunView) => boolean, seconds = 10): Promise<RunView> {
  return pollUntil(() => read(id), done, seconds * 10, 100);
}

const final = (r: RunView) => r.status === "succeeded" || r.status === "failed" || r.status === "cancelled";

describe("starting a run", () => {
  it("answers 202 at once with Location and an unguessable run id, then runs the call to success", async () => {
    const t0 = Date.now();
    const res = await post("/agents/agent-demo/execute", { task: "chaos", parameters: { delay_ms: 1500 } }, ASYNC);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(res.status).toBe(202);
    const body = await res.json<Accepted>();
    expect(body.run_id).toMatch(/^run_[0-9a-f]{32}$/);
    expect(body).toEqual({
      run_id: body.run_id,
      status: "queued",
      status_url: `/v1/runs/${body.run_id}`,
      request_id: res.headers.get("X-Request-Id"),
    });
    expect(res.headers.get("Location")).toBe(`/v1/runs/${body.run_id}`);
    expect(res.headers.get("Preference-Applied")).toBe("respond-async");

    const done = await until(body.run_id, final);
    expect(done).toMatchObject({
      run_id: body.run_id,
      agent: "agent-demo",
      task: "chaos",
      status: "succeeded",
      served_by: "agent-demo",
      request_id: body.request_id,
    });
    expect(done.result).toBeDefined();
    expect(done.attempts).toBe(1);
    expect(Date.parse(done.started_at!)).toBeGreaterThanOrEqual(Date.parse(done.created_at));
    expect(Date.parse(done.finished_at!) - Date.parse(done.started_at!)).toBeGreaterThanOrEqual(1400);

    // The creating request and the execution share one timeline in the request log; the execution is traced.
    type Logged = { path: string; status: number; agent: string | null; trace_id: string | null; timeline: unknown[] };
    const logged = await pollUntil(
      async () =>
        (await SELF.fetch(`${BASE}/v1/requests/${body.request_id}`, { headers: { "X-API-Key": ADMIN_KEY } })).json<{
          requests?: Logged[];
        }>(),
      (r) => (r.requests?.length ?? 0) >= 2,
      50,
      100,
    );
    const execution = logged.requests!.find((r) => r.path === `/v1/runs/${body.run_id}/execution`);
    expect(execution).toMatchObject({ status: 200, agent: "agent-demo" });
    expect(execution!.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(execution!.timeline).toHaveLength(1);
    expect(logged.requests!.find((r) => r.path === "/agents/agent-demo/execute")).toMatchObject({ status: 202 });
  });

  it("outlives the synchronous deadline (5 s here): a 6 s call fails in sync and succeeds as a run", async () => {
    const sync = await post("/agents/agent-demo/execute", { task: "chaos", parameters: { delay_ms: 6000 } });
    await expectError(sync, 504, "UPSTREAM_TIMEOUT");
    const { run_id } = await start("chaos", { delay_ms: 6000 });
    const done = await until(run_id, final, 12);
    expect(done.status).toBe("succeeded");
  }, 30_000);

  it("works on POST /execute, routed by task", async () => {
    const res = await post("/execute", { task: "chaos", parameters: {} }, ASYNC);
    expect(res.status).toBe(202);
    const { run_id } = await res.json<Accepted>();
    const done = await until(run_id, final);
    expect(done).toMatchObject({ status: "succeeded", agent: "agent-demo", task: "chaos" });
    // A task two agents offer needs the agent named, as in a synchronous call.
    await expectError(await post("/execute", { task: "echo", parameters: {} }, ASYNC), 400, "AMBIGUOUS_TASK");
  });

  it("ignores a Prefer it does not know (RFC 7240) and honours respond-async among others", async () => {
    const sync = await post(
      "/agents/agent-demo/execute",
      { task: "echo", parameters: { text: "x" } },
      { Prefer: "respond-asynchronously, wait" },
    );
    expect(sync.status).toBe(200);
    const garbage = await post(
      "/agents/agent-demo/execute",
      { task: "echo", parameters: { text: "x" } },
      { Prefer: ";;==,," },
    );
    expect(garbage.status).toBe(200);
    const mixed = await post(
      "/agents/agent-demo/execute",
      { task: "echo", parameters: { text: "x" } },
      { Prefer: "return=minimal, wait=10, RESPOND-ASYNC" },
    );
    expect(mixed.status).toBe(202);
  });

  it("checks routing and scopes at creation, as a synchronous call would", async () => {
    await expectError(
      await post("/agents/agent-demo/execute", { task: "nope", parameters: {} }, ASYNC),
      404,
      "TASK_NOT_FOUND",
    );
    await expectError(
      await post("/agents/nobody/execute", { task: "echo", parameters: {} }, ASYNC),
      404,
      "AGENT_NOT_FOUND",
    );
    await expectError(await post("/agents/agent-demo/execute", { task: 7 }, ASYNC), 400, "INVALID_REQUEST");
  });

  it("refuses a callback without respond-async", async () => {
    const res = await post("/agents/agent-demo/execute", {
      task: "echo",
      parameters: {},
      callback: { url: "https://example.com/hook" },
    });
    const err = await expectError(res, 400, "INVALID_REQUEST");
    expect(err.error).toMatch(/Prefer: respond-async/);
  });
});

describe("a run that fails", () => {
  it("ends failed with the error a synchronous call gets, in Zahara's error shape, and the attempts it made", async () => {
    const sync = await (
      await post("/agents/agent-demo/execute", { task: "chaos", parameters: { fail_status: 500 } })
    ).json<{ code: string }>();
    const { run_id, request_id } = await start("chaos", { fail_status: 500 });
    const done = await until(run_id, final);
    expect(done.status).toBe("failed");
    expect(done.result).toBeUndefined();
    expect(done.error).toMatchObject({ code: sync.code, status: 502, request_id });
    expect(typeof done.error!.error).toBe("string");
    expect(done.attempts).toBeGreaterThanOrEqual(1);
  });
});

describe("reading a run", () => {
  it("is for its creator and admins only: anyone else gets 404, as for an unknown id", async () => {
    const { run_id } = await start("echo", { text: "mine" });
    await expectError(await get(`/v1/runs/${run_id}`, { "X-API-Key": HASHED_KEY }), 404, "RUN_NOT_FOUND");
    await expectError(await post(`/v1/runs/${run_id}/cancel`, {}, { "X-API-Key": HASHED_KEY }), 404, "RUN_NOT_FOUND");
    await expectError(await get(`/v1/runs/${run_id}/events`, { "X-API-Key": HASHED_KEY }), 404, "RUN_NOT_FOUND");
    await expectError(await get(`/v1/runs/run_${"0".repeat(32)}`), 404, "RUN_NOT_FOUND");
    await expectError(await get("/v1/runs/not-a-run-id"), 404, "RUN_NOT_FOUND");
    await expectError(await get(`/v1/runs/${run_id}`, { "X-API-Key": "wrong" }), 401, "UNAUTHORIZED");
    expect((await read(run_id, ADMIN_KEY)).run_id).toBe(run_id);
  });

  it("streams status changes as server-sent events until the run ends", async () => {
    const { run_id } = await start("chaos", { delay_ms: 800 });
    const res = await get(`/v1/runs/${run_id}/events`, { Accept: "text/event-stream" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/event-stream/);
    const parser = new SseParser();
    const seen: RunView[] = [];
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const event of parser.push(value)) {
        expect(event.event).toBe("status");
        seen.push(JSON.parse(event.data) as RunView);
      }
    }
    const statuses = seen.map((r) => r.status);
    expect(statuses.at(-1)).toBe("succeeded");
    expect(statuses).toContain("running");
    expect(seen.at(-1)!.result).toBeDefined();
    // A finished run's stream is its final state, then the end.
    const again = await (await get(`/v1/runs/${run_id}/events`)).text();
    expect(again.match(/^event: status$/gm)).toHaveLength(1);
  });
});

describe("listing runs", () => {
  it("pages through the caller's own runs, newest first, filtered by status and agent", async () => {
    const other = await start("echo", { text: "someone else's" }, { "X-API-Key": HASHED_KEY });
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) mine.push((await start("echo", { text: `run ${i}` })).run_id);
    await Promise.all(mine.map((id) => until(id, final)));
    type Page = { runs: RunView[]; next_cursor?: string };
    const ids = async (query: string, key = KEY): Promise<string[]> => {
      const out: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await get(`/v1/runs?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
          "X-API-Key": key,
        });
        expect(res.status).toBe(200);
        const page = await res.json<Page>();
        expect(page.runs.length).toBeLessThanOrEqual(2);
        for (const r of page.runs) expect(r.result).toBeUndefined();
        out.push(...page.runs.map((r) => r.run_id));
        cursor = page.next_cursor;
      } while (cursor);
      return out;
    };
    const listed = await pollUntil(
      () => ids("limit=2&status=succeeded&agent=agent-demo"),
      (l) => mine.every((id) => l.includes(id)),
    );
    expect(listed.indexOf(mine[2]!)).toBeLessThan(listed.indexOf(mine[0]!));
    expect(listed).not.toContain(other.run_id);
    expect(await ids("limit=2&status=cancelled")).not.toContain(mine[0]);
    expect(await ids("limit=2", ADMIN_KEY)).toEqual(expect.arrayContaining([...mine, other.run_id]));
  });

  it("answers 400 naming a bad filter", async () => {
    for (const q of ["status=done", "limit=0", "limit=101", "limit=x", "cursor=%%%", "colour=red"]) {
      await expectError(await get(`/v1/runs?${q}`), 400, "INVALID_REQUEST");
    }
  });
});

describe("Idempotency-Key on creation", () => {
  it("gives the same run for the same key and body, racing or not; another body is 422", async () => {
    const headers = { "Idempotency-Key": `idem-${crypto.randomUUID()}` };
    const body = { task: "echo", parameters: { text: "once" } };
    const [a, b] = await Promise.all([
      post("/agents/agent-demo/execute", body, { ...ASYNC, ...headers }),
      post("/agents/agent-demo/execute", body, { ...ASYNC, ...headers }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const [ra, rb] = [await a.json<Accepted>(), await b.json<Accepted>()];
    expect(ra.run_id).toBe(rb.run_id);
    const again = await post("/agents/agent-demo/execute", body, { ...ASYNC, ...headers });
    expect(again.status).toBe(202);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await again.json<Accepted>()).run_id).toBe(ra.run_id);
    const other = await post(
      "/agents/agent-demo/execute",
      { ...body, parameters: { text: "twice" } },
      { ...ASYNC, ...headers },
    );
    await expectError(other, 422, "IDEMPOTENCY_KEY_REUSED");
    // Another principal's same key is another run.
    const theirs = await start("echo", { text: "once" }, { ...headers, "X-API-Key": HASHED_KEY });
    expect(theirs.run_id).not.toBe(ra.run_id);
  });
});

describe("cancelling a run", () => {
  it("aborts a running call, which ends at once on the agent; a second cancel is 409", async () => {
    const { run_id } = await start("chaos", { delay_ms: 20_000 });
    await until(run_id, (r) => r.status === "running");
    const res = await post(`/v1/runs/${run_id}/cancel`, {});
    expect(res.status).toBe(200);
    const view = await res.json<RunView>();
    expect(view).toMatchObject({ status: "cancelled", error: { code: "RUN_CANCELLED" } });
    const err = await expectError(await post(`/v1/runs/${run_id}/cancel`, {}), 409, "RUN_FINISHED");
    expect(err.details).toEqual({ status: "cancelled" });
    // The execution's request-log row: the call ended within moments of the cancel, not after 20 s.
    const row = await pollUntil(
      async () => {
        const r = await SELF.fetch(`${BASE}/v1/requests?limit=50`, { headers: { "X-API-Key": ADMIN_KEY } });
        const page = await r.json<{ requests: { path: string; duration_ms: number; status: number }[] }>();
        return page.requests.find((q) => q.path === `/v1/runs/${run_id}/execution`);
      },
      (r) => r !== undefined,
      60,
      100,
    );
    expect(row, "the execution's row").toBeDefined();
    expect(row!.duration_ms).toBeLessThan(5000);
    expect((await read(run_id)).status).toBe("cancelled");
  });

  it("of a queued or running run races completion with exactly one final state", async () => {
    for (const delay of [0, 50, 150, 300]) {
      const { run_id } = await start("chaos", { delay_ms: 200 });
      await new Promise((r) => setTimeout(r, delay));
      const res = await post(`/v1/runs/${run_id}/cancel`, {});
      expect([200, 409]).toContain(res.status);
      const settled = await until(run_id, final);
      await new Promise((r) => setTimeout(r, 400));
      const later = await read(run_id);
      expect(later.status).toBe(settled.status);
      expect(later.status).toBe(res.status === 200 ? "cancelled" : "succeeded");
      if (later.status === "cancelled") expect(later.result).toBeUndefined();
    }
  });
});
