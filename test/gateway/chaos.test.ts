/** The chaos capability through the gateway: agent faults mapped to 502, 429 relayed, deadlines → 504. */
import { describe, expect, it } from "vitest";
import { expectError, post } from "./helpers";

describe("chaos through the gateway", () => {
  it("an agent 500 becomes 502 UPSTREAM_FAILED naming the agent's status and code", async () => {
    const res = await post("/execute", { task: "chaos", parameters: { fail_status: 500 } });
    const body = await expectError(res, 502, "UPSTREAM_FAILED");
    expect(body.details).toMatchObject({ agent: "agent-demo", agent_status: 500, agent_code: "CHAOS_INJECTED" });
  });

  it("an agent 503 is a 502 too", async () => {
    const body = await expectError(
      await post("/execute", { task: "chaos", parameters: { fail_status: 503 } }),
      502,
      "UPSTREAM_FAILED",
    );
    expect(body.details).toMatchObject({ agent_status: 503 });
  });

  it("an agent 4xx is relayed with its status, code and Retry-After", async () => {
    const res = await post("/execute", { task: "chaos", parameters: { fail_status: 429, retry_after_s: 3 } });
    expect(res.headers.get("Retry-After")).toBe("3");
    await expectError(res, 429, "CHAOS_INJECTED", "agent-demo");
  });

  it("fail_rate 0 never fails", async () => {
    const res = await post("/execute", { task: "chaos", parameters: { fail_status: 500, fail_rate: 0 } });
    expect(res.status).toBe(200);
  });

  it("a delay past the caller's X-Timeout-Ms is 504 UPSTREAM_TIMEOUT at the deadline", async () => {
    const started = Date.now();
    const res = await post("/execute", { task: "chaos", parameters: { delay_ms: 3000 } }, { "X-Timeout-Ms": "200" });
    const body = await expectError(res, 504, "UPSTREAM_TIMEOUT");
    expect(body.details).toMatchObject({ timeout_ms: 200 });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("a short delay within the deadline succeeds", async () => {
    const res = await post("/execute", { task: "chaos", parameters: { delay_ms: 50 } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { delayed_ms: number } }).result.delayed_ms).toBe(50);
  });

  it("out-of-range chaos parameters are a 400 naming the field", async () => {
    const body = await expectError(
      await post("/execute", { task: "chaos", parameters: { fail_status: 200, delay_ms: 999999 } }),
      400,
      "INVALID_PARAMETERS",
      "agent-demo",
    );
    const fields = (body.details?.fields as { field: string }[]).map((f) => f.field).sort();
    expect(fields).toEqual(["parameters.delay_ms", "parameters.fail_status"]);
  });
});
