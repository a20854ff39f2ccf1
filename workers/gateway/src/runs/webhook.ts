/**
 * Signing and sending a run's webhook, per the Standard Webhooks specification
 * (https://www.standardwebhooks.com, spec/standard-webhooks.md): the body is the
 * run's JSON, POSTed with `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, so any
 * Standard Webhooks library verifies it. Runtime-neutral on purpose (WebCrypto,
 * fetch, URL, AbortController, setTimeout only; no Workers types): the run's Durable
 * Object sends with it, and tests and tools can run it anywhere. One call of
 * {@link deliverWebhook} is one attempt; the caller keeps the retry state and asks
 * {@link webhookRetryDelayMs} how long to wait before the next one. Whether the URL
 * may be called at all is callback-url.ts's business, checked before each attempt.
 */
import type { WebhookDelivery } from "./types";

/** The prefix of a serialized symmetric secret (the spec's "secret serialization"). */
export const WEBHOOK_SECRET_PREFIX = "whsec_";

/**
 * Shortest signing key accepted, in bytes after base64 decoding. The spec asks for
 * random keys of 24 to 64 bytes (192 to 512 bits); shorter keys are refused, longer
 * ones are accepted (HMAC hashes a key longer than its 64-byte block, which is sound).
 */
export const WEBHOOK_SECRET_MIN_BYTES = 24;

/** Most of a receiver's answer body ever read, in bytes; the rest is cancelled unread. The body is never kept. */
export const WEBHOOK_RESPONSE_READ_LIMIT_BYTES = 64 * 1024;

/** The `user-agent` of every delivery. */
export const WEBHOOK_USER_AGENT = "Zahara-Webhooks/1";

/**
 * Delays after failed attempts 1, 2, … in ms: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h. After the
 * sixth retry fails the sender gives up, so a webhook gets at most 7 attempts spread over
 * 1 h 42 min 35 s of waiting (plus each attempt's own timeout). Shorter than the spec's example
 * (which spans days): a run's result is interesting for hours, not days, and stays readable
 * at `GET /v1/runs/:id` whatever happens to its webhook.
 */
export const WEBHOOK_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000,
]);

/** Most entries {@link parseRetrySchedule} accepts (retries after the first attempt). */
export const MAX_RETRY_SCHEDULE_ENTRIES = 20;

/** Longest single delay {@link parseRetrySchedule} accepts: 24 h, in ms. */
export const MAX_RETRY_DELAY_MS = 86_400_000;

/**
 * What one delivery attempt came to: the run view's {@link WebhookDelivery} without its attempt number
 * and start time. `error` never holds the receiver's body, the URL's query or a secret.
 */
export type DeliveryOutcome = Omit<WebhookDelivery, "attempt" | "at">;

/** What {@link deliverWebhook} needs for one attempt. */
export interface DeliveryInput {
  /** The callback URL, already checked by callback-url.ts. */
  url: string;
  /** The webhook's id: the same for every attempt of one webhook (receivers deduplicate on it). */
  id: string;
  /** The exact JSON text sent and signed (signatures break on any re-serialization). */
  body: string;
  key: CryptoKey;
  /** Epoch ms: the attempt's `webhook-timestamp` and its duration. */
  now: () => number;
  /** Deadline of the whole attempt (request, answer and the bounded body read), in ms. */
  timeoutMs: number;
  /** Defaults to the global fetch. */
  fetcher?: typeof fetch;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const ENCODER = new TextEncoder();

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * Imports a signing secret: `whsec_<base64 key>` as the spec serializes it, or the bare base64
 * key (as the spec's libraries also accept it). Surrounding whitespace is ignored (a secret
 * pasted with a newline). Undefined when the secret is missing, not base64 (base64url is not
 * accepted), or decodes to fewer than {@link WEBHOOK_SECRET_MIN_BYTES} bytes: the caller decides
 * whether that disables webhooks or fails. The key can only sign and is not extractable.
 */
export async function importWebhookSecret(secret: string | undefined): Promise<CryptoKey | undefined> {
  if (typeof secret !== "string") return undefined;
  let encoded = secret.trim();
  if (encoded.startsWith(WEBHOOK_SECRET_PREFIX)) encoded = encoded.slice(WEBHOOK_SECRET_PREFIX.length);
  if (encoded.length === 0 || !BASE64.test(encoded)) return undefined;
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
  if (raw.length < WEBHOOK_SECRET_MIN_BYTES) return undefined;
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/**
 * The `webhook-signature` value for one attempt: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`.
 * Throws a RangeError (a programming error) when `id` is empty or holds a `.` or whitespace (the spec:
 * the id must not contain `.`), or when the timestamp is not a non-negative integer.
 */
export async function signWebhook(key: CryptoKey, id: string, timestampSeconds: number, body: string): Promise<string> {
  if (id.length === 0 || /[.\s]/.test(id))
    throw new RangeError("webhook id must be non-empty, without '.' or whitespace");
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`webhook timestamp must be whole seconds, got ${timestampSeconds}`);
  }
  const mac = await crypto.subtle.sign("HMAC", key, ENCODER.encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/** Every header of one attempt: the three Standard Webhooks headers, `content-type` and `user-agent`. */
export async function webhookHeaders(
  key: CryptoKey,
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<Record<string, string>> {
  return {
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": await signWebhook(key, id, timestampSeconds, body),
  };
}

/** Reads and discards at most `limit` bytes of `body`, then cancels the rest; gives up (quietly) when `signal` aborts. */
async function drainBounded(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  signal: AbortSignal,
): Promise<void> {
  if (!body) return;
  const reader = body.getReader();
  const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  let read = 0;
  try {
    while (read < limit && !signal.aborted) {
      const next = await Promise.race([reader.read(), aborted.then(() => undefined)]);
      if (!next || next.done) break;
      read += next.value.byteLength;
    }
  } catch {
    // The answer broke off: its status is what counts.
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** A failure's message for the delivery record: the URL's query, fragment and credentials removed, length capped. */
function describeFailure(error: unknown, url: string): string {
  const name = error instanceof Error ? error.name : "Error";
  let message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === "string") message = `${message} (${cause.code})`;
  try {
    const parsed = new URL(url);
    const bare = `${parsed.origin}${parsed.pathname}`;
    message = message.split(url).join(bare);
    for (const secret of [parsed.search, parsed.hash, parsed.username, parsed.password]) {
      if (secret.length > 1) message = message.split(secret).join("…");
    }
  } catch {
    message = message.split(url).join("<url>");
  }
  const text = message.length > 0 ? message : name;
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/**
 * Makes one delivery attempt: POSTs `body`, signed for now, without following redirects (a 3xx is
 * the failure "redirect refused", as the spec recommends), aborted after `timeoutMs` ("timed out
 * after N ms"). A 2xx is success; any other status is a failure with that status; a network error
 * is a failure whose message never holds the URL's query, fragment or credentials, nor the key.
 * At most {@link WEBHOOK_RESPONSE_READ_LIMIT_BYTES} of the answer are read. Never throws.
 */
export async function deliverWebhook(input: DeliveryInput): Promise<DeliveryOutcome> {
  const { url, id, body, key, now, timeoutMs } = input;
  const fetcher = input.fetcher ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const started = now();
  const elapsed = () => Math.max(0, Math.round(now() - started));
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const headers = await webhookHeaders(key, id, Math.floor(started / 1000), body);
    const res = await fetcher(url, { method: "POST", headers, body, redirect: "manual", signal: controller.signal });
    await drainBounded(res.body, WEBHOOK_RESPONSE_READ_LIMIT_BYTES, controller.signal);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, duration_ms: elapsed() };
    if (res.status >= 300 && res.status < 400)
      return { ok: false, status: res.status, error: "redirect refused", duration_ms: elapsed() };
    return { ok: false, status: res.status, error: `receiver answered ${res.status}`, duration_ms: elapsed() };
  } catch (error) {
    if (timedOut) return { ok: false, error: `timed out after ${timeoutMs} ms`, duration_ms: elapsed() };
    return { ok: false, error: describeFailure(error, url), duration_ms: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The wait before the next attempt after attempt `attempt` (1-based) failed: `schedule[attempt - 1]`,
 * or undefined once the schedule is exhausted (give up). An `attempt` that is not a positive integer
 * also gives undefined, so a corrupt counter stops the retries rather than loop.
 */
export function webhookRetryDelayMs(
  attempt: number,
  schedule: readonly number[] = WEBHOOK_RETRY_SCHEDULE_MS,
): number | undefined {
  if (!Number.isInteger(attempt) || attempt < 1) return undefined;
  return schedule[attempt - 1];
}

/** The default schedule with every delay multiplied by `scale` (rounded, at least 1 ms): `0.001` runs it in milliseconds. */
export function scaledRetryDelays(scale: number): number[] {
  if (!Number.isFinite(scale) || scale <= 0) throw new RangeError(`scale must be a positive number, got ${scale}`);
  return WEBHOOK_RETRY_SCHEDULE_MS.map((ms) => Math.max(1, Math.round(ms * scale)));
}

/**
 * Reads `RUN_WEBHOOK_RETRY_SCHEDULE_MS`: a comma list of delays in ms (`"5,30,120"`), one per retry.
 * Unset, empty or invalid (an entry that is not a whole number of ms up to {@link MAX_RETRY_DELAY_MS},
 * or more than {@link MAX_RETRY_SCHEDULE_ENTRIES} entries) gives a copy of the default
 * {@link WEBHOOK_RETRY_SCHEDULE_MS}: a typo never disables retries nor makes them unbounded.
 */
export function parseRetrySchedule(value: string | undefined): number[] {
  const fallback = [...WEBHOOK_RETRY_SCHEDULE_MS];
  if (value === undefined || value.trim() === "") return fallback;
  const parts = value.split(",").map((p) => p.trim());
  if (parts.length > MAX_RETRY_SCHEDULE_ENTRIES || parts.some((p) => !/^\d{1,9}$/.test(p))) return fallback;
  const delays = parts.map(Number);
  return delays.every((ms) => ms <= MAX_RETRY_DELAY_MS) ? delays : fallback;
}
