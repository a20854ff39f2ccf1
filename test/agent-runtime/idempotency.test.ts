/**
 * Idempotent POST /run: the same key and body replays, another body is 422,
 * a concurrent duplicate is 409, 5xx is never stored, 4xx is, records expire
 * after 24 h, and a failing store never fails the request. The store is the
 * real IdempotencyStore Durable Object of agent-demo (the main Worker).
 */
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  IDEMPOTENCY_TTL_MS,
  LEASE_MS,
  LEASE_RENEW_MS,
  type IdempotencyStore,
} from "../../durable-objects/idempotency-store/src";
import type { CapabilityHandler } from "../../workers/agent-runtime/src";
import { canonicalJson, runBodyHash } from "../../workers/agent-runtime/src/idempotency";
import { ZaharaError } from "../../workers/shared/errors";
import { expectError } from "../gateway/helpers";
import { agentFrom, demoManifest } from "./helpers";

/** A fresh key per use, so tests never share a store. */
function newKey(label: string): string {
  return `${label}-${crypto.randomUUID()}`;
}

/** Headers of a gateway attempt: the key is the request id, as the gateway sends it. */
function attempt(key: string, n = 1): Record<string, string> {
  return { "Idempotency-Key": key, "X-Request-Id": key, "X-Zahara-Attempt": String(n) };
}

function runSelf(task: string, parameters: Record<string, unknown>, headers: Record<string, string>) {
  return SELF.fetch("https://agent.test/run", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ task, parameters }),
  });
}

function storeOf(key: string): DurableObjectStub<IdempotencyStore> {
  return env.IDEMPOTENCY.get(env.IDEMPOTENCY.idFromName(key));
}

/** The stored row of `key`'s store, or null when it holds nothing. */
function storedRow(key: string): Promise<Record<string, SqlStorageValue> | null> {
  return runInDurableObject(storeOf(key), (_instance, state) => {
    try {
      return state.storage.sql.exec("SELECT * FROM idempotency_record").toArray()[0] ?? null;
    } catch {
      return null; // no table: nothing stored
    }
  });
}

async function waitForState(key: string, wanted: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await storedRow(key))?.state === wanted) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`store of ${key} never reached ${wanted}`);
}

/** agent-demo plus a `count` capability whose handler is `handler`. */
function agentWith(handler: CapabilityHandler, envPatch: Record<string, unknown> = {}) {
  const manifest = demoManifest((m) => {
    m.spec.tools?.push({
      type: "function",
      name: "count",
      input_schema: { type: "object", properties: { n: { type: "integer" } }, additionalProperties: false },
    });
  });
  return agentFrom(manifest, { count: handler }, envPatch);
}

/** A `count` handler that counts its calls. */
function counting(result: (calls: number) => unknown = (calls) => ({ calls })) {
  const state = { calls: 0 };
  const handler: CapabilityHandler = () => ({ result: result(++state.calls) });
  return { state, handler };
}

describe("idempotent /run", () => {
  it("16. idempotent replay, 422 and 409", async () => {
    const key = newKey("issue-16");
    const first = await runSelf("echo", { a: 1 }, attempt(key));
    expect(first.status).toBe(200);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const firstBody = await first.text();

    const again = await runSelf("echo", { a: 1 }, attempt(key, 2));
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.headers.get("X-Request-Id")).toBe(key);
    expect(await again.text()).toBe(firstBody);

    const other = await runSelf("echo", { a: 2 }, attempt(key, 3));
    await expectError(other, 422, "IDEMPOTENCY_KEY_REUSED", "agent-demo");

    const slowKey = newKey("issue-16-slow");
    const slow = runSelf("chaos", { delay_ms: 1000 }, attempt(slowKey));
    await waitForState(slowKey, "in_progress");
    const duplicate = await runSelf("chaos", { delay_ms: 1000 }, attempt(slowKey, 2));
    expect(duplicate.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
    await expectError(duplicate, 409, "IDEMPOTENCY_IN_PROGRESS", "agent-demo");
    expect((await slow).status).toBe(200);
    expect((await runSelf("chaos", { delay_ms: 1000 }, attempt(slowKey, 3))).headers.get("Idempotent-Replayed")).toBe(
      "true",
    );
  });

  it("same key and body twice runs the handler once and replays the identical response", async () => {
    const { state, handler } = counting();
    const agent = agentWith(handler);
    const key = newKey("once");
    const first = await agent.run("count", { n: 1 }, attempt(key));
    const firstText = await first.text();
    expect(first.status).toBe(200);
    const second = await agent.run("count", { n: 1 }, attempt(key, 2));
    expect(second.status).toBe(200);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(second.headers.get("Content-Type")).toBe(first.headers.get("Content-Type"));
    expect(await second.text()).toBe(firstText);
    expect(state.calls).toBe(1);
  });

  it("bodies that differ only in key order, whitespace or an omitted parameters are the same request", async () => {
    const { state, handler } = counting();
    const agent = agentWith(handler);
    const key = newKey("canonical");
    const send = (body: string) =>
      agent.call("/run", { method: "POST", headers: { "Content-Type": "application/json", ...attempt(key) }, body });
    expect((await send('{"task":"count","parameters":{}}')).status).toBe(200);
    expect((await send('{ "parameters": { }, "task": "count" }')).headers.get("Idempotent-Replayed")).toBe("true");
    expect((await send('{"task":"count"}')).headers.get("Idempotent-Replayed")).toBe("true");
    expect(state.calls).toBe(1);
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
    expect(await runBodyHash({ parameters: { y: 1, x: 2 }, task: "t" })).toBe(
      await runBodyHash({ task: "t", parameters: { x: 2, y: 1 } }),
    );
    expect(await runBodyHash({ task: "t", parameters: { x: 1 } })).not.toBe(
      await runBodyHash({ task: "t", parameters: { x: 2 } }),
    );
  });

  it("same key with another body is 422 IDEMPOTENCY_KEY_REUSED in the error shape", async () => {
    const { state, handler } = counting();
    const agent = agentWith(handler);
    const key = newKey("reused");
    expect((await agent.run("count", { n: 1 }, attempt(key))).status).toBe(200);
    const body = await expectError(
      await agent.run("count", { n: 2 }, attempt(key, 2)),
      422,
      "IDEMPOTENCY_KEY_REUSED",
      "agent-demo",
    );
    expect(body.request_id).toBe(key);
    expect(state.calls).toBe(1);
  });

  it("a duplicate arriving while the first still runs is 409 IDEMPOTENCY_IN_PROGRESS with Retry-After", async () => {
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = new Promise<void>((resolve) => (started = resolve));
    let calls = 0;
    const agent = agentWith(async () => {
      calls++;
      started();
      await gate;
      return { result: { done: true } };
    });
    const key = newKey("concurrent");
    const first = agent.run("count", {}, attempt(key));
    await running;
    const duplicate = await agent.run("count", {}, attempt(key, 2));
    expect(duplicate.headers.get("Retry-After")).toBe("1");
    await expectError(duplicate, 409, "IDEMPOTENCY_IN_PROGRESS", "agent-demo");
    release();
    expect((await first).status).toBe(200);
    const after = await agent.run("count", {}, attempt(key, 3));
    expect(after.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await after.json()).toMatchObject({ result: { done: true } });
    expect(calls).toBe(1);
  });

  it("a 5xx is not stored: a retry with the same key runs again", async () => {
    const key = newKey("chaos-500");
    await expectError(await runSelf("chaos", { fail_status: 500 }, attempt(key)), 500, "CHAOS_INJECTED", "agent-demo");
    expect(await storedRow(key)).toBeNull();
    const retry = await runSelf("chaos", { fail_status: 500 }, attempt(key, 2));
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    await expectError(retry, 500, "CHAOS_INJECTED", "agent-demo");

    let calls = 0;
    const flaky = agentWith(() => {
      if (++calls === 1) throw new ZaharaError("LLM_PROVIDER_ERROR");
      return { result: { calls } };
    });
    const flakyKey = newKey("flaky");
    await expectError(await flaky.run("count", {}, attempt(flakyKey)), 502, "LLM_PROVIDER_ERROR", "agent-demo");
    const ok = await flaky.run("count", {}, attempt(flakyKey, 2));
    expect(await ok.json()).toMatchObject({ result: { calls: 2 } });
    expect((await flaky.run("count", {}, attempt(flakyKey, 3))).headers.get("Idempotent-Replayed")).toBe("true");
    expect(calls).toBe(2);
  });

  it("408, 409 and 429 are not stored either", async () => {
    for (const status of [408, 409, 429]) {
      const key = newKey(`chaos-${status}`);
      await expectError(
        await runSelf("chaos", { fail_status: status }, attempt(key)),
        status,
        "CHAOS_INJECTED",
        "agent-demo",
      );
      const retry = await runSelf("chaos", { fail_status: status }, attempt(key, 2));
      expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
      await expectError(retry, status, "CHAOS_INJECTED", "agent-demo");
    }
  });

  it("a 4xx (INVALID_PARAMETERS) is stored and replayed", async () => {
    const key = newKey("invalid-params");
    const first = await runSelf("summarize", { text: "" }, attempt(key));
    const firstText = await first.clone().text();
    await expectError(first, 400, "INVALID_PARAMETERS", "agent-demo");
    expect((await storedRow(key))?.status).toBe(400);
    const replayed = await runSelf("summarize", { text: "" }, attempt(key, 2));
    expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await replayed.clone().text()).toBe(firstText);
    await expectError(replayed, 400, "INVALID_PARAMETERS", "agent-demo");
  });

  it("a result larger than the store's cap is served but not stored", async () => {
    const { state, handler } = counting(() => "x".repeat(300 * 1024));
    const agent = agentWith(handler);
    const key = newKey("huge");
    expect((await agent.run("count", {}, attempt(key))).status).toBe(200);
    expect(await storedRow(key)).toBeNull();
    const again = await agent.run("count", {}, attempt(key, 2));
    expect(again.headers.get("Idempotent-Replayed")).toBeNull();
    expect(state.calls).toBe(2);
  });

  it("records expire after 24 h: the alarm deletes everything, and older records are treated as absent", async () => {
    const key = newKey("expiry");
    expect((await runSelf("echo", { a: 1 }, attempt(key))).status).toBe(200);
    const row = await storedRow(key);
    expect(row).toMatchObject({ state: "done", status: 200 });
    const createdAt = row?.created_at as number;
    const alarm = await runInDurableObject(storeOf(key), (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe(createdAt + IDEMPOTENCY_TTL_MS);

    // A record older than 24 h is absent to begin, even before its alarm ran.
    const hash = await runBodyHash({ task: "echo", parameters: { a: 1 } });
    const late = await runInDurableObject(storeOf(key), (store) => store.begin(hash, createdAt + IDEMPOTENCY_TTL_MS));
    expect(late.kind).toBe("new");

    // The alarm forgets the key entirely: another body is no longer a mismatch.
    expect(await runDurableObjectAlarm(storeOf(key))).toBe(true);
    expect(await storedRow(key)).toBeNull();
    const fresh = await runSelf("echo", { a: 2 }, attempt(key, 2));
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("a holder that renews keeps its key past the first lease; once it stops, the key lapses LEASE_MS later", async () => {
    const stub = storeOf(newKey("renew"));
    const t = Date.now();
    await runInDurableObject(stub, async (store) => {
      const a = await store.begin("h1", t);
      if (a.kind !== "new") throw new Error("expected a token");
      expect(await store.renew(a.token, t + LEASE_RENEW_MS)).toBe(true);
      expect(await store.renew(a.token, t + 2 * LEASE_RENEW_MS)).toBe(true);
      expect((await store.begin("h1", t + LEASE_MS + 1)).kind).toBe("in_progress");
      expect(await store.renew("not-the-holder", t + 2 * LEASE_RENEW_MS)).toBe(false);
      // The holder died after its last renewal: the key is free LEASE_MS after it.
      const b = await store.begin("h1", t + 2 * LEASE_RENEW_MS + LEASE_MS);
      expect(b.kind).toBe("new");
      expect(await store.renew(a.token, t + 2 * LEASE_RENEW_MS + LEASE_MS + 1)).toBe(false);
    });
  });

  it("a stale in-progress record whose lease expired is taken over; the stale token's complete is ignored", async () => {
    const stub = storeOf(newKey("lease"));
    const t = Date.now();
    await runInDurableObject(stub, async (store) => {
      const a = await store.begin("h1", t);
      expect(a.kind).toBe("new");
      expect(await store.begin("h1", t + 1000)).toEqual({ kind: "in_progress", retryAfterMs: 1000 });
      expect(await store.begin("h1", t + LEASE_MS - 200)).toEqual({ kind: "in_progress", retryAfterMs: 200 });
      expect(await store.begin("h2", t + 1000)).toEqual({ kind: "mismatch" });
      const b = await store.begin("h1", t + LEASE_MS);
      expect(b.kind).toBe("new");
      if (a.kind !== "new" || b.kind !== "new") throw new Error("expected tokens");
      expect(b.token).not.toBe(a.token);
      await store.complete(a.token, 200, '{"stale":true}', "application/json", t + LEASE_MS + 1);
      expect((await store.begin("h1", t + LEASE_MS + 2)).kind).toBe("in_progress");
      await store.complete(b.token, 200, '{"ok":true}', "application/json", t + LEASE_MS + 3);
      expect(await store.begin("h1", t + LEASE_MS + 4)).toEqual({
        kind: "replay",
        status: 200,
        body: '{"ok":true}',
        contentType: "application/json",
      });
      await store.complete(b.token, 500, "", "", t + LEASE_MS + 5); // already completed: ignored
      expect((await store.begin("h1", t + LEASE_MS + 6)).kind).toBe("replay");
    });
  });

  it("an invalid Idempotency-Key is 400 INVALID_HEADER (even without a store)", async () => {
    const noStore = agentFrom(demoManifest(), {}, { IDEMPOTENCY: undefined });
    for (const bad of ["", "has space", "tab\tinside", "del\u007f", "x".repeat(256)]) {
      const body = await expectError(
        await runSelf("echo", {}, { "Idempotency-Key": bad }),
        400,
        "INVALID_HEADER",
        "agent-demo",
      );
      expect(body.details).toEqual({ fields: [{ field: "Idempotency-Key", message: expect.any(String) }] });
      await expectError(await noStore.run("echo", {}, { "Idempotency-Key": bad }), 400, "INVALID_HEADER", "agent-demo");
    }
    expect((await runSelf("echo", {}, { "Idempotency-Key": "!~".repeat(127) + "z" })).status).toBe(200);
  });

  it("without a key, or without the binding, every request runs", async () => {
    const { state, handler } = counting();
    const agent = agentWith(handler);
    await agent.run("count", {});
    const plain = await agent.run("count", {});
    expect(plain.headers.get("Idempotent-Replayed")).toBeNull();
    const unbound = agentWith(handler, { IDEMPOTENCY: undefined });
    const key = newKey("unbound");
    await unbound.run("count", {}, attempt(key));
    expect((await unbound.run("count", {}, attempt(key, 2))).headers.get("Idempotent-Replayed")).toBeNull();
    expect(state.calls).toBe(4);
  });

  it("the body limit still applies with a key (413), and nothing is recorded", async () => {
    const key = newKey("too-large");
    await expectError(
      await runSelf("echo", { big: "x".repeat(5000) }, attempt(key)),
      413,
      "PAYLOAD_TOO_LARGE",
      "agent-demo",
    );
    expect(await storedRow(key)).toBeNull();
  });

  it("fails open: a store that throws or hangs never fails the request", async () => {
    const throwingStub = {
      begin: () => Promise.reject(new Error("store down")),
      complete: () => Promise.reject(new Error("store down")),
    };
    const throwing = { idFromName: () => ({}), get: () => throwingStub };
    const brokenNamespace = {
      idFromName: () => {
        throw new Error("no namespace");
      },
    };
    const failingComplete = {
      idFromName: () => ({}),
      get: () => ({
        begin: async () => ({ kind: "new", token: "t" }),
        complete: () => Promise.reject(new Error("store down")),
      }),
    };
    const hanging = {
      idFromName: () => ({}),
      get: () => ({ begin: () => new Promise(() => {}), complete: () => new Promise(() => {}) }),
    };
    for (const IDEMPOTENCY of [throwing, brokenNamespace, failingComplete, hanging]) {
      const { state, handler } = counting();
      const agent = agentWith(handler, { IDEMPOTENCY });
      const res = await agent.run("count", {}, attempt(newKey("fail-open")));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ result: { calls: 1 } });
      expect(state.calls).toBe(1);
    }
  });
});
