/** MAX_BODY_BYTES (4096 in tests) is enforced while streaming, not after reading it all. */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../workers/gateway/src/index";
import { BASE, HASHED_KEY, KEY, expectError, post } from "./helpers";

const LIMIT = Number(env.MAX_BODY_BYTES);
const ctx = createExecutionContext();

/** A body of `chunks` × 1 KiB that counts how many chunks the reader pulled. */
function countingStream(chunks: number) {
  const state = { pulled: 0 };
  const chunk = new TextEncoder().encode("x".repeat(1024));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= chunks) return controller.close();
      state.pulled++;
      controller.enqueue(chunk);
    },
  });
  return { stream, state };
}

function bodyOfSize(bytes: number): string {
  const base = JSON.stringify({ task: "echo", agent: "agent-demo", parameters: { p: "" } });
  return JSON.stringify({ task: "echo", agent: "agent-demo", parameters: { p: "y".repeat(bytes - base.length) } });
}

describe("body limit", () => {
  it("accepts a body of exactly MAX_BODY_BYTES", async () => {
    const body = bodyOfSize(LIMIT);
    expect(new TextEncoder().encode(body).byteLength).toBe(LIMIT);
    expect((await post("/execute", body)).status).toBe(200);
  });

  it("refuses one byte more with 413", async () => {
    const body = await expectError(await post("/execute", bodyOfSize(LIMIT + 1)), 413, "PAYLOAD_TOO_LARGE");
    expect(body.details).toEqual({ max_bytes: LIMIT });
  });

  it("stops reading an undeclared-length (streamed) body as soon as it passes the limit", async () => {
    const { stream, state } = countingStream(1024); // 1 MiB offered
    const req = new Request(`${BASE}/execute`, {
      method: "POST",
      // A deployment's key: a hashed entry (short plaintext keys are accepted only in local development).
      headers: { "Content-Type": "application/json", "X-API-Key": HASHED_KEY },
      body: stream,
    });
    // A deployment (local development drains the rest behind the 413: next test).
    const res = await worker.fetch(req, { ...env, ZAHARA_ENV: "production" }, ctx);
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
    // 4 KiB limit: the fifth 1 KiB chunk crosses it; allow one chunk of read-ahead.
    expect(state.pulled).toBeLessThanOrEqual(LIMIT / 1024 + 2);
  });

  it("in local development, answers 413 while the body is still open, then drains the rest behind the answer", async () => {
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    const chunk = new TextEncoder().encode("x".repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === LIMIT / 1024 + 1) await resumed; // past the limit, the client stalls
        if (sent === LIMIT / 1024 + 4) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const req = new Request(`${BASE}/execute`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY },
      body: stream,
    });
    const res = await worker.fetch(req, env, ctx); // resolves before the client resumes: answered at once
    expect(res.status).toBe(413);
    resume();
    await expectError(res, 413, "PAYLOAD_TOO_LARGE"); // its body ends once the rest of the request's is read
    expect(sent).toBe(LIMIT / 1024 + 4);
  });

  it("a body cut short (the connection lost before its Content-Length arrived) is a 400, not a 500", async () => {
    const part = new TextEncoder().encode('{"task":"echo","agent":"agent-demo","param');
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(part);
        controller.error(new Error("Network connection lost."));
      },
    });
    const req = new Request(`${BASE}/execute`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY },
      body: stream,
    });
    const body = await expectError(await worker.fetch(req, env, ctx), 400, "INVALID_REQUEST");
    expect(body.error).toMatch(/ended before it was complete/);
  });

  it("refuses a declared Content-Length over the limit before reading the body", async () => {
    const res = await SELF.fetch(`${BASE}/execute`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY },
      body: "z".repeat(LIMIT * 4),
    });
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("applies the limit before authentication leaks nothing: a 413 still needs no key check to be safe", async () => {
    const res = await SELF.fetch(`${BASE}/execute`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "z".repeat(LIMIT * 4),
    });
    // Unauthenticated callers are refused first: the body is never read.
    await expectError(res, 401, "UNAUTHORIZED");
  });
});
