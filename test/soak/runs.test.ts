/** The verdicts on the soak's runs across a restart (scripts/soak/runs.ts): ended, once, one verified webhook each. */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { type Delivery, SOAK_WEBHOOK_SECRET, checkRuns } from "../../scripts/soak/runs";
import type { RunView } from "../../workers/gateway/src/runs/types";

const ids = ["run_a", "run_b"];
const view = (id: string, status: RunView["status"] = "succeeded"): RunView => ({
  run_id: id,
  agent: "agent-demo",
  task: "chaos",
  status,
  attempts: 1,
  created_at: "2026-12-03T10:00:00.000Z",
  started_at: "2026-12-03T10:00:00.000Z",
  finished_at: "2026-12-03T10:00:19.000Z",
  request_id: `req-${id}`,
  status_url: `/v1/runs/${id}`,
});
function delivery(r: RunView, secret = SOAK_WEBHOOK_SECRET, status = 204): Delivery {
  const body = JSON.stringify(r);
  const at = new Date();
  const headers = {
    "webhook-id": `msg_${r.run_id}`,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(`msg_${r.run_id}`, at, body),
  };
  return { headers, body, response: { status } };
}
const verdicts = (ended: RunView[], later: RunView[], deliveries: Delivery[]) =>
  checkRuns(ids, ended, later, deliveries, SOAK_WEBHOOK_SECRET).map((c) => c.ok);

describe("soak runs across a restart", () => {
  const ended = ids.map((id) => view(id));
  const hooks = ended.map((r) => delivery(r));

  it("pass when every run succeeded, stayed so, and posted one verified webhook", () => {
    expect(verdicts(ended, ended, hooks)).toEqual([true, true, true]);
  });

  it("fail a run that did not succeed, or could not be read", () => {
    expect(verdicts([view("run_a"), view("run_b", "failed")], ended, hooks)[0]).toBe(false);
    expect(verdicts([view("run_a")], ended, hooks)[0]).toBe(false);
  });

  it("fail a final state that changed when read again", () => {
    expect(
      verdicts(ended, [view("run_a"), { ...view("run_b"), finished_at: "2026-12-03T10:00:30.000Z" }], hooks)[1],
    ).toBe(false);
  });

  it("fail a webhook missing, posted twice, or signed with another secret", () => {
    expect(verdicts(ended, ended, hooks.slice(0, 1))[2]).toBe(false);
    expect(verdicts(ended, ended, [...hooks, hooks[0]!])[2]).toBe(false);
    const forged = delivery(ended[1]!, `whsec_${Buffer.from("another-secret-0123456789abcdef").toString("base64")}`);
    expect(verdicts(ended, ended, [hooks[0]!, forged])[2]).toBe(false);
  });
});
