/** Helpers for gateway tests: authenticated requests and the error-shape assertion. */
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import type { ErrorBody } from "../../workers/shared/errors";

/** Plaintext test key (see test/workers-shared.ts; kept in sync by the config). */
export const KEY = "test-key-primary";
/** Key configured only as its SHA-256. */
export const HASHED_KEY = "test-key-hashed";
/** Admin key (ADMIN_API_KEYS of the gateway tests; test/workers-shared.ts TEST_ADMIN_KEY). */
export const ADMIN_KEY = "test-admin-key";

/** Base URL for requests to the gateway under test. */
export const BASE = "https://gateway.test";

/** Sends a JSON POST to the gateway with the test key (override headers to drop it). */
export function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": KEY, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Sends a request with the admin key (and a JSON body when given). */
export function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, {
    method,
    headers: { "X-API-Key": ADMIN_KEY, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/** Sends a GET to the gateway with the test key. */
export function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { headers: { "X-API-Key": KEY, ...headers } });
}

/** The one error shape. */
export type ErrorShape = ErrorBody;

/**
 * Asserts `res` is an error in the one shape with `status` and `code`, whose
 * request id matches the header, and that nothing looks like a stack trace.
 */
export async function expectError(
  res: Response,
  status: number,
  code: string,
  service = "gateway",
): Promise<ErrorShape> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorShape;
  const keys = Object.keys(body).sort();
  expect(keys).toEqual(
    body.details === undefined
      ? ["code", "duration_ms", "error", "request_id", "service"]
      : ["code", "details", "duration_ms", "error", "request_id", "service"],
  );
  expect(body.code).toBe(code);
  expect(body.service).toBe(service);
  expect(typeof body.error).toBe("string");
  expect(body.error.length).toBeGreaterThan(0);
  expect(Number.isInteger(body.duration_ms) && body.duration_ms >= 0).toBe(true);
  expect(body.request_id).toBe(res.headers.get("X-Request-Id"));
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+/);
  return body;
}

/**
 * Much is written after the response (`waitUntil`): guard reports, metrics,
 * the request log, trace exports. Reads `read()` until `done` holds, at most
 * `tries` more times `intervalMs` apart, and returns the last value read.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  tries = 100,
  intervalMs = 20,
): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !done(value); i++) {
    await new Promise((r) => setTimeout(r, intervalMs));
    value = await read();
  }
  return value;
}
