/**
 * The soak's long-running runs: a few runs of agent-demo's `chaos` with a 3 s
 * delay and a webhook each, started with `Prefer: respond-async`, then the
 * runtime is restarted under them while every one is executing (the agent's
 * work and the gateway's call die together). Each run's object wakes on its
 * heartbeat in the new runtime, finds its execution interrupted and resumes
 * it with the same idempotency key; the agent's claim on that key lapses
 * (15 s after its holder's last renewal) and the call runs again. The
 * checks: every run ends `succeeded`, once (its final state never changes),
 * and posts exactly one webhook, which a Standard Webhooks verifier accepts.
 * {@link checkRuns} is pure (test/soak/checks.test.ts covers it).
 */
import { Webhook } from "standardwebhooks";
import type { RunView } from "../../workers/gateway/src/runs/types";
import type { Check } from "./checks";

/** The soak gateway's webhook secret (local only, never deployed). */
export const SOAK_WEBHOOK_SECRET = `whsec_${Buffer.from("soak-webhook-secret-0123456789abcdef").toString("base64")}`;
/** How many runs, and how long each call takes. */
export const SOAK_RUNS = 4;
export const SOAK_RUN_DELAY_MS = 3000;

/** A recorded webhook delivery (test/doubles/webhook-receiver.ts). */
export interface Delivery {
  headers: Record<string, string>;
  body: string;
  response: { status: number };
}

interface Client {
  gatewayUrl(): URL;
  callerKey: string;
}

async function call(client: Client, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(new URL(path, client.gatewayUrl()), {
    ...init,
    headers: { "X-API-Key": client.callerKey, "Content-Type": "application/json", ...init.headers },
  });
}

/** Starts the runs; resolves with their ids. */
export async function startRuns(client: Client, callbackUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < SOAK_RUNS; i++) {
    const res = await call(client, "/agents/agent-demo/execute", {
      method: "POST",
      headers: { Prefer: "respond-async" },
      body: JSON.stringify({
        task: "chaos",
        parameters: { delay_ms: SOAK_RUN_DELAY_MS },
        callback: { url: callbackUrl },
      }),
    });
    if (res.status !== 202) throw new Error(`starting a soak run: ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as { run_id: string }).run_id);
  }
  return ids;
}

/** Reads the runs now (a run that cannot be read is left out). */
export async function readRuns(client: Client, ids: readonly string[]): Promise<RunView[]> {
  const views = await Promise.all(
    ids.map(async (id) => {
      const res = await call(client, `/v1/runs/${id}`).catch(() => undefined);
      return res?.status === 200 ? ((await res.json()) as RunView) : undefined;
    }),
  );
  return views.filter((v): v is RunView => v !== undefined);
}

/** Polls until every run satisfies `done` or `timeoutMs` passes; resolves with the last reading. */
export async function awaitRuns(
  client: Client,
  ids: readonly string[],
  done: (r: RunView) => boolean,
  timeoutMs: number,
): Promise<RunView[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const views = await readRuns(client, ids);
    if ((views.length === ids.length && views.every(done)) || Date.now() > until) return views;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);
/** True for a run in a final state. */
export const isFinalRun = (r: RunView) => FINAL.has(r.status);

/** The verdicts on the runs: `ended` read when all ended, `later` read again a while after, the receiver's deliveries. */
export function checkRuns(
  ids: readonly string[],
  ended: readonly RunView[],
  later: readonly RunView[],
  deliveries: readonly Delivery[],
  secret: string,
): Check[] {
  const byId = new Map(ended.map((r) => [r.run_id, r]));
  const succeeded = ids.filter((id) => byId.get(id)?.status === "succeeded");
  const statuses = ids.map((id) => byId.get(id)?.status ?? "unreadable");
  const longest = Math.max(
    0,
    ...ended.map((r) => (r.finished_at && r.started_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : 0)),
  );
  const changed = later.filter((r) => {
    const first = byId.get(r.run_id);
    return !first || first.status !== r.status || first.finished_at !== r.finished_at;
  });
  const verifier = new Webhook(secret);
  const perRun = new Map<string, number>();
  let invalid = 0;
  for (const d of deliveries) {
    try {
      const body = verifier.verify(d.body, d.headers) as RunView;
      if (d.response.status >= 200 && d.response.status < 300)
        perRun.set(body.run_id, (perRun.get(body.run_id) ?? 0) + 1);
    } catch {
      invalid++;
    }
  }
  const once = ids.filter((id) => perRun.get(id) === 1);
  return [
    {
      name: "runs across a hard restart all end succeeded",
      ok: succeeded.length === ids.length,
      detail: `${succeeded.length}/${ids.length} succeeded (${statuses.join(", ")}); longest ${longest} ms for a ${SOAK_RUN_DELAY_MS} ms call`,
    },
    {
      name: "each run ends once (its final state never changes)",
      ok: later.length === ids.length && changed.length === 0,
      detail: `${later.length - changed.length}/${ids.length} unchanged when read again`,
    },
    {
      name: "each run posts one webhook, with a valid Standard Webhooks signature",
      ok: once.length === ids.length && invalid === 0,
      detail: `${once.length}/${ids.length} delivered exactly once; ${deliveries.length} deliveries, ${invalid} failed verification`,
    },
  ];
}
