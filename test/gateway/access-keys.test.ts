/**
 * Managed API keys, end to end through the real gateway, D1 (ACCESS_DB) and
 * agents: creation shows the secret once, scopes (403), rotation with zero
 * failed requests during the overlap, revocation within AUTH_CACHE_TTL_MS,
 * expiry, the failed-auth throttle, the audit log, and a key never appearing
 * in logs, traces, the request log or errors.
 */
import { SELF, createExecutionContext, env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sha256, toHex } from "../../workers/gateway/src/auth/api-keys";
import type { KeyView } from "../../workers/gateway/src/auth/key-store";
import worker from "../../workers/gateway/src/index";
import { ADMIN_KEY, BASE, KEY, admin, expectError, pollUntil } from "./helpers";

/** The revocation bound configured in wrangler.toml (AUTH_CACHE_TTL_MS). */
const TTL_MS = Number(env.AUTH_CACHE_TTL_MS);

async function createKey(body: Record<string, unknown>): Promise<{ key: KeyView; secret: string }> {
  const res = await admin("POST", "/v1/keys", { name: "test", scopes: ["*"], ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { key: KeyView; secret: string };
}

function call(
  credential: Record<string, string>,
  agent = "agent-demo",
  task = "echo",
  extra: Record<string, string> = {},
): Promise<Response> {
  return SELF.fetch(`${BASE}/agents/${agent}/execute`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...credential, ...extra },
    body: JSON.stringify({ task, parameters: task === "chaos" ? {} : { text: "hi" } }),
  });
}

const withKey = (secret: string) => ({ "X-API-Key": secret });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => vi.restoreAllMocks());

describe("managed keys: creation and reading", () => {
  it("shows the secret once; listings show its prefix, never the secret or its hash; D1 holds only the hash", async () => {
    const { key, secret } = await createKey({ name: "ci-bot", scopes: ["agent-demo:echo"] });
    expect(secret).toMatch(/^zk_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({ name: "ci-bot", scopes: ["agent-demo:echo"], status: "active", revoked_at: null });
    expect(key.id).toMatch(/^key_[0-9a-f]{16}$/);
    expect(key.secrets).toEqual([{ prefix: secret.slice(0, 11), created_at: key.created_at, not_after: null }]);
    const hash = toHex(await sha256(secret));
    for (const res of [await admin("GET", "/v1/keys"), await admin("GET", `/v1/keys/${key.id}`)]) {
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(text).toContain(key.id);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hash);
    }
    const stored = await env.ACCESS_DB.prepare("SELECT * FROM api_key_secrets WHERE key_id = ?").bind(key.id).all();
    expect(stored.results).toHaveLength(1);
    expect(stored.results[0]?.hash).toBe(hash);
    const everything = JSON.stringify([
      stored.results,
      (await env.ACCESS_DB.prepare("SELECT * FROM api_keys").all()).results,
    ]);
    expect(everything).not.toContain(secret);
  });

  it("refuses bad settings with 400 naming each field", async () => {
    const res = await admin("POST", "/v1/keys", {
      name: "x",
      scopes: ["agent-demo:nope", "bogus", "agent-nope:*", "*:echo"],
      expires_at: "2001-01-01T00:00:00Z",
    });
    const body = await expectError(res, 400, "INVALID_REQUEST");
    const fields = (body.details?.fields as { field: string }[]).map((f) => f.field).sort();
    expect(fields).toEqual(["expires_at", "scopes[0]", "scopes[1]", "scopes[2]"]);
    await expectError(await admin("POST", "/v1/keys", { name: "x", scopes: [] }), 400, "INVALID_REQUEST");
    await expectError(
      await admin("POST", "/v1/keys", { name: "x", scopes: ["*"], secret: "mine" }),
      400,
      "INVALID_REQUEST",
    );
    await expectError(
      await admin("POST", "/v1/keys", { name: "x", scopes: ["*"], rate_limit: { requests_per_minute: 0 } }),
      400,
      "INVALID_REQUEST",
    );
    await expectError(await admin("GET", "/v1/keys/key_0000000000000000"), 404, "KEY_NOT_FOUND");
    await expectError(await admin("GET", "/v1/keys?limit=0&color=red"), 400, "INVALID_REQUEST");
  });

  it("pages the listing and hides revoked keys unless asked", async () => {
    const made = await Promise.all([1, 2, 3].map((n) => createKey({ name: `page-${n}` })));
    await admin("POST", `/v1/keys/${made[0]!.key.id}/revoke`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await admin("GET", `/v1/keys?limit=1&include_revoked=true${cursor ? `&cursor=${cursor}` : ""}`)
      ).json()) as { keys: KeyView[]; next_cursor: string | null };
      seen.push(...page.keys.map((k) => k.id));
      cursor = page.next_cursor;
    } while (cursor);
    for (const m of made) expect(seen).toContain(m.key.id);
    const active = (await (await admin("GET", "/v1/keys?limit=200")).json()) as { keys: KeyView[] };
    expect(active.keys.map((k) => k.id)).not.toContain(made[0]!.key.id);
  });
});

describe("managed keys: scopes", () => {
  it("a key scoped to agent-demo:echo calls echo (header or bearer); anything else is 403 FORBIDDEN", async () => {
    const { secret } = await createKey({ scopes: ["agent-demo:echo"] });
    expect((await call(withKey(secret))).status).toBe(200);
    expect((await call({ Authorization: `Bearer ${secret}` })).status).toBe(200);
    await expectError(await call(withKey(secret), "agent-demo", "chaos"), 403, "FORBIDDEN");
    await expectError(await call(withKey(secret), "agent-custom", "echo"), 403, "FORBIDDEN");
    await expectError(await SELF.fetch(`${BASE}/v1/keys`, { headers: withKey(secret) }), 403, "FORBIDDEN");
    await expectError(await SELF.fetch(`${BASE}/metrics`, { headers: withKey(secret) }), 403, "FORBIDDEN");
    const agents = (await (await SELF.fetch(`${BASE}/agents`, { headers: withKey(secret) })).json()) as {
      agents: { name: string; capabilities: { name: string }[] }[];
    };
    expect(agents.agents.map((a) => [a.name, a.capabilities.map((c) => c.name)])).toEqual([["agent-demo", ["echo"]]]);
  });

  it("an admin-scoped key runs the admin API but calls no agent; scopes can be changed", async () => {
    const { key, secret } = await createKey({ scopes: ["admin"] });
    expect((await SELF.fetch(`${BASE}/v1/keys`, { headers: withKey(secret) })).status).toBe(200);
    await expectError(await call(withKey(secret)), 403, "FORBIDDEN");
    const updated = await admin("PATCH", `/v1/keys/${key.id}`, { scopes: ["agent-demo:*"], name: "renamed" });
    expect(((await updated.json()) as { key: KeyView }).key).toMatchObject({
      name: "renamed",
      scopes: ["agent-demo:*"],
    });
    // The change applies once this isolate's cached lookup is older than the TTL.
    const res = await pollUntil(
      () => call(withKey(secret), "agent-demo", "chaos"),
      (r) => r.status === 200,
      Math.ceil((TTL_MS + 1000) / 50),
      50,
    );
    expect(res.status).toBe(200);
  });
});

describe("managed keys: rotation, revocation, expiry", () => {
  it("rotation: zero failed requests while callers move to the new secret; the old one stops after the grace", async () => {
    // Its own generous rate limit, and callers paced under agent-demo's burst of 50: only auth can fail here.
    const { key, secret: oldSecret } = await createKey({
      scopes: ["agent-demo:echo"],
      rate_limit: { requests_per_minute: 60_000, burst: 1000 },
    });
    let current = oldSecret;
    const statuses: number[] = [];
    let running = true;
    // Four callers keep calling with whatever secret they hold, before, during and after the rotation.
    const callers = [1, 2, 3, 4].map(async () => {
      while (running) {
        const res = await call(withKey(current));
        statuses.push(res.status);
        await res.arrayBuffer();
        await sleep(100);
      }
    });
    await sleep(300);
    const rotated = await admin("POST", `/v1/keys/${key.id}/rotate`, { grace_seconds: 2 });
    expect(rotated.status).toBe(200);
    const {
      secret: newSecret,
      key: after,
      previous_valid_until,
    } = (await rotated.json()) as { secret: string; key: KeyView; previous_valid_until: number };
    expect(newSecret).not.toBe(oldSecret);
    expect(after.id).toBe(key.id);
    expect(after.secrets.map((s) => s.prefix)).toEqual([oldSecret.slice(0, 11), newSecret.slice(0, 11)]);
    await sleep(500);
    current = newSecret;
    await sleep(500);
    running = false;
    await Promise.all(callers);
    expect(statuses.length).toBeGreaterThan(8);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // After the grace (plus at most one cache TTL), the old secret is refused and the new one still works.
    const deadline = Math.max(previous_valid_until, Date.now()) + TTL_MS + 1000;
    const old = await pollUntil(
      () => call(withKey(oldSecret)),
      (r) => r.status === 401 || Date.now() > deadline,
      400,
      50,
    );
    const body = await expectError(old, 401, "UNAUTHORIZED");
    expect(body.error).toMatch(/rotated/);
    expect((await call(withKey(newSecret))).status).toBe(200);
  });

  it(`revocation takes effect within AUTH_CACHE_TTL_MS (${TTL_MS} ms) and stays in effect`, async () => {
    const { key, secret } = await createKey({ scopes: ["*"] });
    expect((await call(withKey(secret))).status).toBe(200); // cached in this isolate now
    const revokedAt = Date.now();
    const res = await admin("POST", `/v1/keys/${key.id}/revoke`);
    expect(((await res.json()) as { key: KeyView }).key.status).toBe("revoked");
    const first401 = await pollUntil(
      () => call(withKey(secret)),
      (r) => r.status === 401,
      Math.ceil((TTL_MS + 2000) / 50),
      50,
    );
    const elapsed = Date.now() - revokedAt;
    expect((await expectError(first401, 401, "UNAUTHORIZED")).error).toMatch(/revoked/);
    expect(elapsed).toBeLessThanOrEqual(TTL_MS + 1000);
    for (let i = 0; i < 5; i++) expect((await call(withKey(secret))).status).toBe(401);
    await expectError(await admin("POST", `/v1/keys/${key.id}/rotate`), 409, "KEY_REVOKED");
  });

  it("an expired key is refused (expiry is exact, not bound by the cache)", async () => {
    const { secret } = await createKey({ scopes: ["*"], expires_in_seconds: 1 });
    expect((await call(withKey(secret))).status).toBe(200);
    const res = await pollUntil(
      () => call(withKey(secret)),
      (r) => r.status === 401,
      60,
      50,
    );
    expect((await expectError(res, 401, "UNAUTHORIZED")).error).toMatch(/expired/);
    const stored = await env.ACCESS_DB.prepare(
      "SELECT expires_at FROM api_keys ORDER BY created_at DESC LIMIT 1",
    ).first<{ expires_at: number }>();
    expect(Date.now()).toBeGreaterThanOrEqual(stored!.expires_at);
  });
});

describe("managed keys: limits (enforced per key and agent by the upstream guard)", () => {
  it("a key's own rate limit applies to it alone", async () => {
    const limited = await createKey({ scopes: ["agent-demo:echo"], rate_limit: { requests_per_minute: 3, burst: 3 } });
    const other = await createKey({ scopes: ["agent-demo:echo"] });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(withKey(limited.secret))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const res = await call(withKey(limited.secret));
    await expectError(res, 429, "RATE_LIMITED");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect((await call(withKey(other.secret))).status).toBe(200);
  });

  it("a key's daily token budget: refused before the call once what is left cannot cover the estimate; usage settles to what was used", async () => {
    // The reservation is the manifest's token_estimate (1000) capped at the budget, as for the agent's own budget.
    const small = await createKey({ scopes: ["agent-demo:summarize"], daily_token_budget: 500 });
    const big = await createKey({ scopes: ["agent-demo:summarize"], daily_token_budget: 5000 });
    const summarize = (secret: string) => call(withKey(secret), "agent-demo", "summarize");
    expect((await summarize(small.secret)).status).toBe(200); // reserves 500, uses 59: 441 left < 500
    const refused = await summarize(small.secret);
    await expectError(refused, 429, "TOKEN_BUDGET_EXCEEDED");
    expect(refused.headers.get("Retry-After")).toBeTruthy();
    expect((await summarize(big.secret)).status).toBe(200);
    const usage = await pollUntil(
      async () =>
        (await (await admin("GET", `/v1/keys/${big.key.id}/usage`)).json()) as {
          agents: { agent: string; tokens: { used: number; reserved: number; remaining: number } | null }[];
        },
      (u) => u.agents.find((a) => a.agent === "agent-demo")?.tokens?.used === 59,
    );
    expect(usage.agents.find((a) => a.agent === "agent-demo")?.tokens).toMatchObject({
      used: 59,
      reserved: 0,
      remaining: 5000 - 59,
    });
    await expectError(await admin("GET", "/v1/keys/key_0000000000000000/usage"), 404, "KEY_NOT_FOUND");
  });
});

describe("failed authentication", () => {
  it("past the limit an address is refused (429) before its credential is checked, except credentials already in use here", async () => {
    const ip = { "CF-Connecting-IP": "203.0.113.7" };
    const { secret } = await createKey({ scopes: ["*"] });
    // KEY is in use from elsewhere: this isolate has verified it.
    expect((await call(withKey(KEY), "agent-demo", "echo", { "CF-Connecting-IP": "203.0.113.9" })).status).toBe(200);
    const limit = Number(env.AUTH_FAILURE_LIMIT);
    for (let i = 0; i < limit; i++)
      await expectError(await call(withKey(`zk_wrong-${i}`), "agent-demo", "echo", ip), 401, "UNAUTHORIZED");
    const limited = await call(withKey("zk_wrong-again"), "agent-demo", "echo", ip);
    await expectError(limited, 429, "TOO_MANY_AUTH_FAILURES");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    // A right guess looks exactly like a wrong one...
    await expectError(await call(withKey(secret), "agent-demo", "echo", ip), 429, "TOO_MANY_AUTH_FAILURES");
    // ...but a caller already verified here is not locked out by a noisy neighbour, and other addresses are unaffected.
    expect((await call(withKey(KEY), "agent-demo", "echo", ip)).status).toBe(200);
    expect((await call(withKey(secret), "agent-demo", "echo", { "CF-Connecting-IP": "203.0.113.8" })).status).toBe(200);
    await expectError(
      await call(withKey("zk_wrong"), "agent-demo", "echo", { "CF-Connecting-IP": "203.0.113.8" }),
      401,
      "UNAUTHORIZED",
    );
  });

  it("a missing credential is 401 naming both ways to send one", async () => {
    const body = await expectError(await call({}), 401, "UNAUTHORIZED");
    expect(body.error).toMatch(/X-API-Key/);
    expect(body.error).toMatch(/Bearer/);
  });
});

describe("audit log", () => {
  it("records create, update, rotate and revoke: who, what, when, never a secret", async () => {
    const { key, secret } = await createKey({ name: "audited", scopes: ["agent-demo:echo"] });
    await admin("PATCH", `/v1/keys/${key.id}`, { daily_token_budget: 5000 });
    const rotated = (await (await admin("POST", `/v1/keys/${key.id}/rotate`, { grace_seconds: 60 })).json()) as {
      secret: string;
    };
    await admin("POST", `/v1/keys/${key.id}/revoke`);
    const res = await admin("GET", `/v1/audit?target=${key.id}`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(rotated.secret);
    expect(text).not.toContain(toHex(await sha256(secret)));
    const { entries } = JSON.parse(text) as {
      entries: { action: string; actor: string; request_id: string; time: string; details: Record<string, unknown> }[];
    };
    expect(entries.map((e) => e.action)).toEqual(["key.revoke", "key.rotate", "key.update", "key.create"]);
    const adminId = `key_${toHex(await sha256(ADMIN_KEY)).slice(0, 12)}`;
    for (const e of entries) {
      expect(e.actor).toBe(adminId);
      expect(e.request_id).toBeTruthy();
      expect(Date.parse(e.time)).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(entries[1]?.details).toMatchObject({ grace_seconds: 60, prefix: rotated.secret.slice(0, 11) });
    const created = (await (await admin("GET", `/v1/audit?action=key.create&target=${key.id}`)).json()) as {
      entries: unknown[];
    };
    expect(created.entries).toHaveLength(1);
    await expectError(await SELF.fetch(`${BASE}/v1/audit`, { headers: withKey(KEY) }), 403, "FORBIDDEN");
    // An admin client acting for a person (the dashboard) names them; the actor stays the credential.
    const headers = { "X-API-Key": ADMIN_KEY, "X-Zahara-On-Behalf-Of": "ana@example.com" };
    await SELF.fetch(`${BASE}/v1/keys`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "x", scopes: ["*"] }),
    });
    await SELF.fetch(`${BASE}/v1/keys`, {
      method: "POST",
      headers: { ...headers, "X-Zahara-On-Behalf-Of": "bad\u0001value", "Content-Type": "application/json" },
      body: JSON.stringify({ name: "x", scopes: ["*"] }),
    });
    const recent = (await (await admin("GET", "/v1/audit?limit=2")).json()) as {
      entries: { action: string; actor: string; details: Record<string, unknown> }[];
    };
    expect(recent.entries.map((e) => [e.action, e.actor, e.details.on_behalf_of])).toEqual([
      ["key.create", adminId, undefined],
      ["key.create", adminId, "ana@example.com"],
    ]);
    await expectError(await admin("GET", "/v1/audit?since=yesterday"), 400, "INVALID_REQUEST");
  });
});

describe("secrecy", () => {
  it("a managed key never appears in log lines, traces, the request log or error bodies", async () => {
    const { secret } = await createKey({ scopes: ["agent-demo:echo"] });
    const lines: string[] = [];
    for (const m of ["log", "info", "warn", "error", "debug"] as const)
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const ctx = createExecutionContext();
    // Spans go to the steady receiver: tracing tests in other files switch the shared one to fail or down.
    const steady = env as unknown as { TEST_OTLP_STEADY_ENDPOINT: string; TEST_OTLP_STEADY_CONTROL_URL: string };
    const debugEnv = {
      ...env,
      LOG_LEVEL: "debug",
      OTEL_EXPORTER_OTLP_ENDPOINT: steady.TEST_OTLP_STEADY_ENDPOINT,
    } as Env;
    const ids: string[] = [];
    const bodies: string[] = [];
    const send = async (headers: Record<string, string>, task = "echo") => {
      const id = `secrecy-${crypto.randomUUID()}`;
      ids.push(id);
      const res = await worker.fetch(
        new Request(`${BASE}/agents/agent-demo/execute`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Request-Id": id, ...headers },
          body: JSON.stringify({ task, parameters: { text: "x" } }),
        }),
        debugEnv,
        ctx,
      );
      bodies.push(await res.text());
      return res.status;
    };
    expect(await send(withKey(secret))).toBe(200);
    expect(await send({ Authorization: `Bearer ${secret}` })).toBe(200);
    expect(await send(withKey(secret), "chaos")).toBe(403);
    expect(await send(withKey(`${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`))).toBe(401);
    vi.restoreAllMocks();
    const rows = await pollUntil(
      async () =>
        (
          await env.REQUEST_LOG.prepare(`SELECT * FROM requests WHERE request_id IN (${ids.map(() => "?").join(",")})`)
            .bind(...ids)
            .all()
        ).results,
      (r) => r.length === ids.length,
      500, // up to 10 s: the writes run after the responses, slowly on a loaded machine
    );
    expect(rows).toHaveLength(ids.length);
    const control = steady.TEST_OTLP_STEADY_CONTROL_URL;
    const spans = await pollUntil(
      async () => await (await fetch(`${control}/spans`)).text(),
      (text) => ids.every((id) => text.includes(id)),
      500,
    );
    expect(lines.length).toBeGreaterThan(0);
    for (const [where, text] of [
      ["logs", lines.join("\n")],
      ["errors", bodies.join("\n")],
      ["request log", JSON.stringify(rows)],
      ["traces", spans],
    ] as const) {
      expect(text.includes(secret), `the key appears in ${where}`).toBe(false);
      expect(text.includes(secret.slice(0, -1)), `the wrong key appears in ${where}`).toBe(false);
    }
  });

  it("when D1 cannot answer, a key already verified in this isolate keeps working; an unknown one gets 503", async () => {
    const { secret } = await createKey({ scopes: ["*"] });
    const ctx = createExecutionContext();
    const broken = {
      prepare: () => {
        throw new Error("D1 is down");
      },
    } as unknown as D1Database;
    const send = (e: Env, key: string) =>
      worker.fetch(
        new Request(`${BASE}/agents/agent-demo/execute`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-API-Key": key },
          body: JSON.stringify({ task: "echo", parameters: {} }),
        }),
        e,
        ctx,
      );
    // TTL 0: every request goes to D1, so the second one sees D1 fail and falls back to the stale entry.
    expect((await send({ ...env, AUTH_CACHE_TTL_MS: "0" } as Env, secret)).status).toBe(200);
    expect((await send({ ...env, AUTH_CACHE_TTL_MS: "0", ACCESS_DB: broken } as Env, secret)).status).toBe(200);
    const res = await send({ ...env, AUTH_CACHE_TTL_MS: "0", ACCESS_DB: broken } as Env, "zk_never-seen-before-key");
    await expectError(res, 503, "AUTH_UNAVAILABLE");
    expect(res.headers.get("Retry-After")).toBe("1");
  });
});
