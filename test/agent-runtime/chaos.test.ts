/** The chaos capability: off unless enabled, bounded delay, fail_rate and fail_status. */
import { describe, expect, it } from "vitest";
import { createChaos } from "../../workers/agent-runtime/src/builtins/chaos";
import { expectError } from "../gateway/helpers";
import { agentFrom, demoManifest } from "./helpers";

describe("chaos", () => {
  it("is off unless the manifest or CHAOS_ENABLED turns it on (403)", async () => {
    const off = agentFrom(demoManifest(), {}, { CHAOS_ENABLED: "false" });
    await expectError(await off.run("chaos", { fail_status: 500 }), 403, "CAPABILITY_DISABLED", "agent-demo");
    const byManifest = agentFrom(
      demoManifest((m) => void (m.extensions.zahara.chaos = { enabled: true, max_delay_ms: 1000 })),
      {},
      { CHAOS_ENABLED: "false" },
    );
    await expectError(await byManifest.run("chaos", { fail_status: 500 }), 500, "CHAOS_INJECTED", "agent-demo");
    const byEnv = agentFrom(demoManifest(), {}, { CHAOS_ENABLED: "true" });
    await expectError(await byEnv.run("chaos", { fail_status: 503 }), 503, "CHAOS_INJECTED", "agent-demo");
  });

  it("answers with fail_status, sending Retry-After when asked", async () => {
    const agent = agentFrom(demoManifest(), {}, { CHAOS_ENABLED: "true" });
    const res = await agent.run("chaos", { fail_status: 429, retry_after_s: 9 });
    expect(res.headers.get("Retry-After")).toBe("9");
    const body = await expectError(res, 429, "CHAOS_INJECTED", "agent-demo");
    expect(body.details).toEqual({ fail_status: 429, delay_ms: 0, fail_rate: 1 });
  });

  it("bounds delay_ms by the manifest's max_delay_ms", async () => {
    const agent = agentFrom(
      demoManifest((m) => void (m.extensions.zahara.chaos = { enabled: true, max_delay_ms: 100 })),
    );
    const body = await expectError(
      await agent.run("chaos", { delay_ms: 101 }),
      400,
      "INVALID_PARAMETERS",
      "agent-demo",
    );
    expect(body.details).toEqual({ fields: [{ field: "parameters.delay_ms", message: expect.any(String) }] });
    const started = Date.now();
    expect((await agent.run("chaos", { delay_ms: 100 })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it("fails with probability fail_rate (seeded draws)", async () => {
    const manifest = demoManifest((m) => void (m.extensions.zahara.chaos = { enabled: true, max_delay_ms: 0 }));
    const signal = new AbortController().signal;
    const ctx = { env: {}, manifest, signal } as never;
    const draws = [0.1, 0.49, 0.5, 0.9];
    const outcomes: string[] = [];
    for (const d of draws) {
      const chaos = createChaos(() => d);
      try {
        await chaos({ fail_status: 500, fail_rate: 0.5 }, ctx);
        outcomes.push("ok");
      } catch {
        outcomes.push("fail");
      }
    }
    expect(outcomes).toEqual(["fail", "fail", "ok", "ok"]);
  });

  it("without fail_status it never fails", async () => {
    const agent = agentFrom(demoManifest(), {}, { CHAOS_ENABLED: "true" });
    expect(await (await agent.run("chaos", { fail_rate: 1 })).json()).toMatchObject({
      result: { ok: true, fail_rate: 1 },
    });
  });
});
