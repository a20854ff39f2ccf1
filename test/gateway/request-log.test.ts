/**
 * The D1 request log end to end: requests through the real gateway (real
 * agents, real guards) are written after their responses to the real D1,
 * read back through the admin API, and purged by the cron trigger.
 */
import { SELF, createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createAgentWorker } from "../../workers/agent-runtime/src";
import worker from "../../workers/gateway/src/index";
import { MANIFESTS } from "../../workers/generated";
import { decodeCursor, encodeCursor } from "../../workers/gateway/src/request-log/queries";
import {
  DEFAULT_RETENTION_DAYS,
  purgeOldRequests,
  retentionDays,
  runRetention,
} from "../../workers/gateway/src/request-log/retention";
import {
  type AttemptRow,
  type RequestLogEntry,
  type RequestRow,
  insertStatements,
  traceIdFromTraceparent,
} from "../../workers/gateway/src/request-log/writer";
import { guardOf } from "./guards";
import { ADMIN_KEY, BASE, HASHED_KEY, KEY, expectError, get, pollUntil, post } from "./helpers";

const admin = (path: string) => get(path, { "X-API-Key": ADMIN_KEY });
const db = () => env.REQUEST_LOG;

async function resetGuards() {
  for (const agent of ["agent-demo", "agent-custom"]) await guardOf(agent).resetAll();
}

type StoredRequest = RequestRow;
type StoredAttempt = AttemptRow;
interface ApiAttempt {
  agent: string;
  attempt: number;
  status: number;
  code?: string;
  admission: string;
  latency_ms: number;
  backoff_ms: number;
}
/** A timeline entry: an attempt with the agent's own spans. */
type TimelineAttempt = ApiAttempt & { n: number; spans: { name: string; start: number; dur: number; desc?: string }[] };

/** Rows whose request id starts with `prefix`. */
async function rowsWithPrefix(prefix: string): Promise<StoredRequest[]> {
  const { results } = await db()
    .prepare("SELECT * FROM requests WHERE request_id LIKE ? ORDER BY request_id")
    .bind(`${prefix}%`)
    .all<StoredRequest>();
  return results;
}

/** Writes happen after the responses (waitUntil): polls until `count` rows with `prefix` exist (or 10 s pass). */
async function untilRows(prefix: string, count: number): Promise<StoredRequest[]> {
  return pollUntil(
    () => rowsWithPrefix(prefix),
    (rows) => rows.length >= count,
    200,
    50,
  );
}

/** The attempts of every row that carried `requestId`, in each row's order. */
async function attemptsOf(requestId: string): Promise<StoredAttempt[]> {
  const { results } = await db()
    .prepare(
      "SELECT a.* FROM request_attempts a JOIN requests r ON r.log_id = a.log_id WHERE r.request_id = ? ORDER BY a.log_id, a.n",
    )
    .bind(requestId)
    .all<StoredAttempt>();
  return results;
}

/** What the caller saw for one request. */
interface Seen {
  status: number;
  code: string | null;
  attempts?: ApiAttempt[];
  servedBy?: string;
}

async function seen(res: Response): Promise<Seen> {
  const text = await res.text();
  let body: { code?: string; served_by?: string; details?: { attempts?: ApiAttempt[] } } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: nothing more to record
  }
  return {
    status: res.status,
    code: res.status >= 400 ? (body.code ?? null) : null,
    ...(body.details?.attempts ? { attempts: body.details.attempts } : {}),
    ...(body.served_by ? { servedBy: body.served_by } : {}),
  };
}

describe("request log: nothing lost", () => {
  const P = "nl-";
  const N = 40;
  const outcomes = new Map<string, Seen>();
  const expected = new Map<string, number | number[]>();
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  beforeAll(async () => {
    const echo = { task: "echo", parameters: { hello: "world" } };
    const chaos = (parameters: Record<string, unknown>) => ({ task: "chaos", parameters });
    type Case = [
      id: string,
      expect: number | number[],
      send: (id: string) => Promise<Response>,
      before?: () => Promise<unknown>,
    ];
    const h = (id: string, extra: Record<string, string> = {}) => ({ "X-Request-Id": id, ...extra });
    // Through the admin route, so this isolate's leases are dropped at once (another isolate's within a lease TTL).
    const openDemo = async () =>
      void (await (
        await SELF.fetch(`${BASE}/v1/agents/agent-demo/breaker/open`, {
          method: "POST",
          headers: { "X-API-Key": ADMIN_KEY },
        })
      ).arrayBuffer());
    const cases: Case[] = [
      ["echo-custom-1", 200, (id) => post("/execute", { ...echo, agent: "agent-custom" }, h(id))],
      [
        "echo-custom-2",
        200,
        (id) => post("/execute", { ...echo, agent: "agent-custom" }, h(id, { "X-API-Key": HASHED_KEY })),
      ],
      ["chaos-404-1", 404, (id) => post("/agents/agent-demo/execute", chaos({ fail_status: 404 }), h(id))],
      ["chaos-404-2", 404, (id) => post("/agents/agent-demo/execute", chaos({ fail_status: 404 }), h(id))],
      ["invalid-body-1", 400, (id) => post("/execute", { parameters: {} }, h(id))],
      ["invalid-body-2", 400, (id) => post("/execute", "{not json", h(id))],
      ["unknown-agent-1", 404, (id) => post("/agents/agent-nope/execute", echo, h(id))],
      ["unknown-agent-2", 404, (id) => post("/agents/agent-nope/execute", echo, h(id))],
      [
        "no-key-1",
        401,
        (id) =>
          SELF.fetch(`${BASE}/execute`, {
            method: "POST",
            headers: h(id, { "Content-Type": "application/json" }),
            body: JSON.stringify(echo),
          }),
      ],
      ["no-key-2", 401, (id) => SELF.fetch(`${BASE}/agents`, { headers: h(id) })],
      ["wrong-key", 401, (id) => post("/execute", echo, h(id, { "X-API-Key": "not-a-key" }))],
      [
        "too-large",
        413,
        (id) => post("/agents/agent-demo/execute", { task: "echo", parameters: { pad: "x".repeat(5000) } }, h(id)),
      ],
      ["no-route", 404, (id) => get("/nowhere", h(id))],
      ["wrong-method", 405, (id) => get("/execute", h(id))],
      ["agent-501-1", 502, (id) => post("/agents/agent-demo/execute", chaos({ fail_status: 501 }), h(id))],
      ["agent-501-2", 502, (id) => post("/agents/agent-demo/execute", chaos({ fail_status: 501 }), h(id))],
      ["agent-501-3", 502, (id) => post("/agents/agent-demo/execute", chaos({ fail_status: 501 }), h(id))],
      ["agent-501-4", 502, (id) => post("/agents/agent-demo/execute", chaos({ fail_status: 501 }), h(id))],
      // Retried with jittered backoff under a 1.5 s deadline: 502 when the last sleep is skipped, 504 if an attempt runs into the deadline.
      [
        "agent-500-retried-1",
        [502, 504],
        (id) => post("/agents/agent-demo/execute", chaos({ fail_status: 500 }), h(id, { "X-Timeout-Ms": "1500" })),
      ],
      [
        "agent-500-retried-2",
        [502, 504],
        (id) => post("/agents/agent-demo/execute", chaos({ fail_status: 500 }), h(id, { "X-Timeout-Ms": "1500" })),
      ],
      [
        "timeout-1",
        504,
        (id) => post("/agents/agent-demo/execute", chaos({ delay_ms: 2000 }), h(id, { "X-Timeout-Ms": "200" })),
      ],
      [
        "timeout-2",
        504,
        (id) => post("/agents/agent-demo/execute", chaos({ delay_ms: 2000 }), h(id, { "X-Timeout-Ms": "200" })),
      ],
      [
        "timeout-3",
        504,
        (id) => post("/agents/agent-demo/execute", chaos({ delay_ms: 2000 }), h(id, { "X-Timeout-Ms": "200" })),
      ],
      [
        "timeout-4",
        504,
        (id) => post("/agents/agent-demo/execute", chaos({ delay_ms: 2000 }), h(id, { "X-Timeout-Ms": "200" })),
      ],
      ["breaker-1", 503, (id) => post("/agents/agent-demo/execute", chaos({}), h(id)), openDemo],
      ["breaker-2", 503, (id) => post("/agents/agent-demo/execute", chaos({}), h(id)), openDemo],
      ["breaker-3", 503, (id) => post("/execute", chaos({}), h(id)), openDemo],
      ["breaker-4", 503, (id) => post("/execute", chaos({}), h(id)), openDemo],
      ["breaker-fallback-1", 200, (id) => post("/agents/agent-demo/execute", echo, h(id)), openDemo],
      ["breaker-fallback-2", 200, (id) => post("/agents/agent-demo/execute", echo, h(id)), openDemo],
      ["traced", 200, (id) => post("/agents/agent-demo/execute", echo, h(id, { traceparent }))],
      ["list-agents", 200, (id) => get("/agents", h(id))],
    ];
    // A burst of concurrent successes first (their writes overlap), then each case on fresh guards.
    await resetGuards();
    const burst = Array.from({ length: N - cases.length }, (_, i) => `${P}echo-burst-${i + 1}`);
    const burstResponses = await Promise.all(burst.map((id) => post("/agents/agent-demo/execute", echo, h(id))));
    for (const [i, res] of burstResponses.entries()) {
      outcomes.set(burst[i]!, await seen(res));
      expected.set(burst[i]!, 200);
    }
    for (const [name, status, send, before] of cases) {
      const id = `${P}${name}`;
      await resetGuards();
      await before?.();
      outcomes.set(id, await seen(await send(id)));
      expected.set(id, status);
    }
    await resetGuards();
  }, 60_000);

  it(`fires ${N} requests (successes, 4xx, agent failures, timeouts, breaker rejections) with the expected outcomes`, () => {
    expect(outcomes.size).toBe(N);
    for (const [id, want] of expected) {
      const got = outcomes.get(id)!;
      if (Array.isArray(want)) expect(want, id).toContain(got.status);
      else expect(got.status, id).toBe(want);
    }
  });

  it(`finds exactly ${N} rows, with matching ids and statuses and error codes`, async () => {
    const rows = await untilRows(P, N);
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.request_id))).toEqual(new Set(outcomes.keys()));
    for (const row of rows) {
      const got = outcomes.get(row.request_id)!;
      expect(row.status, row.request_id).toBe(got.status);
      expect(row.code, row.request_id).toBe(got.code);
      expect(row.duration_ms).toBeGreaterThanOrEqual(0);
      expect(row.ts).toBeGreaterThan(Date.now() - 120_000);
    }
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect(byId.get(`${P}no-key-1`)).toMatchObject({
      status: 401,
      code: "UNAUTHORIZED",
      key_id: null,
      method: "POST",
      path: "/execute",
    });
    expect(byId.get(`${P}too-large`)).toMatchObject({ status: 413, code: "PAYLOAD_TOO_LARGE" });
    expect(byId.get(`${P}no-route`)).toMatchObject({ status: 404, code: "NOT_FOUND", method: "GET", path: "/nowhere" });
    expect(byId.get(`${P}unknown-agent-1`)).toMatchObject({ status: 404, code: "AGENT_NOT_FOUND" });
    expect(byId.get(`${P}breaker-1`)).toMatchObject({
      status: 503,
      code: "CIRCUIT_OPEN",
      agent: "agent-demo",
      task: "chaos",
    });
    expect(byId.get(`${P}timeout-1`)).toMatchObject({ status: 504, code: "UPSTREAM_TIMEOUT" });
    expect(byId.get(`${P}breaker-fallback-1`)).toMatchObject({
      status: 200,
      code: null,
      agent: "agent-demo",
      served_by: "agent-custom",
      task: "echo",
    });
    expect(byId.get(`${P}echo-custom-1`)).toMatchObject({
      agent: "agent-custom",
      served_by: "agent-custom",
      key_id: expect.stringMatching(/^key_[0-9a-f]{12}$/),
    });
    // Two different keys, two different ids; the keys themselves are stored nowhere.
    expect(byId.get(`${P}echo-custom-2`)!.key_id).not.toBe(byId.get(`${P}echo-custom-1`)!.key_id);
    const dump =
      JSON.stringify(rows) + JSON.stringify((await db().prepare("SELECT * FROM request_attempts").all()).results);
    expect(dump).not.toContain(KEY);
    expect(dump).not.toContain(HASHED_KEY);
    // The W3C traceparent's trace id; none without one (tracing may also set it).
    expect(byId.get(`${P}traced`)!.trace_id).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("stores each attempt with its status, latency, backoff and admission decision, as the caller saw them", async () => {
    await untilRows(P, N);
    for (const [id, got] of outcomes) {
      const stored = await attemptsOf(id);
      expect(stored.map((a) => a.n)).toEqual(stored.map((_, i) => i + 1));
      if (got.attempts) {
        expect(
          stored.map(({ agent, attempt, status, code, admission, latency_ms, backoff_ms }) => ({
            agent,
            attempt,
            status,
            code,
            admission,
            latency_ms,
            backoff_ms,
          })),
          id,
        ).toEqual(
          got.attempts.map((a) => ({
            ...a,
            code: a.code ?? null,
            latency_ms: Math.round(a.latency_ms),
            backoff_ms: Math.round(a.backoff_ms),
          })),
        );
      }
    }
    const one = async (name: string) => attemptsOf(`${P}${name}`);
    expect(await one("agent-501-1")).toMatchObject([
      { agent: "agent-demo", attempt: 1, status: 501, admission: "admitted", backoff_ms: 0 },
    ]);
    expect(await one("timeout-1")).toMatchObject([
      { agent: "agent-demo", attempt: 1, status: 0, admission: "admitted", backoff_ms: 0 },
    ]);
    expect(await one("breaker-1")).toMatchObject([
      { agent: "agent-demo", attempt: 1, status: 0, admission: "circuit_open", latency_ms: 0 },
    ]);
    expect(await one("breaker-fallback-1")).toMatchObject([
      { agent: "agent-demo", attempt: 1, status: 0, admission: "circuit_open" },
      { agent: "agent-custom", attempt: 1, status: 200, admission: "admitted" },
    ]);
    expect(await one("echo-burst-1")).toMatchObject([
      { agent: "agent-demo", attempt: 1, status: 200, admission: "admitted", backoff_ms: 0 },
    ]);
    const retried = await one("agent-500-retried-1");
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(retried[0]).toMatchObject({ status: 500, admission: "admitted", backoff_ms: 0 });
    for (const a of retried.slice(1)) expect(a.backoff_ms).toBeGreaterThanOrEqual(0);
    // Requests refused before any agent call have no attempts.
    for (const name of ["no-key-1", "too-large", "invalid-body-1", "unknown-agent-1", "no-route", "list-agents"])
      expect(await one(name)).toEqual([]);
  });

  it("GET /v1/requests/:id returns the request and its timeline", async () => {
    await untilRows(P, N);
    const res = await admin(`/v1/requests/${P}breaker-fallback-1`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as {
      request_id: string;
      requests: (StoredRequest & { time: string; attempts: number; timeline: TimelineAttempt[] })[];
    };
    expect(page.request_id).toBe(`${P}breaker-fallback-1`);
    expect(page.requests).toHaveLength(1);
    const body = page.requests[0]!;
    expect(body.log_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toMatchObject({
      request_id: `${P}breaker-fallback-1`,
      status: 200,
      agent: "agent-demo",
      served_by: "agent-custom",
      task: "echo",
      attempts: 2,
    });
    expect(new Date(body.time).getTime()).toBe(body.ts);
    expect(body.timeline).toMatchObject([
      { n: 1, agent: "agent-demo", attempt: 1, status: 0, admission: "circuit_open", backoff_ms: 0 },
      { n: 2, agent: "agent-custom", attempt: 1, status: 200, admission: "admitted", backoff_ms: 0 },
    ]);
    // The agent's own spans (its Server-Timing): none for a refused attempt; the served one lists its steps.
    expect(body.timeline[0]!.spans).toEqual([]);
    const served = body.timeline[1]!.spans;
    // No Idempotency-Key from the caller: the agent touched no idempotency store.
    expect(served.map((s) => s.name)).toEqual(["capability", "total"]);
    expect(served.find((s) => s.name === "capability")).toMatchObject({ desc: "echo (code)" });
    const total = served.find((s) => s.name === "total")!;
    for (const s of served) expect(s.start + s.dur).toBeLessThanOrEqual(total.dur + 1);
    expect(total.dur).toBeLessThanOrEqual(body.timeline[1]!.latency_ms + 1);

    const retried = (
      (await (await admin(`/v1/requests/${P}agent-500-retried-1`)).json()) as {
        requests: { timeline: TimelineAttempt[] }[];
      }
    ).requests[0]!;
    expect(
      retried.timeline.map(({ agent, attempt, status, admission, backoff_ms }) => ({
        agent,
        attempt,
        status,
        admission,
        backoff_ms,
      })),
    ).toEqual(
      outcomes.get(`${P}agent-500-retried-1`)!.attempts!.map(({ agent, attempt, status, admission, backoff_ms }) => ({
        agent,
        attempt,
        status,
        admission,
        backoff_ms: Math.round(backoff_ms),
      })),
    );
    // A failed step is marked; the caller's error details never carry the agent's spans.
    for (const a of retried.timeline)
      expect(a.spans.find((s) => s.name === "capability")).toMatchObject({ desc: "chaos (code), failed" });
    for (const a of outcomes.get(`${P}agent-500-retried-1`)!.attempts!) expect(a).not.toHaveProperty("spans");
    await expectError(await admin(`/v1/requests/${P}never-sent`), 404, "REQUEST_NOT_FOUND");
    await expectError(await admin("/v1/requests/bad%20id"), 400, "INVALID_REQUEST");
  });
});

describe("request log: writing attempts", () => {
  it("stores any number of attempts (ten per INSERT, under D1's 100 parameters), in order, with their spans", async () => {
    const id = `many-${crypto.randomUUID()}`;
    const logId = crypto.randomUUID();
    const attempts: AttemptRow[] = Array.from({ length: 23 }, (_, i) => ({
      log_id: logId,
      n: i + 1,
      agent: "agent-demo",
      attempt: i + 1,
      status: 503,
      code: "X",
      admission: "admitted",
      latency_ms: i,
      backoff_ms: 1,
      spans: i === 22 ? '[{"name":"total","start":0,"dur":1}]' : null,
    }));
    const request: RequestRow = {
      log_id: logId,
      request_id: id,
      ts: Date.now(),
      key_id: null,
      agent: "agent-demo",
      served_by: null,
      task: "echo",
      method: "POST",
      path: "/execute",
      status: 502,
      code: "UPSTREAM_FAILED",
      duration_ms: 300,
      trace_id: null,
      protocol: "http",
      tokens: null,
      ttfb_ms: null,
      bytes_out: null,
      pii_kinds: null,
    };
    const statements = insertStatements(db(), { request, attempts });
    expect(statements).toHaveLength(4); // the request row and three INSERTs of attempts: inserts only, never a DELETE
    await db().batch(statements);
    type Page = { requests: { log_id: string; attempts: number; timeline: TimelineAttempt[] }[] };
    const body = ((await (await admin(`/v1/requests/${id}`)).json()) as Page).requests[0]!;
    expect(body.attempts).toBe(23);
    expect(body.timeline.map((a) => a.n)).toEqual(attempts.map((a) => a.n));
    expect(body.timeline[22]!.spans).toEqual([{ name: "total", start: 0, dur: 1 }]);
    // Writing the same entry again (a redelivery) changes nothing.
    await db().batch(insertStatements(db(), { request, attempts: attempts.slice(0, 2) }));
    expect(((await (await admin(`/v1/requests/${id}`)).json()) as Page).requests.map((r) => r.attempts)).toEqual([23]);
    // Another request under the same id is a row of its own, listed first (newest); the first keeps its attempts.
    const second = crypto.randomUUID();
    await db().batch(
      insertStatements(db(), {
        request: { ...request, log_id: second, ts: request.ts + 1 },
        attempts: attempts.slice(0, 2).map((a) => ({ ...a, log_id: second })),
      }),
    );
    expect(
      ((await (await admin(`/v1/requests/${id}`)).json()) as Page).requests.map((r) => [r.log_id, r.attempts]),
    ).toEqual([
      [second, 2],
      [logId, 23],
    ]);
  });
});

describe("request log: GET /v1/requests", () => {
  const AGENT = "seed-agent";
  const T0 = Date.UTC(2001, 0, 1);
  /** 25 seeded requests, three per millisecond (so the request id breaks ties), statuses cycling. */
  const seeded = Array.from({ length: 25 }, (_, i) => ({
    id: `seed-${String(i).padStart(2, "0")}`,
    ts: T0 + Math.floor(i / 3) * 1000,
    status: [200, 404, 502, 503, 200][i % 5]!,
  }));
  const entry = (id: string, ts: number, status: number, agent = AGENT): RequestLogEntry => ({
    request: {
      log_id: id,
      request_id: id,
      ts,
      key_id: "key_000000000000",
      agent,
      served_by: agent,
      task: "echo",
      method: "POST",
      path: "/execute",
      status,
      code: status >= 400 ? "X" : null,
      duration_ms: 5,
      trace_id: null,
      protocol: "http",
      tokens: null,
      ttfb_ms: null,
      bytes_out: null,
      pii_kinds: null,
    },
    attempts: [
      {
        log_id: id,
        n: 1,
        agent,
        attempt: 1,
        status,
        code: null,
        admission: "admitted",
        latency_ms: 4,
        backoff_ms: 0,
        spans: null,
      },
    ],
  });

  beforeAll(async () => {
    await db().batch(seeded.flatMap((s) => insertStatements(db(), entry(s.id, s.ts, s.status))));
  });

  async function walk(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const params = new URLSearchParams(query);
      params.set("limit", String(limit));
      if (cursor) params.set("cursor", cursor);
      const res = await admin(`/v1/requests?${params}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { requests: StoredRequest[]; next_cursor: string | null };
      expect(page.requests.length).toBeLessThanOrEqual(limit);
      ids.push(...page.requests.map((r) => r.request_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 100);
    return { ids, pages };
  }

  const newestFirst = (rows: typeof seeded) =>
    [...rows].sort((a, b) => b.ts - a.ts || (a.id < b.id ? 1 : -1)).map((s) => s.id);

  it("pages through every row exactly once, newest first (ts, then log id), with an opaque cursor", async () => {
    const { ids, pages } = await walk(`agent=${AGENT}`, 4);
    expect(ids).toEqual(newestFirst(seeded));
    expect(pages).toBe(7);
    const first = (await (await admin(`/v1/requests?agent=${AGENT}&limit=4`)).json()) as {
      requests: (StoredRequest & { attempts: number; time: string })[];
    };
    expect(first.requests[0]).toMatchObject({
      request_id: "seed-24",
      agent: AGENT,
      attempts: 1,
      time: new Date(seeded[24]!.ts).toISOString(),
    });
  });

  it("filters by status (exact or class), since (ISO or epoch ms) and agent, combined with pagination", async () => {
    expect((await walk(`agent=${AGENT}&status=404`, 2)).ids).toEqual(
      newestFirst(seeded.filter((s) => s.status === 404)),
    );
    expect((await walk(`agent=${AGENT}&status=5xx`, 3)).ids).toEqual(
      newestFirst(seeded.filter((s) => s.status >= 500)),
    );
    const since = T0 + 5000;
    const later = newestFirst(seeded.filter((s) => s.ts >= since));
    expect((await walk(`agent=${AGENT}&since=${since}`, 5)).ids).toEqual(later);
    expect((await walk(`agent=${AGENT}&since=${new Date(since).toISOString()}`, 50)).ids).toEqual(later);
    expect((await walk(`agent=${AGENT}&status=2xx&since=${since}`, 50)).ids).toEqual(
      newestFirst(seeded.filter((s) => s.ts >= since && s.status === 200)),
    );
    expect((await walk("agent=no-such-agent", 10)).ids).toEqual([]);
  });

  it("kind=calls keeps only agent calls (execute routes), not admin or listing requests", async () => {
    const id = `kind-${crypto.randomUUID()}`;
    await SELF.fetch(`${BASE}/agents`, { headers: { "X-API-Key": KEY, "X-Request-Id": `${id}-list` } });
    await SELF.fetch(`${BASE}/agents/agent-demo/execute`, {
      method: "POST",
      headers: { "X-API-Key": KEY, "X-Request-Id": `${id}-call`, "Content-Type": "application/json" },
      body: JSON.stringify({ task: "echo", parameters: {} }),
    });
    const both = await pollUntil(
      async () => (await walk("", 200)).ids,
      (ids) => ids.includes(`${id}-list`) && ids.includes(`${id}-call`),
    );
    expect(both).toEqual(expect.arrayContaining([`${id}-list`, `${id}-call`]));
    const calls = (await walk("kind=calls", 200)).ids;
    expect(calls).toContain(`${id}-call`);
    expect(calls).not.toContain(`${id}-list`);
    await expectError(await admin("/v1/requests?kind=some"), 400, "INVALID_REQUEST");
  });

  it("without filters, walks the whole log once (rows logged during the walk are newer than its cursor)", async () => {
    const before = (await db().prepare("SELECT request_id FROM requests").all<{ request_id: string }>()).results.map(
      (r) => r.request_id,
    );
    const all = await walk("", 7);
    for (const id of before) expect(all.ids).toContain(id);
    expect(all.ids.length).toBeGreaterThanOrEqual(before.length);
  });

  it("refuses bad query parameters with 400 INVALID_REQUEST naming each one", async () => {
    const res = await admin("/v1/requests?status=abc&limit=0&cursor=!!&since=yesterday&colour=red");
    const body = await expectError(res, 400, "INVALID_REQUEST");
    const fields = (body.details?.fields as { field: string }[]).map((f) => f.field).sort();
    expect(fields).toEqual(["colour", "cursor", "limit", "since", "status"]);
    await expectError(await admin("/v1/requests?limit=201"), 400, "INVALID_REQUEST");
    await expectError(await admin(`/v1/requests?cursor=${btoa("not-a-cursor")}`), 400, "INVALID_REQUEST");
  });

  it("cursors are base64url of ts:log_id", () => {
    const c = encodeCursor({ ts: 1_700_000_000_123, logId: "a:b.c-d_e" });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c)).toEqual({ ts: 1_700_000_000_123, logId: "a:b.c-d_e" });
    expect(decodeCursor("%%%")).toBeNull();
  });

  it("is admin-only: 401 without a key or with a wrong one, 403 with a caller key", async () => {
    for (const path of ["/v1/requests", "/v1/requests/seed-00"]) {
      await expectError(await SELF.fetch(`${BASE}${path}`), 401, "UNAUTHORIZED");
      await expectError(await get(path, { "X-API-Key": "wrong" }), 401, "UNAUTHORIZED");
      await expectError(await get(path), 403, "FORBIDDEN");
      expect((await admin(path)).status).toBe(200);
    }
  });
});

describe("request log: a D1 fault never fails a request", () => {
  afterEach(async () => {
    // Put the table back if a test broke it.
    const broken = await db()
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'requests_broken'")
      .first();
    if (broken) await db().exec("ALTER TABLE requests_broken RENAME TO requests");
    vi.restoreAllMocks();
  });

  it("answers normally while the log's table is missing, logs the failed write, and the admin read is a 503 LOG_UNAVAILABLE", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    await db().exec("ALTER TABLE requests RENAME TO requests_broken");
    const res = await post(
      "/agents/agent-demo/execute",
      { task: "echo", parameters: { x: 1 } },
      { "X-Request-Id": "fault-1" },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: { x: 1 }, request_id: "fault-1" });
    await expectError(
      await post("/agents/agent-nope/execute", { task: "echo" }, { "X-Request-Id": "fault-2" }),
      404,
      "AGENT_NOT_FOUND",
    );
    for (let i = 0; i < 100 && !errors.some((l) => l.includes("fault-2")); i++)
      await new Promise((r) => setTimeout(r, 20));
    const failed = errors
      .filter((l) => l.includes("request log write failed"))
      .map((l) => JSON.parse(l) as { logged_request_id: string; error: string });
    expect(failed.map((f) => f.logged_request_id)).toEqual(expect.arrayContaining(["fault-1", "fault-2"]));
    const unavailable = await expectError(await admin("/v1/requests"), 503, "LOG_UNAVAILABLE");
    expect(unavailable.error).not.toMatch(/no such table|SQLITE/i);
    // Back to normal: the next request is logged again.
    await db().exec("ALTER TABLE requests_broken RENAME TO requests");
    expect(
      (await post("/agents/agent-demo/execute", { task: "echo", parameters: {} }, { "X-Request-Id": "fault-3" }))
        .status,
    ).toBe(200);
    expect((await untilRows("fault-", 1)).map((r) => r.request_id)).toEqual(["fault-3"]);
  });

  it("a reused X-Request-Id adds a row of its own: the earlier request and its attempts are kept", async () => {
    await post(
      "/agents/agent-demo/execute",
      { task: "chaos", parameters: { fail_status: 501 } },
      { "X-Request-Id": "reused-1" },
    );
    await untilRows("reused-1", 1);
    await post("/agents/agent-nope/execute", { task: "echo" }, { "X-Request-Id": "reused-1" });
    const rows = await untilRows("reused-1", 2);
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.code)).toContain("AGENT_NOT_FOUND");
    expect((await attemptsOf("reused-1")).map((a) => a.status)).toEqual([501]);
  });
});

describe("request log: retention (cron trigger)", () => {
  const DAY = 86_400_000;

  beforeEach(async () => {
    // Deleted counts below are exact: start each test with an empty log.
    await db().batch([db().prepare("DELETE FROM request_attempts"), db().prepare("DELETE FROM requests")]);
  });

  async function seed(prefix: string, ages: number[], now: number) {
    const stmts = ages.flatMap((age, i) =>
      insertStatements(db(), {
        request: {
          log_id: `${prefix}${i}`,
          request_id: `${prefix}${i}`,
          ts: now - age,
          key_id: null,
          agent: "agent-demo",
          served_by: null,
          task: "echo",
          method: "POST",
          path: "/execute",
          status: 200,
          code: null,
          duration_ms: 1,
          trace_id: null,
          protocol: "http",
          tokens: null,
          ttfb_ms: null,
          bytes_out: null,
          pii_kinds: null,
        },
        attempts: [1, 2].map((n) => ({
          log_id: `${prefix}${i}`,
          n,
          agent: "agent-demo",
          attempt: n,
          status: 200,
          code: null,
          admission: "admitted",
          latency_ms: 1,
          backoff_ms: 0,
          spans: null,
        })),
      }),
    );
    await db().batch(stmts);
  }
  const ids = async (prefix: string) => (await rowsWithPrefix(prefix)).map((r) => r.request_id).sort();
  const attemptCount = async (prefix: string) =>
    (await db()
      .prepare("SELECT COUNT(*) AS n FROM request_attempts WHERE log_id LIKE ?")
      .bind(`${prefix}%`)
      .first<{ n: number }>())!.n;

  it("the scheduled handler deletes requests (and their attempts) older than REQUEST_LOG_RETENTION_DAYS (7), nothing newer", async () => {
    const now = Date.now();
    // 0: 8 days old, 1: 7 days + 1 s, 2: 7 days - 1 min, 3: 1 day, 4: now.
    await seed("ret-", [8 * DAY, 7 * DAY + 1000, 7 * DAY - 60_000, DAY, 0], now);
    const ctx = createExecutionContext();
    const handler = worker as ExportedHandler<Env>;
    // As deployed: in local development the scheduled handler does nothing (see the next test).
    await handler.scheduled!(
      createScheduledController({ scheduledTime: now, cron: "17 3 * * *" }),
      { ...env, ZAHARA_ENV: "production" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await ids("ret-")).toEqual(["ret-2", "ret-3", "ret-4"]);
    expect(await attemptCount("ret-")).toBe(6);
  });

  it("the retention is configurable, and purges in bounded chunks (ties at a chunk's edge included)", async () => {
    const now = Date.now();
    await seed("cfg-", [3 * DAY, 2 * DAY, 12 * 3_600_000], now);
    expect(await runRetention({ ...env, REQUEST_LOG_RETENTION_DAYS: "1" }, now)).toMatchObject({
      deleted: 2,
      truncated: false,
    });
    expect(await ids("cfg-")).toEqual(["cfg-2"]);

    // 11 old rows, several in the same millisecond, deleted 3 at a time; the recent one stays.
    await seed("chunk-", [10, 10, 10, 9, 9, 8, 8, 8, 8, 7, 6].map((d) => d * DAY).concat([0]), now);
    expect(await purgeOldRequests(db(), now, 2, 3)).toMatchObject({ deleted: 11, truncated: false });
    expect(await ids("chunk-")).toEqual(["chunk-11"]);
    expect(await attemptCount("chunk-")).toBe(2);
    await seed(
      "cap-",
      [5, 5, 4, 4, 3].map((d) => d * DAY),
      now,
    );
    expect(await purgeOldRequests(db(), now, 2, 2, 1)).toMatchObject({ deleted: 2, truncated: true });
  });

  it("in local development the scheduled handler purges nothing (anyone could fire it); POST /v1/requests/purge with the admin key does", async () => {
    const now = Date.now();
    await seed("dev-", [8 * DAY, 0], now);
    const ctx = createExecutionContext();
    const handler = worker as ExportedHandler<Env>;
    await handler.scheduled!(
      createScheduledController({ scheduledTime: now, cron: "17 3 * * *" }),
      { ...env, ZAHARA_ENV: "development" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await ids("dev-")).toEqual(["dev-0", "dev-1"]);
    await expectError(await post("/v1/requests/purge", {}), 403, "FORBIDDEN");
    const res = await SELF.fetch(`${BASE}/v1/requests/purge`, { method: "POST", headers: { "X-API-Key": ADMIN_KEY } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ deleted: 1, truncated: false });
    expect(await ids("dev-")).toEqual(["dev-1"]);
    const audit = (await (await admin("/v1/audit?action=request_log.purge")).json()) as {
      entries: { details: { deleted: number } }[];
    };
    expect(audit.entries[0]?.details.deleted).toBe(1);
  });

  it("REQUEST_LOG_RETENTION_DAYS: a positive integer, else the default", () => {
    expect(DEFAULT_RETENTION_DAYS).toBe(7);
    expect(retentionDays("30")).toBe(30);
    for (const bad of [undefined, "", "0", "-3", "1.5", "seven"]) expect(retentionDays(bad)).toBe(7);
  });
});

describe("request log: trace ids", () => {
  it("takes the trace id of a valid W3C traceparent only", () => {
    expect(traceIdFromTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBe(
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
    expect(traceIdFromTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeNull();
    expect(traceIdFromTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBeNull();
    expect(traceIdFromTraceparent("garbage")).toBeNull();
    expect(traceIdFromTraceparent(undefined)).toBeNull();
  });
});

describe("request log: personal data kinds", () => {
  it("stores the kinds the agent names in Zahara-Pii-Kinds as pii_kinds (never the values); the API returns them", async () => {
    // The real agent runtime, built from agent-demo's manifest with pii_detection (warn: the call goes through).
    const manifest = structuredClone(MANIFESTS.find((m) => m.metadata.name === "agent-demo")!);
    manifest.spec.safety = { ...manifest.spec.safety, pii_detection: { action: "warn" } };
    const agent = createAgentWorker({ manifest });
    const agentCtx = createExecutionContext();
    const AGENT_DEMO = {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => agent.fetch(new Request(input, init), {}, agentCtx),
    } as unknown as Fetcher;
    const id = `pii-${crypto.randomUUID()}`;
    const ctx = createExecutionContext();
    const req = new Request(`${BASE}/agents/agent-demo/execute`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY, "X-Request-Id": id },
      body: JSON.stringify({ task: "echo", parameters: { to: "alice@example.com", from: "10.0.0.1" } }),
    });
    const res = await worker.fetch(req, { ...env, AGENT_DEMO }, ctx);
    expect(res.status).toBe(200);
    await waitOnExecutionContext(ctx);
    const [row] = await untilRows(id, 1);
    expect(row?.pii_kinds).toBe("email,ip");
    const listed = (await (await admin(`/v1/requests/${id}`)).json()) as { requests: { pii_kinds: string | null }[] };
    expect(listed.requests.map((r) => r.pii_kinds)).toEqual(["email,ip"]);
    expect(JSON.stringify(listed)).not.toContain("alice@example.com");
    // An agent that does not look sends no header: the column stays null.
    const plain = `pii-none-${crypto.randomUUID()}`;
    await (
      await post("/execute", { task: "echo", parameters: { to: "alice@example.com" } }, { "X-Request-Id": plain })
    ).text();
    expect((await untilRows(plain, 1))[0]?.pii_kinds).toBeNull();
  });
});
