/**
 * Run webhooks, as specifications (in workerd): signatures are Standard
 * Webhooks signatures (the spec's published vectors, and the real
 * `standardwebhooks` library verifies them, refusing any tampering); one
 * delivery attempt against a real HTTP receiver (test/doubles/webhook-receiver.ts)
 * succeeds only on 2xx, refuses redirects, times out, survives an unreachable
 * host without leaking the URL's query, and reads at most 64 KiB of an answer;
 * the retry schedule and its setting; the SSRF guard on `callback.url`, as a table
 * of URLs, and its DNS check through a DoH resolver double (test/doubles/doh-server.ts).
 */
import { env } from "cloudflare:test";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReceivedDelivery } from "../doubles/webhook-receiver";
import {
  type CallbackPolicy,
  checkCallbackTarget,
  checkCallbackUrl,
  isPublicAddress,
  resolveCallbackPolicy,
} from "../../workers/gateway/src/runs/callback-url";
import {
  type DeliveryOutcome,
  WEBHOOK_RETRY_SCHEDULE_MS,
  deliverWebhook,
  importWebhookSecret,
  parseRetrySchedule,
  scaledRetryDelays,
  signWebhook,
  webhookHeaders,
  webhookRetryDelayMs,
} from "../../workers/gateway/src/runs/webhook";

/** The secret of the spec libraries' own tests (24 bytes). */
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BODY = JSON.stringify({ run_id: "run_01", status: "succeeded", result: { summary: "done" } });
/** Receiving paths are unique to this run of this file, so parallel files and reruns never mix deliveries. */
const RUN = crypto.randomUUID().slice(0, 8);

let key: CryptoKey;
beforeAll(async () => {
  key = (await importWebhookSecret(SECRET)) as CryptoKey;
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64 = (bytes: number) => btoa(String.fromCharCode(...new Uint8Array(bytes).fill(7)));

describe("signing, per the Standard Webhooks spec", () => {
  it("reproduces the spec libraries' published signatures", async () => {
    expect(await signWebhook(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')).toBe(
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    );
    const rustKey = (await importWebhookSecret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")) as CryptoKey;
    const body = '{"email":"test@example.com","username":"test_user"}';
    expect(await signWebhook(rustKey, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body)).toBe(
      "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    );
  });

  it("sends the three webhook- headers, JSON content type and its user agent, which the standardwebhooks library verifies", async () => {
    const ts = nowSeconds();
    const headers = await webhookHeaders(key, "msg_run_01", ts, BODY);
    expect(Object.keys(headers).sort()).toEqual([
      "content-type",
      "user-agent",
      "webhook-id",
      "webhook-signature",
      "webhook-timestamp",
    ]);
    expect(headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "Zahara-Webhooks/1",
      "webhook-id": "msg_run_01",
      "webhook-timestamp": String(ts),
    });
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY));
    expect(headers["webhook-signature"]).toBe(new Webhook(SECRET).sign("msg_run_01", new Date(ts * 1000), BODY));
  });

  it("fails verification when the body, id or timestamp is tampered with, or another secret is used", async () => {
    const ts = nowSeconds();
    const headers = await webhookHeaders(key, "msg_run_01", ts, BODY);
    const wh = new Webhook(SECRET);
    expect(() => wh.verify(BODY.replace("succeeded", "failed"), headers)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(`${BODY} `, headers)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(BODY, { ...headers, "webhook-id": "msg_run_02" })).toThrow(WebhookVerificationError);
    expect(() => wh.verify(BODY, { ...headers, "webhook-timestamp": String(ts + 1) })).toThrow(
      "No matching signature found",
    );
    expect(() => new Webhook(`whsec_${b64(32)}`).verify(BODY, headers)).toThrow(WebhookVerificationError);
    // Correctly signed but ten minutes old: the library's replay window (5 min) refuses it.
    const stale = await webhookHeaders(key, "msg_run_01", ts - 600, BODY);
    expect(() => wh.verify(BODY, stale)).toThrow("Message timestamp too old");
  });

  it("refuses an id holding '.' or whitespace, or a timestamp that is not whole seconds (programming errors)", async () => {
    await expect(signWebhook(key, "msg.1", 1, BODY)).rejects.toThrow(RangeError);
    await expect(signWebhook(key, "", 1, BODY)).rejects.toThrow(RangeError);
    await expect(signWebhook(key, "msg_1", 1.5, BODY)).rejects.toThrow(RangeError);
  });
});

describe("importWebhookSecret", () => {
  it("accepts whsec_<base64> and bare base64 keys of at least 24 bytes, which sign alike", async () => {
    const bare = (await importWebhookSecret(SECRET.slice("whsec_".length))) as CryptoKey;
    expect(await signWebhook(bare, "msg_1", 1, BODY)).toBe(await signWebhook(key, "msg_1", 1, BODY));
    for (const ok of [
      `whsec_${b64(24)}`,
      `whsec_${b64(64)}`,
      `whsec_${b64(100)}`,
      `${SECRET}\n`,
      b64(25).replace(/=+$/, ""),
    ]) {
      expect(await importWebhookSecret(ok), ok).toBeDefined();
    }
  });

  it("returns undefined for a missing, malformed or short secret (the caller decides)", async () => {
    const bad = [
      undefined,
      "",
      "   ",
      "whsec_",
      "whsec_!!!not-base64!!!",
      `whsec_${b64(24)}-_`,
      `whsec_${b64(23)}`,
      `whsec_${b64(24)} x`,
    ];
    for (const secret of bad) expect(await importWebhookSecret(secret), String(secret)).toBeUndefined();
  });
});

describe("retry schedule", () => {
  it("waits 5 s, 30 s, 2 min, 10 min, 30 min, 1 h after failed attempts 1 to 6, then gives up: 1 h 42 min 35 s in all", () => {
    expect(WEBHOOK_RETRY_SCHEDULE_MS).toEqual([5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000]);
    expect(WEBHOOK_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0)).toBe(((1 * 60 + 42) * 60 + 35) * 1000);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => webhookRetryDelayMs(n))).toEqual([...WEBHOOK_RETRY_SCHEDULE_MS, undefined]);
    for (const corrupt of [0, -1, 1.5, Number.NaN]) expect(webhookRetryDelayMs(corrupt)).toBeUndefined();
    expect(webhookRetryDelayMs(2, [10, 20])).toBe(20);
    expect(webhookRetryDelayMs(3, [10, 20])).toBeUndefined();
  });

  it("scales to milliseconds for tests", () => {
    expect(scaledRetryDelays(0.001)).toEqual([5, 30, 120, 600, 1800, 3600]);
    expect(scaledRetryDelays(0.000_001)).toEqual([1, 1, 1, 1, 2, 4]);
    expect(() => scaledRetryDelays(0)).toThrow(RangeError);
  });

  it("reads RUN_WEBHOOK_RETRY_SCHEDULE_MS as a comma list of ms, falling back to the default when unset or invalid", () => {
    expect(parseRetrySchedule("10, 20,30")).toEqual([10, 20, 30]);
    expect(parseRetrySchedule("0")).toEqual([0]);
    const invalid = [
      undefined,
      "",
      " ",
      "10,abc",
      "-5",
      "1.5",
      "10,,20",
      "86400001",
      Array.from({ length: 21 }, () => "1").join(","),
    ];
    for (const value of invalid)
      expect(parseRetrySchedule(value), String(value)).toEqual([...WEBHOOK_RETRY_SCHEDULE_MS]);
    const copy = parseRetrySchedule(undefined);
    copy[0] = 1;
    expect(WEBHOOK_RETRY_SCHEDULE_MS[0]).toBe(5_000);
  });
});

async function receiverMode(path: string, mode: string, extra: Record<string, number> = {}): Promise<void> {
  const res = await fetch(`${env.TEST_WEBHOOK_URL}/__mode__`, {
    method: "POST",
    body: JSON.stringify({ path, mode, ...extra }),
  });
  expect(res.status).toBe(200);
}

async function received(path: string): Promise<ReceivedDelivery[]> {
  const res = await fetch(`${env.TEST_WEBHOOK_URL}/__received__?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { deliveries: ReceivedDelivery[] }).deliveries;
}

const deliver = (url: string, extra: { timeoutMs?: number; id?: string } = {}) =>
  deliverWebhook({
    url,
    id: extra.id ?? "msg_run_01",
    body: BODY,
    key,
    now: Date.now,
    timeoutMs: extra.timeoutMs ?? 5000,
  });

describe("deliverWebhook: one attempt", () => {
  it("succeeds on 2xx, and the receiver gets the exact body, verifiably signed", async () => {
    const path = `/run-webhooks/${RUN}/ok`;
    const outcome = await deliver(`${env.TEST_WEBHOOK_URL}${path}?tenant=7`);
    expect(outcome).toMatchObject({ ok: true, status: 204 });
    expect(outcome.duration_ms).toBeGreaterThanOrEqual(0);
    const [delivery, ...more] = await received(path);
    expect(more).toEqual([]);
    expect(delivery?.url).toBe(`${path}?tenant=7`);
    expect(delivery?.body).toBe(BODY);
    expect(delivery?.headers["user-agent"]).toBe("Zahara-Webhooks/1");
    expect(new Webhook(SECRET).verify(delivery?.body ?? "", delivery?.headers ?? {})).toEqual(JSON.parse(BODY));
  });

  it("fails with the status when the receiver answers non-2xx", async () => {
    const path = `/run-webhooks/${RUN}/down`;
    await receiverMode(path, "down");
    expect(await deliver(`${env.TEST_WEBHOOK_URL}${path}`)).toMatchObject({
      ok: false,
      status: 503,
      error: "receiver answered 503",
    });
  });

  it("refuses to follow a redirect", async () => {
    const path = `/run-webhooks/${RUN}/redirect`;
    await receiverMode(path, "redirect");
    expect(await deliver(`${env.TEST_WEBHOOK_URL}${path}`)).toMatchObject({
      ok: false,
      status: 302,
      error: "redirect refused",
    });
  });

  it("gives up at the timeout", async () => {
    const path = `/run-webhooks/${RUN}/slow`;
    await receiverMode(path, "slow", { slow_ms: 5000 });
    const outcome = await deliver(`${env.TEST_WEBHOOK_URL}${path}`, { timeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, error: "timed out after 300 ms" });
    expect(outcome.status).toBeUndefined();
    expect(outcome.duration_ms).toBeGreaterThanOrEqual(250);
    expect(outcome.duration_ms).toBeLessThan(3000);
  });

  it("reports an unreachable receiver without the URL's query (where tokens live)", async () => {
    const outcome = await deliver("http://127.0.0.1:1/hook?token=s3cr3t-t0ken#frag");
    expect(outcome.ok).toBe(false);
    expect(outcome.status).toBeUndefined();
    expect(outcome.error).toBeTruthy();
    expect(outcome.error).not.toMatch(/s3cr3t|token=|frag/);
  });

  it("reads at most 64 KiB of an answer and cancels the rest", async () => {
    const path = `/run-webhooks/${RUN}/huge`;
    await receiverMode(path, "huge", { body_bytes: 64 * 1024 * 1024 });
    expect(await deliver(`${env.TEST_WEBHOOK_URL}${path}`)).toMatchObject({ ok: true, status: 200 });
    await new Promise((r) => setTimeout(r, 200));
    const [delivery] = await received(path);
    expect(delivery?.response.completed).toBe(false);
    expect(delivery?.response.bytes_written).toBeLessThan(8 * 1024 * 1024);
  });

  it("never throws: a bad id or a throwing fetcher is a failed attempt", async () => {
    expect(await deliver(`${env.TEST_WEBHOOK_URL}/run-webhooks/${RUN}/never`, { id: "msg.bad" })).toMatchObject({
      ok: false,
    });
    const fetcher = () => Promise.reject(new TypeError("boom at https://hooks.example.com/x?sig=abc"));
    const outcome = await deliverWebhook({
      url: "https://hooks.example.com/x?sig=abc",
      id: "msg_1",
      body: BODY,
      key,
      now: Date.now,
      timeoutMs: 1000,
      fetcher,
    });
    expect(outcome).toMatchObject({ ok: false, error: "boom at https://hooks.example.com/x" });
  });

  it("with the schedule in milliseconds, a receiver failing twice gets the webhook on the third attempt, same id, each signed anew", async () => {
    const path = `/run-webhooks/${RUN}/flaky`;
    await receiverMode(path, "ok", { fail_first: 2 });
    const schedule = scaledRetryDelays(0.001);
    const outcomes: DeliveryOutcome[] = [];
    for (let attempt = 1; ; attempt++) {
      const outcome = await deliver(`${env.TEST_WEBHOOK_URL}${path}`, { id: "msg_run_flaky" });
      outcomes.push(outcome);
      const delay = outcome.ok ? undefined : webhookRetryDelayMs(attempt, schedule);
      if (delay === undefined) break;
      await new Promise((r) => setTimeout(r, delay));
    }
    expect(outcomes.map((o) => o.status)).toEqual([503, 503, 204]);
    const deliveries = await received(path);
    expect(deliveries.map((d) => d.headers["webhook-id"])).toEqual(["msg_run_flaky", "msg_run_flaky", "msg_run_flaky"]);
    for (const d of deliveries) expect(() => new Webhook(SECRET).verify(d.body, d.headers)).not.toThrow();
  });
});

const PROD: CallbackPolicy = {
  allowLoopbackHttp: false,
  allowedHosts: [],
  checkDns: true,
  dohUrl: env.TEST_DOH_URL,
  maxLength: 2048,
};
const DEV: CallbackPolicy = { ...PROD, allowLoopbackHttp: true, checkDns: false };

/** [url, policy, expected reason (substring), or null for accepted]. */
const URLS: [unknown, CallbackPolicy, string | null][] = [
  ["https://hooks.example.com/zahara", PROD, null],
  ["https://hooks.example.com:8443/x?token=abc", PROD, null],
  ["https://example.com./x", PROD, null],
  ["https://bücher.example/x", PROD, null],
  ["https://93.184.215.14/hook", PROD, null],
  ["https://[2606:4700:4700::1111]/hook", PROD, null],
  ...[
    "172.15.255.255",
    "172.32.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "169.253.255.255",
  ].map((ip): [string, CallbackPolicy, null] => [`https://${ip}/`, PROD, null]),
  [42, PROD, "callback.url must be a string"],
  [null, PROD, "callback.url must be a string"],
  [{ url: "https://hooks.example.com/" }, PROD, "callback.url must be a string"],
  [`https://hooks.example.com/${"a".repeat(2048)}`, PROD, "callback.url must be at most 2048 characters"],
  ["", PROD, "callback.url must be an absolute URL"],
  ["not a url", PROD, "whitespace or control characters"],
  ["/relative/path", PROD, "callback.url must be an absolute URL"],
  ["https://hooks.example.com/\n", PROD, "whitespace or control characters"],
  ["ftp://hooks.example.com/x", PROD, "callback.url must use https"],
  ["file:///etc/passwd", PROD, "callback.url must use https"],
  ["javascript:alert(1)", PROD, "callback.url must use https"],
  ["http://hooks.example.com/x", PROD, "callback.url must use https"],
  ["http://127.0.0.1:8787/hook", PROD, "callback.url must use https"],
  ["https://user:pass@hooks.example.com/", PROD, "must not contain a username or password"],
  ["https://user@hooks.example.com/", PROD, "must not contain a username or password"],
  ["https://@hooks.example.com/", PROD, "must not contain a username or password"],
  ...(
    [
      ["0.0.0.0", "an unspecified"],
      ["0.1.2.3", "an unspecified"],
      ["10.0.0.5", "a private"],
      ["100.64.0.1", "a carrier-grade NAT"],
      ["100.127.255.254", "a carrier-grade NAT"],
      ["127.0.0.1", "a loopback"],
      ["127.255.255.254", "a loopback"],
      ["169.254.169.254", "a cloud metadata"],
      ["169.254.1.1", "a link-local"],
      ["172.16.0.1", "a private"],
      ["172.31.255.255", "a private"],
      ["192.0.0.8", "a reserved"],
      ["192.0.2.1", "a documentation"],
      ["192.168.1.1", "a private"],
      ["198.18.0.1", "a benchmarking"],
      ["198.19.255.255", "a benchmarking"],
      ["203.0.113.9", "a documentation"],
      ["224.0.0.1", "a multicast"],
      ["239.255.255.250", "a multicast"],
      ["240.0.0.1", "a reserved"],
      ["255.255.255.255", "a broadcast"],
      ["[::]", "an unspecified"],
      ["[::1]", "a loopback"],
      ["[fc00::1]", "a private"],
      ["[fd12:3456::1]", "a private"],
      ["[fe80::1]", "a link-local"],
      ["[febf::1]", "a link-local"],
      ["[ff02::1]", "a multicast"],
      ["[::ffff:10.0.0.5]", "a private address (::ffff:a00:5)"],
      ["[::ffff:127.0.0.1]", "a loopback"],
      ["[::ffff:169.254.169.254]", "a cloud metadata"],
      ["[64:ff9b::10.0.0.1]", "a private"],
      ["[2002:a00:1::1]", "a private"],
      ["[2001:db8::1]", "a documentation"],
      ["[2001::1]", "a reserved"],
      ["[::127.0.0.1]", "a reserved"],
    ] as const
  ).map(([host, kind]): [string, CallbackPolicy, string] => [
    `https://${host}/hook`,
    PROD,
    `callback.url points to ${kind}`,
  ]),
  // The URL parser reads all of these as 127.0.0.1; written so, they are refused even where loopback is allowed.
  ...[
    "http://2130706433/",
    "https://2130706433/",
    "https://0x7f.1/",
    "https://0177.0.0.1/",
    "https://127.1/",
    "https://017700000001/",
    "https://%31%32%37.0.0.1/",
    "https://127.0.0.1./",
  ].map((url): [string, CallbackPolicy, string] => [
    url,
    DEV,
    "must write an IPv4 address as a plain dotted quad (127.0.0.1)",
  ]),
  ["https://0x08080808/", PROD, "as a plain dotted quad (8.8.8.8)"],
  ...[
    "localhost",
    "LOCALHOST.",
    "api.localhost",
    "printer.local",
    "metadata.google.internal",
    "db.internal",
    "router.home.arpa",
  ].map((host): [string, CallbackPolicy, string] => [
    `https://${host}/x`,
    PROD,
    "callback.url points to an internal host name",
  ]),
  ["https://intranet/x", PROD, "must be a fully qualified domain name (intranet)"],
  ["http://127.0.0.1:8787/hook", DEV, null],
  ["https://127.0.0.1/hook", DEV, null],
  ["http://localhost:8787/hook", DEV, null],
  ["http://api.localhost/hook", DEV, null],
  ["http://[::1]:8787/hook", DEV, null],
  ["http://10.0.0.5/hook", DEV, "callback.url must use https"],
  ["https://10.0.0.5/hook", DEV, "a private address (10.0.0.5)"],
  ["http://[::ffff:127.0.0.1]/hook", DEV, "callback.url must use https"],
  ["http://hooks.example.com/hook", DEV, "callback.url must use https"],
];

describe("checkCallbackUrl: the SSRF guard on the URL as given", () => {
  it.each(URLS.map(([url, policy, reason]) => ({ url, dev: policy === DEV, policy, reason })))(
    "$url (dev: $dev) → $reason",
    ({ url, policy, reason }) => {
      const check = checkCallbackUrl(url, policy);
      if (reason === null) expect(check).toMatchObject({ ok: true });
      else {
        expect(check.ok).toBe(false);
        expect(check.ok ? "" : check.reason).toContain(reason);
      }
    },
  );

  it("with an allow-list, accepts only the hosts it names (a wildcard covers subdomains, not the apex), never a private address", () => {
    const policy = { ...PROD, allowedHosts: ["hooks.example.com", "*.customer.example", "10.0.0.5"] };
    const ok = (url: string) => checkCallbackUrl(url, policy).ok;
    for (const hit of [
      "https://hooks.example.com/x",
      "https://HOOKS.example.com./x",
      "https://a.customer.example/",
      "https://a.b.customer.example/",
    ]) {
      expect(ok(hit), hit).toBe(true);
    }
    for (const miss of [
      "https://customer.example/",
      "https://evilcustomer.example/",
      "https://other.example.com/",
      "https://hooks.example.com.evil.com/",
    ]) {
      expect(checkCallbackUrl(miss, policy)).toMatchObject({
        ok: false,
        reason: expect.stringContaining("is not in the allowed hosts"),
      });
    }
    expect(checkCallbackUrl("https://10.0.0.5/", policy)).toMatchObject({
      ok: false,
      reason: "callback.url points to a private address (10.0.0.5)",
    });
  });

  it("isPublicAddress judges addresses as DNS answers them, refusing odd forms and non-addresses", () => {
    const publicOnes = [
      "1.1.1.1",
      "8.8.8.8",
      "2606:4700:4700::1111",
      "[2606:4700:4700::1111]",
      "::ffff:8.8.8.8",
      "64:ff9b::808:808",
    ];
    for (const ip of publicOnes) expect(isPublicAddress(ip), ip).toBe(true);
    const notPublic = [
      "010.0.0.1",
      "127.1",
      "0x7f000001",
      "2130706433",
      "example.com",
      "",
      "1.2.3.256",
      "fe80::1%eth0",
      "1::2::3",
    ];
    notPublic.push("::ffff:10.0.0.1", "64:ff9b::7f00:1", "1:2:3:4:5:6:7:8:9");
    for (const ip of notPublic) expect(isPublicAddress(ip), ip).toBe(false);
  });
});

describe("resolveCallbackPolicy", () => {
  it("defaults to https only, any public host, DNS checked through Cloudflare, 2048 characters", () => {
    const defaults = {
      allowLoopbackHttp: false,
      allowedHosts: [],
      checkDns: true,
      dohUrl: "https://cloudflare-dns.com/dns-query",
      maxLength: 2048,
    };
    expect(resolveCallbackPolicy({})).toEqual(defaults);
  });

  it("reads the env: loopback http only for exactly 'true', the allow-list normalised, no DNS in development, the resolver when it is a URL", () => {
    for (const v of ["TRUE", "1", "yes", " true"])
      expect(resolveCallbackPolicy({ RUN_CALLBACK_ALLOW_LOOPBACK_HTTP: v }).allowLoopbackHttp).toBe(false);
    const hosts = resolveCallbackPolicy({
      RUN_CALLBACK_ALLOWED_HOSTS: " Hooks.Example.com. , *.customer.example ,, [::1]",
    }).allowedHosts;
    expect(hosts).toEqual(["hooks.example.com", "*.customer.example", "::1"]);
    expect(resolveCallbackPolicy({ RUN_CALLBACK_DOH_URL: "ftp://dns.example/q" }).dohUrl).toBe(
      "https://cloudflare-dns.com/dns-query",
    );
    expect(resolveCallbackPolicy({ RUN_CALLBACK_DOH_URL: "not a url" }).dohUrl).toBe(
      "https://cloudflare-dns.com/dns-query",
    );
    expect(resolveCallbackPolicy({ RUN_CALLBACK_DOH_URL: "https://dns.google/resolve" }).dohUrl).toBe(
      "https://dns.google/resolve",
    );
    expect(resolveCallbackPolicy({ ZAHARA_ENV: "production" }).checkDns).toBe(true);
    // This test Worker's own env: local development with the loopback allowance.
    expect(resolveCallbackPolicy(env)).toMatchObject({ allowLoopbackHttp: true, checkDns: false });
  });
});

describe("checkCallbackTarget: where a host name resolves (DoH)", () => {
  const n = (label: string) => `${label}.${RUN}.run-webhooks.test`;
  const target = (host: string, policy = PROD) => checkCallbackTarget(new URL(`https://${host}/hook`), policy);

  beforeAll(async () => {
    const records = {
      [n("public")]: { A: ["93.184.215.14"], AAAA: ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"] },
      [n("v4only")]: { A: ["1.1.1.1"] },
      [n("private")]: { A: ["10.0.0.5"] },
      [n("mixed")]: { A: ["93.184.215.14", "192.168.1.20"] },
      [n("loopback6")]: { A: ["93.184.215.14"], AAAA: ["::1"] },
      [n("metadata")]: { A: ["169.254.169.254"] },
      [n("alias")]: { CNAME: n("public") },
      [n("alias-private")]: { CNAME: n("private") },
      [n("empty")]: {},
      [n("unqueried")]: { A: ["10.0.0.9"] },
    };
    const res = await fetch(new URL("/__records__", env.TEST_DOH_URL), {
      method: "PUT",
      body: JSON.stringify(records),
    });
    expect(res.status).toBe(200);
  });

  it("accepts a name whose every A and AAAA address is public (CNAME entries skipped)", async () => {
    for (const host of [n("public"), n("v4only"), n("alias")]) expect(await target(host), host).toEqual({ ok: true });
  });

  it("refuses a name with any non-public address, naming it", async () => {
    expect(await target(n("private"))).toEqual({
      ok: false,
      reason: "callback.url resolves to a private address (10.0.0.5)",
    });
    expect(await target(n("mixed"))).toEqual({
      ok: false,
      reason: "callback.url resolves to a private address (192.168.1.20)",
    });
    expect(await target(n("loopback6"))).toEqual({
      ok: false,
      reason: "callback.url resolves to a loopback address (::1)",
    });
    expect(await target(n("metadata"))).toEqual({
      ok: false,
      reason: "callback.url resolves to a cloud metadata address (169.254.169.254)",
    });
    expect(await target(n("alias-private"))).toEqual({
      ok: false,
      reason: "callback.url resolves to a private address (10.0.0.5)",
    });
  });

  it("refuses a name that does not resolve, or when the resolver fails", async () => {
    const nx = await target(n("nxdomain"));
    expect(nx).toEqual({
      ok: false,
      reason: `could not resolve callback host (${n("nxdomain")}): it has no A or AAAA address`,
    });
    expect(await target(n("empty"))).toMatchObject({
      ok: false,
      reason: expect.stringContaining("has no A or AAAA address"),
    });
    expect(await target("servfail.test")).toMatchObject({
      ok: false,
      reason: expect.stringContaining("could not resolve callback host (servfail.test)"),
    });
    const down = await target(n("public"), { ...PROD, dohUrl: "http://127.0.0.1:1/dns-query" });
    expect(down).toMatchObject({ ok: false, reason: expect.stringContaining("could not resolve callback host") });
  });

  it("refuses after 2 s when the resolver hangs", async () => {
    const started = Date.now();
    expect(await target("slow.test")).toEqual({
      ok: false,
      reason: "could not resolve callback host (slow.test): the resolver did not answer within 2000 ms",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("looks nothing up without checkDns, for literal addresses, or for a URL the synchronous check refuses", async () => {
    expect(await target(n("unqueried"), { ...PROD, checkDns: false })).toEqual({ ok: true });
    expect(await target("93.184.215.14")).toEqual({ ok: true });
    expect(await target("[2606:4700:4700::1111]")).toEqual({ ok: true });
    expect(await target("10.0.0.5")).toEqual({
      ok: false,
      reason: "callback.url points to a private address (10.0.0.5)",
    });
    const res = await fetch(new URL(`/__queries__?name=${n("unqueried")}`, env.TEST_DOH_URL));
    expect(await res.json()).toEqual({ queries: [] });
  });
});
