/** The idempotency store's pure rules: what begin answers and what complete does. */
import { describe, expect, it } from "vitest";
import {
  IDEMPOTENCY_TTL_MS,
  LEASE_MS,
  LEASE_RENEW_MS,
  MAX_RETRY_AFTER_MS,
  MAX_STORED_BODY_BYTES,
  type DoneRecord,
  type InProgressRecord,
  decideBegin,
  decideComplete,
  decideRenew,
  isExpired,
  isStorableStatus,
  startedRecord,
} from "../../durable-objects/idempotency-store/src/record";

const T = 1_700_000_000_000;
const running: InProgressRecord = startedRecord("hash-a", "token-a", T);
const done: DoneRecord = {
  state: "done",
  bodyHash: "hash-a",
  createdAt: T,
  status: 200,
  body: '{"result":1}',
  contentType: "application/json",
};

describe("idempotency record rules", () => {
  it("a started record holds a lease of LEASE_MS", () => {
    expect(running).toEqual({
      state: "in_progress",
      bodyHash: "hash-a",
      createdAt: T,
      token: "token-a",
      leaseUntil: T + LEASE_MS,
    });
    expect(LEASE_MS).toBe(15_000);
    expect(IDEMPOTENCY_TTL_MS).toBe(86_400_000);
  });

  it("begin starts when there is no record or it is older than 24 h", () => {
    expect(decideBegin(null, "hash-a", T)).toEqual({ action: "start" });
    expect(isExpired(done, T + IDEMPOTENCY_TTL_MS - 1)).toBe(false);
    expect(isExpired(done, T + IDEMPOTENCY_TTL_MS)).toBe(true);
    expect(decideBegin(done, "hash-a", T + IDEMPOTENCY_TTL_MS)).toEqual({ action: "start" });
    expect(decideBegin(done, "hash-b", T + IDEMPOTENCY_TTL_MS)).toEqual({ action: "start" });
  });

  it("begin replays a finished record with the same body hash and refuses another hash", () => {
    expect(decideBegin(done, "hash-a", T + IDEMPOTENCY_TTL_MS - 1)).toEqual({
      action: "answer",
      result: { kind: "replay", status: 200, body: '{"result":1}', contentType: "application/json" },
    });
    expect(decideBegin(done, "hash-b", T + 5)).toEqual({ action: "answer", result: { kind: "mismatch" } });
  });

  it("begin reports a running record in progress (Retry-After at most MAX_RETRY_AFTER_MS), or a mismatch for another hash", () => {
    expect(decideBegin(running, "hash-a", T + 10)).toEqual({
      action: "answer",
      result: { kind: "in_progress", retryAfterMs: MAX_RETRY_AFTER_MS },
    });
    expect(decideBegin(running, "hash-a", T + LEASE_MS - 300)).toEqual({
      action: "answer",
      result: { kind: "in_progress", retryAfterMs: 300 },
    });
    expect(decideBegin(running, "hash-b", T + 10)).toEqual({ action: "answer", result: { kind: "mismatch" } });
  });

  it("begin takes over a running record whose lease expired, whatever the body", () => {
    expect(decideBegin(running, "hash-a", T + LEASE_MS - 1).action).toBe("answer");
    expect(decideBegin(running, "hash-a", T + LEASE_MS)).toEqual({ action: "start" });
    expect(decideBegin(running, "hash-b", T + LEASE_MS)).toEqual({ action: "start" });
  });

  it("stores 2xx and 4xx except 408, 409 and 429; nothing else", () => {
    const stored = [200, 201, 204, 299, 400, 401, 403, 404, 405, 413, 415, 422, 499];
    const notStored = [100, 199, 300, 302, 304, 408, 409, 429, 500, 502, 503, 504, 599];
    for (const s of stored) expect(isStorableStatus(s), String(s)).toBe(true);
    for (const s of notStored) expect(isStorableStatus(s), String(s)).toBe(false);
  });

  it("complete stores a storable response within the size cap, else deletes", () => {
    expect(decideComplete(running, "token-a", 200, 10, T + 1)).toBe("store");
    expect(decideComplete(running, "token-a", 400, MAX_STORED_BODY_BYTES, T + 1)).toBe("store");
    expect(decideComplete(running, "token-a", 200, MAX_STORED_BODY_BYTES + 1, T + 1)).toBe("delete");
    expect(decideComplete(running, "token-a", 500, 10, T + 1)).toBe("delete");
    expect(decideComplete(running, "token-a", 429, 10, T + 1)).toBe("delete");
    // After the lease ran out, the holder may still complete while nobody has taken over.
    expect(decideComplete(running, "token-a", 200, 10, T + LEASE_MS + 1)).toBe("store");
  });

  it("complete ignores a stale token, a finished record, a missing or an expired record", () => {
    expect(decideComplete(running, "token-b", 200, 10, T + 1)).toBe("ignore");
    expect(decideComplete(done, "token-a", 200, 10, T + 1)).toBe("ignore");
    expect(decideComplete(null, "token-a", 500, 10, T + 1)).toBe("ignore");
    expect(decideComplete(running, "token-a", 200, 10, T + IDEMPOTENCY_TTL_MS)).toBe("ignore");
  });

  it("renew extends the holder's lease from now, so a running request keeps its key while it renews", () => {
    expect(LEASE_RENEW_MS * 3).toBe(LEASE_MS);
    const renewed = decideRenew(running, "token-a", T + LEASE_RENEW_MS);
    expect(renewed).toEqual({ ...running, leaseUntil: T + LEASE_RENEW_MS + LEASE_MS });
    // Renewed, it is still running after its first lease would have lapsed; without, another request takes over.
    expect(decideBegin(renewed!, "hash-a", T + LEASE_MS + 1).action).toBe("answer");
    expect(decideBegin(running, "hash-a", T + LEASE_MS + 1)).toEqual({ action: "start" });
    // A renewal never shortens a lease.
    expect(decideRenew(renewed!, "token-a", T)?.leaseUntil).toBe(T + LEASE_RENEW_MS + LEASE_MS);
  });

  it("renew refuses a token that no longer holds the key: completed, taken over, missing or expired", () => {
    expect(decideRenew(done, "token-a", T + 1)).toBeNull();
    expect(decideRenew(running, "token-b", T + 1)).toBeNull();
    expect(decideRenew(null, "token-a", T + 1)).toBeNull();
    expect(decideRenew(running, "token-a", T + IDEMPOTENCY_TTL_MS)).toBeNull();
  });
});
