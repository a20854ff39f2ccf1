/**
 * A run's webhook and its retention, end to end in workerd: the gateway
 * posts the finished run to a real HTTP receiver (test/doubles/webhook-receiver.ts),
 * signed as Standard Webhooks says, which the `standardwebhooks` library
 * verifies; a receiver that is down is retried on the schedule and then given
 * up, with every attempt on the run; a refused URL is a 400 at creation; and
 * the retention purge deletes finished runs (docs/runs.md).
 */
import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../workers/shared/logger";
import { purgeExpiredRuns } from "../../workers/gateway/src/runs/retention";
import type { RunView } from "../../workers/gateway/src/runs/types";
import { HASHED_KEY, expectError, get, pollUntil, post } from "./helpers";

interface Delivery {
  headers: Record<string, string>;
  body: string;
  received_at: number;
  response: { status: number };
}

/** A receiving path of its own, answering as `mode` says. */
async function receiver(
  mode: string,
  extra: object = {},
): Promise<{ url: string; deliveries: () => Promise<Delivery[]> }> {
  const path = `/runs-${crypto.randomUUID()}`;
  const res = await fetch(`${env.TEST_WEBHOOK_URL}/__mode__`, {
    method: "POST",
    body: JSON.stringify({ path, mode, ...extra }),
  });
  expect(res.ok).toBe(true);
  return {
    url: `${env.TEST_WEBHOOK_URL}${path}`,
    deliveries: async () =>
      (
        await (
          await fetch(`${env.TEST_WEBHOOK_URL}/__received__?path=${encodeURIComponent(path)}`)
        ).json<{ deliveries: Delivery[] }>()
      ).deliveries,
  };
}

async function startWithCallback(url: string, parameters: Record<string, unknown> = {}): Promise<string> {
  const res = await post(
    "/agents/agent-demo/execute",
    { task: "chaos", parameters, callback: { url } },
    { Prefer: "respond-async" },
  );
  const text = await res.text();
  expect(res.status, text).toBe(202);
  return (JSON.parse(text) as { run_id: string }).run_id;
}

async function read(id: string): Promise<RunView> {
  return (await get(`/v1/runs/${id}`)).json<RunView>();
}

describe("webhooks", () => {
  it("post the finished run once, signed so that a Standard Webhooks verifier accepts it", async () => {
    const hook = await receiver("ok");
    const id = await startWithCallback(hook.url, { delay_ms: 200 });
    const run = await pollUntil(
      () => read(id),
      (r) => r.callback?.state === "delivered",
      60,
      100,
    );
    expect(run.callback).toMatchObject({
      url: hook.url,
      state: "delivered",
      deliveries: [{ attempt: 1, ok: true, status: 204 }],
    });
    const [delivery, ...more] = await hook.deliveries();
    expect(more).toHaveLength(0);
    expect(delivery!.headers["webhook-id"]).toBe(`msg_${id}`);
    expect(delivery!.headers["content-type"]).toMatch(/^application\/json/);
    const verified = new Webhook(env.WEBHOOK_SIGNING_SECRET).verify(delivery!.body, delivery!.headers) as RunView;
    expect(verified).toMatchObject({ run_id: id, status: "succeeded", agent: "agent-demo", task: "chaos" });
    expect(verified.result).toBeDefined();
    // A forged body fails verification.
    expect(() =>
      new Webhook(env.WEBHOOK_SIGNING_SECRET).verify(delivery!.body.replace("succeeded", "failed"), delivery!.headers),
    ).toThrow();
  });

  it("are retried on the schedule while the receiver is down, then given up; the run stays readable", async () => {
    const hook = await receiver("down");
    const id = await startWithCallback(hook.url);
    const run = await pollUntil(
      () => read(id),
      (r) => r.callback?.state === "failed",
      100,
      100,
    );
    expect(run.status).toBe("succeeded");
    // RUN_WEBHOOK_RETRY_SCHEDULE_MS is "200,400" here: three attempts, the last two after their waits.
    expect(run.callback!.deliveries.map((d) => [d.attempt, d.ok, d.status])).toEqual([
      [1, false, 503],
      [2, false, 503],
      [3, false, 503],
    ]);
    const received = await hook.deliveries();
    expect(received).toHaveLength(3);
    expect(new Set(received.map((d) => d.headers["webhook-id"]))).toEqual(new Set([`msg_${id}`]));
    expect(received[1]!.received_at - received[0]!.received_at).toBeGreaterThanOrEqual(180);
    expect(received[2]!.received_at - received[1]!.received_at).toBeGreaterThanOrEqual(380);
  });

  it("recover when the receiver comes back before the retries run out", async () => {
    const hook = await receiver("ok", { fail_first: 1 });
    const id = await startWithCallback(hook.url);
    const run = await pollUntil(
      () => read(id),
      (r) => r.callback?.state === "delivered",
      60,
      100,
    );
    expect(run.callback!.deliveries.map((d) => d.ok)).toEqual([false, true]);
  });

  it("time out on a slow receiver, and never follow a redirect", async () => {
    const slow = await receiver("slow", { slow_ms: 5000 });
    const redirect = await receiver("redirect");
    const [a, b] = [await startWithCallback(slow.url), await startWithCallback(redirect.url)];
    const slowRun = await pollUntil(
      () => read(a),
      (r) => (r.callback?.deliveries.length ?? 0) >= 1,
      100,
      100,
    );
    expect(slowRun.callback!.deliveries[0]).toMatchObject({ ok: false, error: expect.stringMatching(/timed out/) });
    const redirected = await pollUntil(
      () => read(b),
      (r) => (r.callback?.deliveries.length ?? 0) >= 1,
      60,
      100,
    );
    expect(redirected.callback!.deliveries[0]).toMatchObject({ ok: false, status: 302 });
  });

  it("are sent for a cancelled run too", async () => {
    const hook = await receiver("ok");
    const id = await startWithCallback(hook.url, { delay_ms: 20_000 });
    await pollUntil(
      () => read(id),
      (r) => r.status === "running",
      50,
      100,
    );
    expect((await post(`/v1/runs/${id}/cancel`, {})).status).toBe(200);
    const run = await pollUntil(
      () => read(id),
      (r) => r.callback?.state === "delivered",
      60,
      100,
    );
    const [delivery] = await hook.deliveries();
    expect((JSON.parse(delivery!.body) as RunView).status).toBe("cancelled");
    expect(run.status).toBe("cancelled");
  });
});

describe("callback URLs refused at creation (400 INVALID_CALLBACK, with the reason)", () => {
  const refused: [string, unknown, RegExp][] = [
    ["not a string", 42, /string/],
    ["not a URL", "not a url", /URL/i],
    ["too long", `https://example.com/${"a".repeat(2100)}`, /long|2048/],
    ["not https", "ftp://example.com/hook", /https/],
    ["http to a public host", "http://example.com/hook", /https/],
    ["credentials in the URL", "https://user:pass@example.com/hook", /credential|user/i],
    ["a private address", "https://10.1.2.3/hook", /private|not public|10\.1\.2\.3/],
    ["the metadata address", "https://169.254.169.254/latest", /169\.254|link-local|metadata/],
    ["an internal name", "https://metadata.google.internal/computeMetadata/v1/", /internal|metadata/],
    ["an IPv6 unique-local address", "https://[fd00::1]/hook", /fd00|private|not public/],
    ["an IPv4 written as one number", "https://2130706433/hook", /127\.0\.0\.1|loopback/],
  ];
  for (const [what, url, reason] of refused) {
    it(what, async () => {
      const res = await post(
        "/agents/agent-demo/execute",
        { task: "chaos", parameters: {}, callback: { url } },
        { Prefer: "respond-async" },
      );
      const err = await expectError(res, 400, typeof url === "string" ? "INVALID_CALLBACK" : "INVALID_REQUEST");
      expect(err.error).toMatch(reason);
    });
  }
});

describe("retention", () => {
  it("deletes runs that ended more than RUN_RETENTION_DAYS ago, and their listing rows; others stay", async () => {
    const res = await post(
      "/agents/agent-demo/execute",
      { task: "chaos", parameters: {} },
      { Prefer: "respond-async", "X-API-Key": HASHED_KEY },
    );
    const { run_id } = await res.json<{ run_id: string }>();
    const readAs = async () => get(`/v1/runs/${run_id}`, { "X-API-Key": HASHED_KEY });
    await pollUntil(
      async () => (await readAs()).json<RunView>(),
      (r) => r.status === "succeeded",
      50,
      100,
    );
    const listed = async () =>
      (await (await get("/v1/runs?limit=100", { "X-API-Key": HASHED_KEY })).json<{ runs: RunView[] }>()).runs.map(
        (r) => r.run_id,
      );
    await pollUntil(listed, (ids) => ids.includes(run_id), 50, 100);
    const logger = createLogger({ service: "test", level: "error" });
    // Six days on, nothing goes; eight days on, the run goes.
    await purgeExpiredRuns(env, Date.now() + 6 * 86_400_000, logger);
    expect((await readAs()).status).toBe(200);
    expect(await purgeExpiredRuns(env, Date.now() + 8 * 86_400_000, logger)).toBeGreaterThanOrEqual(1);
    await expectError(await readAs(), 404, "RUN_NOT_FOUND");
    expect(await listed()).not.toContain(run_id);
  });
});
