/**
 * The guard admin API (`/v1/agents/:agent/guard`, `/breaker/open`,
 * `/breaker/close`) end to end through the real gateway, each agent's
 * UpstreamGuard and ACCESS_DB: access control, forcing a breaker open and
 * closed as seen by `/execute`, the snapshot, the audit log, bad bodies, and
 * a guard or an audit log that cannot answer.
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { UpstreamGuard } from "../../durable-objects/upstream-guard/src";
import { sha256, toHex } from "../../workers/gateway/src/auth/api-keys";
import {
  GUARD_ADMIN_TIMEOUT_MS,
  type BreakerChange,
  type GuardView,
} from "../../workers/gateway/src/routes/guard-admin";
import { configOf, guardOf } from "./guards";
import { ADMIN_KEY, BASE, KEY, expectError, post } from "./helpers";

/** The admin's principal id: `key_` and 12 hex digits of the key's SHA-256. */
let adminId = "";

beforeAll(async () => {
  adminId = `key_${toHex(await sha256(ADMIN_KEY)).slice(0, 12)}`;
});

interface SnapshotBody {
  guard: GuardView;
  request_id: string;
}
interface ChangeBody extends SnapshotBody {
  change: BreakerChange;
  audited: boolean;
}

function call(
  method: "GET" | "POST",
  path: string,
  { key = ADMIN_KEY, body }: { key?: string | null; body?: string | unknown } = {},
): Promise<Response> {
  const headers: Record<string, string> = key === null ? {} : { "X-API-Key": key };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return SELF.fetch(`${BASE}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
}

const snapshot = (agent: string, key?: string | null) => call("GET", `/v1/agents/${agent}/guard`, { key });
const breaker = (agent: string, action: "open" | "close", body?: unknown, key?: string | null) =>
  call("POST", `/v1/agents/${agent}/breaker/${action}`, { key, body });

async function ok<T>(res: Response): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  const body = JSON.parse(text) as T & { request_id: string };
  expect(body.request_id).toBe(res.headers.get("X-Request-Id"));
  return body;
}

interface AuditRow {
  actor: string;
  action: string;
  target: string | null;
  request_id: string;
  details: string | null;
}

/** The audit rows about `target`, oldest first (D1 storage lasts the whole file: pass the count seen before to get only newer rows). */
async function auditRows(target: string, skip = 0): Promise<AuditRow[]> {
  const { results } = await env.ACCESS_DB.prepare(
    "SELECT actor, action, target, request_id, details FROM audit_log WHERE target = ? ORDER BY id",
  )
    .bind(target)
    .all<AuditRow>();
  return results.slice(skip);
}

/** The breaker state as the guard itself holds it (not through the API under test). */
async function stateOf(agent: string): Promise<string> {
  return (await guardOf(agent).snapshot(configOf(agent))).breaker.state;
}

const echo = (agent: string) => post(`/agents/${agent}/execute`, { task: "echo", parameters: { hi: 1 } });

let restore: (() => Promise<void>) | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await restore?.();
  restore = undefined;
});

describe("access", () => {
  it("401 without a key, 403 with a caller key, 404 for an unknown agent; nothing changes or is audited", async () => {
    const seen = (await auditRows("agent-custom")).length;
    for (const res of [
      await snapshot("agent-custom", null),
      await breaker("agent-custom", "open", undefined, null),
      await breaker("agent-custom", "close", undefined, null),
    ]) {
      await expectError(res, 401, "UNAUTHORIZED");
    }
    for (const res of [
      await snapshot("agent-custom", KEY),
      await breaker("agent-custom", "open", undefined, KEY),
      await breaker("agent-custom", "close", undefined, KEY),
    ]) {
      await expectError(res, 403, "FORBIDDEN");
    }
    for (const res of [await snapshot("ghost"), await breaker("ghost", "open"), await breaker("ghost", "close")]) {
      const body = await expectError(res, 404, "AGENT_NOT_FOUND");
      expect(body.details?.available).toEqual(expect.arrayContaining(["agent-demo", "agent-custom"]));
    }
    expect(await stateOf("agent-custom")).toBe("closed");
    expect(await auditRows("agent-custom", seen)).toEqual([]);
    expect(await auditRows("ghost")).toEqual([]);
  });
});

describe("GET /v1/agents/:agent/guard", () => {
  it("answers what the guard holds: breaker, in-flight, rate limit, tokens, retry budget, transitions", async () => {
    expect((await echo("agent-demo")).status).toBe(200);
    const { guard } = await ok<SnapshotBody>(await snapshot("agent-demo"));
    expect(guard).toMatchObject({
      agent: "agent-demo",
      breaker: { state: "closed", retry_after_ms: 0, consecutive_failures: 0, open_until: null },
      in_flight: expect.any(Number),
      rate_limit: { limit: 600, remaining: expect.any(Number), retry_after_ms: 0, reset_ms: expect.any(Number) },
      tokens: {
        day: new Date().toISOString().slice(0, 10),
        used: expect.any(Number),
        reserved: expect.any(Number),
        remaining: expect.any(Number),
      },
      retry_budget: { requests: expect.any(Number), retries: 0, available: expect.any(Number) },
      transitions: [],
    });
    expect(Math.abs(Date.parse(guard.at) - Date.now())).toBeLessThan(60_000);
    expect(guard.rate_limit?.remaining).toBeLessThanOrEqual(50);
  });

  it("503 GUARD_UNAVAILABLE when the guard does not answer in time", async () => {
    await runInDurableObject(guardOf("agent-demo"), (instance: UpstreamGuard) => {
      const proto = Object.getPrototypeOf(instance) as { snapshot: (...args: unknown[]) => unknown };
      const original = proto.snapshot;
      proto.snapshot = function (this: UpstreamGuard, ...args: unknown[]) {
        return (args[0] as { agent?: string }).agent === "agent-demo"
          ? new Promise(() => {})
          : original.apply(this, args);
      };
      restore = () => runInDurableObject(guardOf("agent-demo"), () => void (proto.snapshot = original));
    });
    const started = Date.now();
    const res = await snapshot("agent-demo");
    expect(Date.now() - started).toBeLessThan(GUARD_ADMIN_TIMEOUT_MS + 1500);
    expect(res.headers.get("Retry-After")).toBe("1");
    const body = await expectError(res, 503, "GUARD_UNAVAILABLE");
    expect(body.error).toContain(`${GUARD_ADMIN_TIMEOUT_MS} ms`);
    expect(body.details).toEqual({ agent: "agent-demo" });
    // The other agent's guard still answers.
    expect((await snapshot("agent-custom")).status).toBe(200);
  });
});

describe("POST /v1/agents/:agent/breaker/{open,close}", () => {
  it("open isolates one agent (503 CIRCUIT_OPEN) while the other answers; close brings it back; both audited with the admin's id", async () => {
    const seen = (await auditRows("agent-custom")).length;
    const opened = await ok<ChangeBody>(
      await breaker("agent-custom", "open", { reason: "incident 42: upstream returns garbage" }),
    );
    expect(opened.change).toEqual({ reason: "incident 42: upstream returns garbage", from: "closed", to: "isolated" });
    expect(opened.audited).toBe(true);
    expect(opened.guard.breaker.state).toBe("isolated");
    expect(opened.guard.breaker.retry_after_ms).toBeGreaterThan(0);
    expect(opened.guard.transitions).toEqual([
      {
        from: "closed",
        to: "isolated",
        at: expect.any(String),
        cause: `forced open by ${adminId}: incident 42: upstream returns garbage`,
      },
    ]);

    await expectError(await echo("agent-custom"), 503, "CIRCUIT_OPEN");
    const other = await echo("agent-demo");
    expect(other.status).toBe(200);
    expect(((await other.json()) as { served_by: string }).served_by).toBe("agent-demo");

    const read = await ok<SnapshotBody>(await snapshot("agent-custom"));
    expect(read.guard.breaker.state).toBe("isolated");
    expect(read.guard.transitions).toHaveLength(1);

    // No body at all: a close without a reason.
    const closed = await ok<ChangeBody>(await breaker("agent-custom", "close"));
    expect(closed.change).toEqual({ reason: null, from: "isolated", to: "closed" });
    expect(closed.audited).toBe(true);
    expect(closed.guard.breaker).toEqual({
      state: "closed",
      retry_after_ms: 0,
      consecutive_failures: 0,
      open_until: null,
    });
    expect((await echo("agent-custom")).status).toBe(200);

    const after = await ok<SnapshotBody>(await snapshot("agent-custom"));
    expect(after.guard.transitions.map((t) => [t.from, t.to, t.cause])).toEqual([
      ["closed", "isolated", `forced open by ${adminId}: incident 42: upstream returns garbage`],
      ["isolated", "closed", `forced closed by ${adminId}`],
    ]);
    for (const t of after.guard.transitions) expect(Math.abs(Date.parse(t.at) - Date.now())).toBeLessThan(60_000);

    const rows = await auditRows("agent-custom", seen);
    expect(rows.map((r) => ({ ...r, details: JSON.parse(r.details ?? "null") as unknown }))).toEqual([
      {
        actor: adminId,
        action: "breaker.open",
        target: "agent-custom",
        request_id: opened.request_id,
        details: { reason: "incident 42: upstream returns garbage", from: "closed", to: "isolated" },
      },
      {
        actor: adminId,
        action: "breaker.close",
        target: "agent-custom",
        request_id: closed.request_id,
        details: { reason: null, from: "isolated", to: "closed" },
      },
    ]);
    expect(adminId).toMatch(/^key_[0-9a-f]{12}$/);
    expect(JSON.stringify(rows)).not.toContain(ADMIN_KEY);
    expect(JSON.stringify(after)).not.toContain(ADMIN_KEY);

    // The same entries through the audit API.
    const listed = (await (await call("GET", "/v1/audit?target=agent-custom&limit=2")).json()) as {
      entries: { action: string; actor: string; request_id: string }[];
    };
    expect(listed.entries.map((e) => [e.action, e.actor, e.request_id])).toEqual([
      ["breaker.close", adminId, closed.request_id],
      ["breaker.open", adminId, opened.request_id],
    ]);
  });

  it("is idempotent: opening an isolated breaker records no second transition, but is audited", async () => {
    const seen = (await auditRows("agent-demo")).length;
    await ok<ChangeBody>(await breaker("agent-demo", "open"));
    const again = await ok<ChangeBody>(await breaker("agent-demo", "open", { reason: "still broken" }));
    expect(again.change).toEqual({ reason: "still broken", from: "isolated", to: "isolated" });
    expect(again.guard.transitions).toHaveLength(1);
    expect((await auditRows("agent-demo", seen)).map((r) => r.action)).toEqual(["breaker.open", "breaker.open"]);
    const closed = await ok<ChangeBody>(await breaker("agent-demo", "close", {}));
    const closedAgain = await ok<ChangeBody>(await breaker("agent-demo", "close", {}));
    expect([closed.change.from, closedAgain.change.from, closedAgain.change.to]).toEqual([
      "isolated",
      "closed",
      "closed",
    ]);
    expect(closedAgain.guard.transitions).toHaveLength(2);
  });

  it("400 in the error shape for a bad body; nothing changes or is audited", async () => {
    const seen = (await auditRows("agent-custom")).length;
    const long = await expectError(
      await breaker("agent-custom", "open", { reason: "x".repeat(201) }),
      400,
      "INVALID_REQUEST",
    );
    expect(long.details?.fields).toEqual([{ field: "reason", message: "reason must be at most 200 characters" }]);
    await expectError(await breaker("agent-custom", "open", "{not json"), 400, "INVALID_JSON");
    await expectError(await breaker("agent-custom", "open", { reason: 42 }), 400, "INVALID_REQUEST");
    await expectError(await breaker("agent-custom", "open", { reason: "   " }), 400, "INVALID_REQUEST");
    await expectError(await breaker("agent-custom", "open", ["reason"]), 400, "INVALID_REQUEST");
    const unknown = await expectError(
      await breaker("agent-custom", "close", { reason: "ok", force: true }),
      400,
      "INVALID_REQUEST",
    );
    expect(unknown.details?.fields).toEqual([{ field: "force", message: "Unknown field" }]);
    const plain = await SELF.fetch(`${BASE}/v1/agents/agent-custom/breaker/open`, {
      method: "POST",
      headers: { "X-API-Key": ADMIN_KEY, "Content-Type": "text/plain" },
      body: "because",
    });
    await expectError(plain, 415, "UNSUPPORTED_MEDIA_TYPE");
    // Exactly 200 characters is fine.
    const max = await ok<ChangeBody>(await breaker("agent-demo", "open", { reason: "y".repeat(200) }));
    expect(max.change.reason).toHaveLength(200);

    expect(await stateOf("agent-custom")).toBe("closed");
    expect(await auditRows("agent-custom", seen)).toEqual([]);
  });

  it("when the audit write fails, the change still applies, the entry is logged at error level and the answer says audited: false", async () => {
    await env.ACCESS_DB.exec("ALTER TABLE audit_log RENAME TO audit_log_away");
    restore = async () => void (await env.ACCESS_DB.exec("ALTER TABLE audit_log_away RENAME TO audit_log"));
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(String(line)));
    const opened = await ok<ChangeBody>(await breaker("agent-custom", "open", { reason: "D1 is down too" }));
    expect(opened.audited).toBe(false);
    const logged = errors
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === "admin action applied but not audited");
    expect(logged).toMatchObject({
      level: "error",
      request_id: opened.request_id,
      actor: adminId,
      action: "breaker.open",
      target: "agent-custom",
      details: { reason: "D1 is down too", from: "closed", to: "isolated" },
    });
    expect(errors.join("\n")).not.toContain(ADMIN_KEY);
    expect(opened.change.to).toBe("isolated");
    expect(await stateOf("agent-custom")).toBe("isolated");
    await expectError(await echo("agent-custom"), 503, "CIRCUIT_OPEN");
  });
});
