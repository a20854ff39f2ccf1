/** The request waterfall: backoffs, attempts, refusals, the agent's own spans inside attempts, and gateway time. */
import { describe, expect, it } from "vitest";
import { type TimelineEntry, layoutWaterfall } from "../../dashboard/src/screens/clinic/waterfall";

const attempt = (over: Partial<TimelineEntry>): TimelineEntry => ({
  n: 1,
  agent: "agent-demo",
  attempt: 1,
  status: 200,
  code: null,
  admission: "admitted",
  latency_ms: 100,
  backoff_ms: 0,
  spans: [],
  ...over,
});

describe("layoutWaterfall", () => {
  it("lays out a retried call: attempt, its agent spans, backoff, attempt, then gateway time", () => {
    const { bars, total } = layoutWaterfall(
      [
        attempt({
          n: 1,
          status: 500,
          code: "UPSTREAM_FAILED",
          latency_ms: 40,
          spans: [
            { name: "idempotency", start: 0, dur: 3, desc: "begin: new" },
            { name: "capability", start: 3, dur: 30, desc: "chaos (code), failed" },
            { name: "total", start: 0, dur: 36 },
          ],
        }),
        attempt({ n: 2, attempt: 2, backoff_ms: 25, latency_ms: 20 }),
      ],
      100,
    );
    expect(total).toBe(100);
    expect(bars.map((b) => [b.kind, b.start, b.duration, b.depth, b.failed])).toEqual([
      ["attempt", 0, 40, 0, true],
      ["agent-span", 0, 3, 1, false],
      ["agent-span", 3, 30, 1, true],
      ["backoff", 40, 25, 0, false],
      ["attempt", 65, 20, 0, false],
      ["gateway", 85, 15, 0, false],
    ]);
    expect(bars[0]!.label).toBe("agent-demo attempt 1: 500 UPSTREAM_FAILED in 40 ms (36 ms in the agent)");
    expect(bars[2]!.label).toBe("capability: chaos (code), failed (30 ms)");
  });

  it("clips agent spans to their attempt (the agent's clock is not the gateway's)", () => {
    const { bars } = layoutWaterfall([attempt({ latency_ms: 10, spans: [{ name: "llm", start: 8, dur: 50 }] })], 10);
    expect(bars[1]).toMatchObject({ kind: "agent-span", start: 8, duration: 2, label: "llm (50 ms)" });
  });

  it("marks refusals with zero length and no spans, and stretches to the sum when the duration is short", () => {
    const { bars, total } = layoutWaterfall(
      [
        attempt({ n: 1, status: 0, admission: "circuit_open", latency_ms: 0 }),
        attempt({ n: 2, agent: "agent-custom", latency_ms: 30 }),
      ],
      20,
    );
    expect(total).toBe(30);
    expect(bars.map((b) => b.kind)).toEqual(["refused", "attempt"]);
    expect(bars[0]).toMatchObject({ duration: 0, failed: true, label: "agent-demo attempt 1: refused (circuit_open)" });
  });
});
