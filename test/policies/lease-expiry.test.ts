/**
 * What a lease's expiry gives back: an isolate that stops renewing (it died,
 * or went quiet without releasing) holds its permit block and its budget
 * reservation only until its lease expires at the guard (two TTLs after the
 * last grant), not until those permits' own, much longer, leases would end.
 */
import { describe, expect, it } from "vitest";
import { applyExchange } from "../../durable-objects/upstream-guard/src/exchange";
import { Guard } from "../../durable-objects/upstream-guard/src/guard";
import { AGENT_LEASE } from "../../durable-objects/upstream-guard/src/leases/grant";
import { AgentMetrics } from "../../durable-objects/upstream-guard/src/metrics";
import type { GuardConfig } from "../../durable-objects/upstream-guard/src/types";
import { T0 } from "./helpers";

const config: GuardConfig = {
  agent: "lease-expiry",
  breaker: { failureThreshold: 5, openMs: 60_000, halfOpenProbes: 1 },
  retryBudget: { ratio: 0.2, minPerWindow: 10, windowMs: 10_000 },
  leaseMs: 15_000,
  leaseTtlMs: 1_000,
  maxConcurrent: 10,
  maxTokensPerDay: 100_000,
};

describe("an expired admission lease", () => {
  it("gives its block's permits and its budget reservation back at the next exchange", () => {
    const guard = new Guard(config);
    const deps = { guard, metrics: new AgentMetrics(), keyCells: () => undefined, storedKeyCells: () => undefined, saveKey: () => {} };
    const want = { keyId: AGENT_LEASE, used: 0, tokens: 0, permits: 0, morePermits: 4, settledTokens: 0, budget: 0, moreBudget: 4_000, estimate: 1_000 };
    const { reply } = applyExchange(T0, { config, holder: "gone", leases: [want] }, deps);
    expect(reply.leases[0]).toMatchObject({ permits: 4, budget: 4_000, granted: true });
    expect(guard.concurrency!.inFlight(T0)).toBe(4);
    expect(guard.tokens!.usage(T0).reserved).toBe(4_000);
    // Within two TTLs the holder may still admit from it: nothing comes back yet.
    applyExchange(T0 + 1_999, { config, holder: "other" }, deps);
    expect(guard.concurrency!.inFlight(T0 + 1_999)).toBe(4);
    // Past them, the next exchange (anyone's) takes the lease back with what it held.
    applyExchange(T0 + 2_001, { config, holder: "other" }, deps);
    expect(guard.concurrency!.inFlight(T0 + 2_001)).toBe(0);
    expect(guard.tokens!.usage(T0 + 2_001).reserved).toBe(0);
  });
});
