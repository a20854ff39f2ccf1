/**
 * The request log through its Cloudflare Queue, in workerd: the real queue
 * (Miniflare's broker, configured from wrangler.toml's producer and
 * consumer), the gateway's real `queue()` handler and the real D1. Only the
 * platform's bindings are ever replaced: a queue whose `send` fails, hangs or
 * records (and forwards to the real queue), a D1 whose `batch` fails or
 * counts (and forwards to the real D1). Deliveries the tests build
 * themselves (`createMessageBatch`) go through the same exported handler.
 */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../workers/gateway/src/index";
import { MAX_RETRIES } from "../../workers/gateway/src/request-log/consumer";
import {
  MAX_MESSAGE_BYTES,
  MESSAGE_BUDGET_BYTES,
  fitsInMessage,
  messageBytes,
} from "../../workers/gateway/src/request-log/message";
import { ATTEMPTS_PER_INSERT, REQUESTS_PER_INSERT } from "../../workers/gateway/src/request-log/statements";
import type { AttemptRow, RequestLogEntry, RequestRow } from "../../workers/gateway/src/request-log/writer";
import { OUTBOX_FLUSH_MS } from "../../workers/gateway/src/request-log/outbox";
import { RequestLogOutboxes, sendEntry } from "../../workers/gateway/src/request-log/writer";
import { createLogger } from "../../workers/shared/logger";
import { BASE, KEY, pollUntil } from "./helpers";

const QUEUE = "zahara-request-log";
const handler = worker as ExportedHandler<Env>;
const db = () => env.REQUEST_LOG;

afterEach(() => vi.restoreAllMocks());

/** A unique short prefix (D1 refuses LIKE patterns over 50 bytes). */
const unique = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}`;

/** An entry with `attempts` attempts (each with `spans` agent spans of the longest description). */
function entryOf(requestId: string, attempts = 1, spans = 0): RequestLogEntry {
  const logId = crypto.randomUUID();
  const span = (i: number) => ({ name: `step${i}`, start: i, dur: 1, desc: "d".repeat(120) });
  const spanText = spans > 0 ? JSON.stringify(Array.from({ length: spans }, (_, s) => span(s))) : null;
  return {
    request: {
      log_id: logId,
      request_id: requestId,
      ts: Date.now(),
      key_id: "key_000000000000",
      agent: "agent-demo",
      served_by: "agent-demo",
      task: "echo",
      method: "POST",
      path: "/agents/agent-demo/execute",
      status: 200,
      code: null,
      duration_ms: 12,
      trace_id: null,
      protocol: "http",
      tokens: null,
      ttfb_ms: null,
      bytes_out: null,
      pii_kinds: null,
    },
    attempts: Array.from({ length: attempts }, (_, i) => ({
      log_id: logId,
      n: i + 1,
      agent: "agent-demo",
      attempt: i + 1,
      status: i + 1 < attempts ? 503 : 200,
      code: null,
      admission: "admitted",
      latency_ms: 5,
      backoff_ms: i === 0 ? 0 : 40,
      spans: spanText,
    })),
  };
}

async function rowsOf(prefix: string): Promise<RequestRow[]> {
  const sql = "SELECT * FROM requests WHERE request_id LIKE ? ORDER BY request_id";
  return (await db().prepare(sql).bind(`${prefix}%`).all<RequestRow>()).results;
}

async function attemptsOf(prefix: string): Promise<AttemptRow[]> {
  const sql = `SELECT a.* FROM request_attempts a JOIN requests r ON r.log_id = a.log_id
               WHERE r.request_id LIKE ? ORDER BY r.request_id, a.n`;
  return (await db().prepare(sql).bind(`${prefix}%`).all<AttemptRow>()).results;
}

/** Rows land after the queue's batch timeout: polls until `count` rows with `prefix` exist (or 10 s pass). */
function untilRows(prefix: string, count: number): Promise<RequestRow[]> {
  return pollUntil(
    () => rowsOf(prefix),
    (rows) => rows.length >= count,
    200,
    50,
  );
}

/** Every structured line the gateway logs at `level` from now on, parsed. */
function captureLogs(level: "log" | "error" | "warn"): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  vi.spyOn(console, level).mockImplementation((line: unknown) => {
    if (typeof line === "string" && line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return lines;
}

/**
 * A queue binding whose messages go to `send`, one by one, whether sent alone or in a batch (the outbox sends
 * batches): a double of the platform's binding.
 */
function queueWith(send: Queue["send"]): Queue {
  return {
    send,
    sendBatch: async (messages) => {
      for (const m of messages) await send(m.body, m.contentType ? { contentType: m.contentType } : {});
      return env.REQUEST_LOG_QUEUE.sendBatch([]);
    },
    metrics: () => env.REQUEST_LOG_QUEUE.metrics(),
  };
}

/** Hands `entries` to `queue` as the middleware does (one outbox), and waits until they are sent or written. */
async function handOff(
  queue: Queue,
  entries: RequestLogEntry[],
  logger = createLogger({ service: "gateway", level: "error" }),
) {
  const pending: Promise<unknown>[] = [];
  const outboxes = new RequestLogOutboxes();
  for (const entry of entries) sendEntry(outboxes, queue, db(), entry, (p) => pending.push(p), logger);
  while (pending.length > 0) await Promise.all(pending.splice(0));
}

/** A D1 binding that counts its batches and forwards everything to the real one (or fails every batch). */
function d1Spy(fail = false): { db: D1Database; batches: number[] } {
  const batches: number[] = [];
  const real = db();
  const spy = new Proxy(real, {
    get(target, prop) {
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          batches.push(statements.length);
          return fail ? Promise.reject(new Error("D1_ERROR: storage unavailable")) : target.batch(statements);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: spy, batches };
}

/** What the handler did with a delivery (`getQueueResult`; its type is only in the experimental runtime types). */
interface QueueResult {
  ackAll: boolean;
  retryBatch: { retry: boolean };
  explicitAcks: string[];
  retryMessages: { msgId: string }[];
}

/** A delivery's message ids and what the handler did with them. */
interface Delivered {
  ids: string[];
  result: QueueResult;
}

/** Delivers `bodies` to the gateway's queue handler as one batch (`attempts` each), as the platform would. */
async function deliver(bodies: unknown[], vars: Partial<Env> = {}, attempts = 1): Promise<Delivered> {
  const messages = bodies.map((body) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts, body }));
  const batch = createMessageBatch(QUEUE, messages);
  const ctx = createExecutionContext();
  await handler.queue!(batch, { ...env, ...vars } as Env, ctx);
  const result: QueueResult = await getQueueResult(batch, ctx);
  return { ids: messages.map((m) => m.id), result };
}

/** A POST to agent-demo through the exported handler with `vars` over the real bindings. */
async function call(
  requestId: string,
  vars: Partial<Env>,
  parameters: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const ctx = createExecutionContext();
  const req = new Request(`${BASE}/agents/agent-demo/execute`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": KEY, "X-Request-Id": requestId, ...headers },
    body: JSON.stringify({ task: "chaos", parameters }),
  });
  const res = await worker.fetch(req, { ...env, ...vars } as Env, ctx);
  return { res, ctx };
}

describe("request log queue: the way there", () => {
  it("a request's row reaches D1 through the queue, with its attempts", async () => {
    const id = unique("via-queue");
    const sent: RequestLogEntry[] = [];
    // Records what the middleware sends, and forwards it to the real queue.
    const recording = queueWith((body, options) => {
      sent.push(body as RequestLogEntry);
      return env.REQUEST_LOG_QUEUE.send(body, options);
    });
    // Retried (500s) under a short deadline: several attempts, each with the agent's spans.
    const timeout = { "X-Timeout-Ms": "1500" };
    const { res, ctx } = await call(id, { REQUEST_LOG_QUEUE: recording }, { fail_status: 500 }, timeout);
    expect([502, 504]).toContain(res.status);
    await waitOnExecutionContext(ctx);
    expect(sent.map((e) => e.request.request_id)).toEqual([id]);
    const [entry] = sent;
    expect(entry!.attempts.length).toBeGreaterThanOrEqual(1);

    const [row] = await untilRows(id, 1);
    expect(row).toEqual(entry!.request);
    expect(await attemptsOf(id)).toEqual(entry!.attempts);
    expect(entry!.attempts[0]!.spans).toContain('"name":"capability"');
  });

  it("without the queue binding the row is written directly", async () => {
    const id = unique("direct");
    const { REQUEST_LOG_QUEUE: _queue, ...withoutQueue } = env;
    const ctx = createExecutionContext();
    const req = new Request(`${BASE}/agents/agent-demo/execute`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY, "X-Request-Id": id },
      body: JSON.stringify({ task: "chaos", parameters: { fail_status: 501 } }),
    });
    const res = await worker.fetch(req, withoutQueue as Env, ctx);
    expect(res.status).toBe(502);
    await waitOnExecutionContext(ctx);
    // Written by the request's own waitUntil: there as soon as it settles, no batch timeout to wait for.
    expect(await rowsOf(id)).toMatchObject([{ request_id: id, status: 502, code: "UPSTREAM_FAILED" }]);
    expect(await attemptsOf(id)).toMatchObject([{ n: 1, status: 501, admission: "admitted" }]);
  });

  it("a failed send is logged and the caller's answer is unaffected", async () => {
    const errors = captureLogs("error");
    const failures: [string, Queue["send"]][] = [
      ["rejects", () => Promise.reject(new Error("Queue send failed: internal error"))],
      [
        "throws",
        () => {
          throw new TypeError("queue binding broken");
        },
      ],
      // Never settles: the send is abandoned after WRITE_TIMEOUT_MS (5 s), long after the caller has its answer.
      ["hangs", () => new Promise<QueueSendResponse>(() => {})],
    ];
    for (const [kind, send] of failures) {
      const id = unique(`send-${kind}`);
      const started = Date.now();
      const { res, ctx } = await call(id, { REQUEST_LOG_QUEUE: queueWith(send) });
      expect(res.status, kind).toBe(200);
      expect(await res.json(), kind).toMatchObject({ request_id: id });
      expect(Date.now() - started, kind).toBeLessThan(2_000);
      await waitOnExecutionContext(ctx);
      const line = errors.find((l) => l.message === "request log send failed" && l.logged_request_id === id);
      expect(line, kind).toBeDefined();
      expect(JSON.stringify(line)).not.toContain(KEY);
      // Dropped, as a failed write is: neither sent nor written.
      expect(await rowsOf(id), kind).toEqual([]);
    }
    expect(errors.find((l) => String(l.logged_request_id).startsWith("send-hangs"))?.error).toMatch(/timed out/);
  }, 20_000);

  it("an entry too large for a message (128 KB) is written directly; the largest one sent is accepted", async () => {
    const id = unique("large");
    // 60 attempts with 16 full spans each: far more than a manifest's retries and fallbacks make in practice.
    const large = entryOf(id, 60, 16);
    expect(messageBytes(large)).toBeGreaterThan(MAX_MESSAGE_BYTES);
    expect(fitsInMessage(large)).toBe(false);
    const sent: unknown[] = [];
    const recording = queueWith((body) => {
      sent.push(body);
      return Promise.resolve({ metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } });
    });
    await handOff(recording, [large]);
    expect(sent).toEqual([]);
    expect(await rowsOf(id)).toHaveLength(1);
    expect(await attemptsOf(id)).toHaveLength(60);

    // The largest entry that is sent: just under the budget, which the real queue accepts.
    const fitting = unique("fits");
    let attempts = 1;
    while (fitsInMessage(entryOf(fitting, attempts + 1, 16))) attempts++;
    const biggest = entryOf(fitting, attempts, 16);
    expect(messageBytes(biggest)).toBeGreaterThan(MESSAGE_BUDGET_BYTES - 4_000);
    await handOff(env.REQUEST_LOG_QUEUE, [biggest]);
    await untilRows(fitting, 1);
    expect(await attemptsOf(fitting)).toHaveLength(attempts);
  });

  it(`entries handed over within ${OUTBOX_FLUSH_MS} ms go in one sendBatch of at most 100 messages`, async () => {
    const prefix = `${unique("outbox")}-`;
    const entries = Array.from({ length: 130 }, (_, i) => entryOf(`${prefix}${String(i).padStart(3, "0")}`, 1, 0));
    const batches: number[] = [];
    const queue: Queue = {
      send: (body, options) => env.REQUEST_LOG_QUEUE.send(body, options),
      sendBatch: (messages) => {
        batches.push([...messages].length);
        return env.REQUEST_LOG_QUEUE.sendBatch(messages);
      },
      metrics: () => env.REQUEST_LOG_QUEUE.metrics(),
    };
    const started = Date.now();
    await handOff(queue, entries);
    // A full batch at once, the rest when the first entry's timer fires: never one send per request.
    expect(batches).toEqual([100, 30]);
    expect(Date.now() - started).toBeLessThan(OUTBOX_FLUSH_MS + 1_000);
    expect(await untilRows(prefix, 130)).toHaveLength(130);
  });
});

describe("request log queue: the consumer", () => {
  it("one consumer batch of many requests is one D1 batch", async () => {
    const prefix = `${unique("batch")}-`;
    const idOf = (i: number) => `${prefix}${String(i).padStart(3, "0")}`;
    const entries = Array.from({ length: 100 }, (_, i) => entryOf(idOf(i), 1 + (i % 3), i % 2));
    const attempts = entries.reduce((n, e) => n + e.attempts.length, 0);
    const logs = captureLogs("log");
    const spy = d1Spy();
    const { result } = await deliver(entries, { REQUEST_LOG: spy.db, LOG_LEVEL: "info" });
    const statements = Math.ceil(100 / REQUESTS_PER_INSERT) + Math.ceil(attempts / ATTEMPTS_PER_INSERT);
    expect(spy.batches).toEqual([statements]); // 15 + 20: one D1 batch, not 100
    expect(result).toMatchObject({ ackAll: true, retryMessages: [], retryBatch: { retry: false } });
    const written = logs.filter((l) => l.message === "request log batch written");
    expect(written).toMatchObject([{ rows: 100, statements, attempts }]);
    expect(await rowsOf(prefix)).toHaveLength(100);
    expect(await attemptsOf(prefix)).toEqual(entries.flatMap((e) => e.attempts));
  });

  it("a redelivered batch writes nothing twice", async () => {
    const prefix = `${unique("again")}-`;
    const entries = Array.from({ length: 20 }, (_, i) => entryOf(`${prefix}${String(i).padStart(2, "0")}`, 2));
    expect((await deliver(entries)).result.ackAll).toBe(true);
    // The same messages again (a retry after a write that had in fact committed), one of them twice in the batch.
    expect((await deliver([...entries, entries[0]!], {}, 2)).result.ackAll).toBe(true);
    expect(await rowsOf(prefix)).toHaveLength(20);
    expect(await attemptsOf(prefix)).toHaveLength(40);

    // Through the real queue: the same entry sent three times, then a marker sent after them.
    const id = `${prefix}queued`;
    const entry = entryOf(id, 3);
    for (let i = 0; i < 3; i++) await env.REQUEST_LOG_QUEUE.send(entry, { contentType: "json" });
    await env.REQUEST_LOG_QUEUE.send(entryOf(`${prefix}zz-marker`), { contentType: "json" });
    await untilRows(`${prefix}zz-marker`, 1);
    expect(await rowsOf(id)).toEqual([entry.request]);
    expect(await attemptsOf(id)).toEqual(entry.attempts);
  });

  it("a malformed message is acked and logged, not retried", async () => {
    const prefix = `${unique("malformed")}-`;
    const good = entryOf(`${prefix}good`, 1);
    const other = entryOf(`${prefix}other`, 1);
    const secret = "never-log-this-body";
    const bodies = [
      good,
      { hello: secret },
      `text ${secret}`,
      { request: { ...entryOf(`${prefix}bad-status`).request, status: "200" }, attempts: [] },
      { request: other.request, attempts: [{ ...good.attempts[0]!, agent: secret }] },
      { request: { ...entryOf(`${prefix}no-path`).request, path: undefined }, attempts: [] },
    ];
    const errors = captureLogs("error");
    const { ids, result } = await deliver(bodies);
    expect(result.explicitAcks.sort()).toEqual(ids.slice(1).sort());
    expect(result.retryMessages).toEqual([]);
    expect(result.ackAll).toBe(true);
    const malformedLines = () => errors.filter((l) => l.message === "request log message malformed");
    const malformed = malformedLines();
    expect(malformed.map((l) => l.reason)).toEqual([
      "request is not an object",
      "body is not an object",
      "request.status",
      "attempts[0].log_id is another request's",
      "request.path",
    ]);
    expect(JSON.stringify(errors)).not.toContain(secret);
    expect((await rowsOf(prefix)).map((r) => r.request_id)).toEqual([`${prefix}good`]);

    // Through the real queue: a malformed message does not hold back the entry delivered with it.
    const after = `${prefix}queued`;
    await env.REQUEST_LOG_QUEUE.send({ request: { log_id: 42 } }, { contentType: "json" });
    await env.REQUEST_LOG_QUEUE.send(entryOf(after), { contentType: "json" });
    expect(await untilRows(after, 1)).toHaveLength(1);
    const fromQueue = malformedLines().filter((l) => l.reason === "request.log_id");
    expect(fromQueue).toHaveLength(1);
  });

  it("a failed D1 write is retried, then lands once; after the last retry the rows are dropped and named", async () => {
    const prefix = `${unique("retry")}-`;
    const entries = Array.from({ length: 5 }, (_, i) => entryOf(`${prefix}${i}`, 2));
    const errors = captureLogs("error");
    const failing = d1Spy(true);
    const first = await deliver([...entries, { not: "an entry" }], { REQUEST_LOG: failing.db });
    expect(failing.batches).toHaveLength(1);
    expect(first.result.ackAll).toBe(false);
    expect(first.result.retryMessages.map((m) => m.msgId)).toEqual(first.ids.slice(0, 5));
    expect(first.result.explicitAcks).toEqual([first.ids[5]]); // the malformed one stays acked: never retried
    const perRequest = errors.filter((l) => l.message === "request log write failed");
    const expected = entries.map((e) => [e.request.request_id, "retrying"]);
    expect(perRequest.map((l) => [l.logged_request_id, l.outcome])).toEqual(expected);
    const batchLine = errors.find((l) => l.message === "request log batch write failed");
    expect(batchLine).toMatchObject({ rows: 5, retried: 5, dropped: 0, attempt: 1 });
    expect(await rowsOf(prefix)).toEqual([]);

    // The retry, with D1 back: written once.
    expect((await deliver(entries, {}, 2)).result.ackAll).toBe(true);
    expect(await rowsOf(prefix)).toHaveLength(5);

    // A message on its last attempt whose write fails again is acked (dropped), its request named.
    errors.length = 0;
    const last = entryOf(`${prefix}last`);
    const dropped = await deliver([last], { REQUEST_LOG: d1Spy(true).db }, MAX_RETRIES + 1);
    expect(dropped.result).toMatchObject({ explicitAcks: dropped.ids, retryMessages: [], ackAll: false });
    expect(errors.filter((l) => l.message === "request log write failed")).toMatchObject([
      { logged_request_id: last.request.request_id, outcome: "dropped", attempt: MAX_RETRIES + 1 },
    ]);
  });
});
