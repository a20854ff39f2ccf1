/**
 * Fuzzes `X-Request-Id` reuse: random batches of concurrent calls from two
 * principals and anonymous callers, drawing their request ids from a small
 * shared pool, to the real gateway. Whatever the interleaving, every request
 * gets a request-log row of its own carrying its own principal (nobody's row
 * is replaced), the answers keep the one shape, and every permit the calls
 * held comes back: a request id is never a key of shared state.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyIdOf, sha256 } from "../../workers/gateway/src/auth/api-keys";
import { FUZZ, FUZZ_TIMEOUT_MS } from "./fuzz-arbitraries";
import { configOf, guardOf } from "./guards";
import { ADMIN_KEY, BASE, HASHED_KEY, KEY, pollUntil } from "./helpers";

/** Who calls: a key, or nobody (an anonymous request is refused with 401 but still logged). */
const CALLERS = [KEY, HASHED_KEY, undefined] as const;

interface Call {
  caller: 0 | 1 | 2;
  id: number;
  route: "execute" | "agents" | "missing";
}

const callArb: fc.Arbitrary<Call> = fc.record({
  caller: fc.constantFrom(0 as const, 1 as const, 2 as const),
  id: fc.integer({ min: 0, max: 3 }),
  route: fc.constantFrom("execute" as const, "agents" as const, "missing" as const),
});

function send(call: Call, prefix: string): Promise<Response> {
  const key = CALLERS[call.caller];
  const headers: Record<string, string> = {
    "X-Request-Id": `${prefix}-${call.id}`,
    ...(key ? { "X-API-Key": key } : {}),
  };
  if (call.route === "execute") {
    return SELF.fetch(`${BASE}/agents/agent-demo/execute`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({ task: "chaos", parameters: { delay_ms: 30 } }),
    });
  }
  return SELF.fetch(`${BASE}${call.route === "agents" ? "/agents" : "/no-such-route"}`, { headers });
}

interface LoggedRow {
  key_id: string | null;
  status: number;
}

async function rowsOf(requestId: string): Promise<LoggedRow[]> {
  const res = await SELF.fetch(`${BASE}/v1/requests/${requestId}`, { headers: { "X-API-Key": ADMIN_KEY } });
  if (res.status === 404) return (await res.arrayBuffer(), []);
  return ((await res.json()) as { requests: LoggedRow[] }).requests;
}

describe("fuzzing X-Request-Id reuse", () => {
  it(
    "concurrent calls from several principals under shared ids: each has its own row, with its own principal",
    async () => {
      const principals = [keyIdOf(await sha256(KEY)), keyIdOf(await sha256(HASHED_KEY)), null];
      await fc.assert(
        fc.asyncProperty(fc.array(callArb, { minLength: 2, maxLength: 12 }), async (calls) => {
          const prefix = `fz-${crypto.randomUUID().slice(0, 8)}`;
          const answers = await Promise.all(calls.map((c) => send(c, prefix)));
          const statuses = await Promise.all(answers.map(async (r) => (await r.arrayBuffer(), r.status)));
          expect(statuses.every((s) => s < 500)).toBe(true);
          for (let id = 0; id <= 3; id++) {
            const mine = calls.map((c, i) => ({ c, status: statuses[i]! })).filter(({ c }) => c.id === id);
            if (mine.length === 0) continue;
            const rows = await pollUntil(
              () => rowsOf(`${prefix}-${id}`),
              (r) => r.length >= mine.length,
              100,
              20,
            );
            const seen = rows.map((r) => `${r.key_id}/${r.status}`).sort();
            // An unknown route is answered before authentication: nobody's row.
            const sent = mine
              .map(({ c, status }) => `${c.route === "missing" ? null : principals[c.caller]}/${status}`)
              .sort();
            expect(seen).toEqual(sent);
          }
          const guard = await pollUntil(
            () => guardOf("agent-demo").snapshot(configOf("agent-demo")),
            (g) => g.inFlight === 0,
            100,
            20,
          );
          expect(guard.inFlight).toBe(0);
        }),
        { ...FUZZ, numRuns: 25 },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
