/** The request-id rule: a caller's id is used only if it matches the pattern; it reaches the agent. */
import { describe, expect, it } from "vitest";
import { REQUEST_ID_PATTERN, resolveRequestId } from "../../workers/shared/request-id";
import { expectError, post } from "./helpers";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("request id", () => {
  it("echoes a valid caller id in the header and the body", async () => {
    const res = await post("/execute", { task: "chaos" }, { "X-Request-Id": "req.abc:123-XYZ_9" });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Request-Id")).toBe("req.abc:123-XYZ_9");
    expect(((await res.json()) as { request_id: string }).request_id).toBe("req.abc:123-XYZ_9");
  });

  it.each([
    ["too long", "a".repeat(129)],
    ["a space", "has space"],
    ["a slash", "a/b"],
    ["markup", "<script>"],
    ["unicode", "réq"],
  ])("replaces an id with %s by a UUIDv4, never reflecting it", async (_label, bad) => {
    const res = await post("/execute", { task: "chaos" }, { "X-Request-Id": bad });
    const id = res.headers.get("X-Request-Id") ?? "";
    expect(id).toMatch(UUID_V4);
    const text = await res.text();
    expect(text).not.toContain(bad);
    expect(JSON.parse(text).request_id).toBe(id);
  });

  it("accepts exactly 128 characters", () => {
    expect(resolveRequestId("b".repeat(128))).toBe("b".repeat(128));
    expect(REQUEST_ID_PATTERN.test("")).toBe(false);
  });

  it("generates one when absent", async () => {
    const res = await post("/execute", { task: "chaos" });
    expect(res.headers.get("X-Request-Id")).toMatch(UUID_V4);
  });

  it("is sent to the agent: the agent's own error carries the caller's id", async () => {
    const res = await post("/execute", { task: "summarize", parameters: {} }, { "X-Request-Id": "propagate-me-1" });
    const body = await expectError(res, 400, "INVALID_PARAMETERS", "agent-demo");
    expect(body.request_id).toBe("propagate-me-1");
  });

  it("is echoed on errors too", async () => {
    const res = await post("/execute", "nope", { "X-Request-Id": "err-id-1" });
    const body = await expectError(res, 400, "INVALID_JSON");
    expect(body.request_id).toBe("err-id-1");
  });
});
