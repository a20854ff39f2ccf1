/**
 * `/v1/runs`: reading and cancelling long-running runs (runs/ and
 * docs/runs.md). Any authenticated caller may use them, for its own runs
 * only; an admin sees every run. A run that does not exist and one another
 * principal created answer the same 404 `RUN_NOT_FOUND`, so run ids cannot be
 * probed. Each run's Durable Object is its truth; the list reads the D1
 * index its object keeps.
 *
 * - `GET /v1/runs?status=&agent=&limit=&cursor=`: the caller's runs, newest first.
 * - `GET /v1/runs/:id`: one run, with its result.
 * - `GET /v1/runs/:id/events`: its changes as server-sent events until it ends.
 * - `POST /v1/runs/:id/cancel`: cancels it (409 `RUN_FINISHED` once it has ended).
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import { ZaharaError } from "../../../shared/errors";
import { validationError } from "../../../shared/http/validation";
import { ADMIN_SCOPE, hasScope } from "../auth/scopes";
import type { Principal } from "../auth/principal";
import { RUN_ID_PATTERN, type RunNamespace, runStub } from "../runs/create";
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, listRuns } from "../runs/run-index";
import type { RunView } from "../runs/types";

type RunBindings = { Bindings: { AGENT_RUN?: RunNamespace; REQUEST_LOG?: D1Database } };

/** Query of `GET /v1/runs` (also read by openapi/ for the API document). */
export const ListQuery = z.strictObject({
  status: z.optional(z.enum(["queued", "running", "succeeded", "failed", "cancelled"])),
  agent: z.optional(z.string().check(z.minLength(1), z.maxLength(253))),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_LIST_LIMIT))),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
});

function isAdmin(p: Principal): boolean {
  return hasScope(p.scopes, ADMIN_SCOPE);
}

function namespaceOf(env: { AGENT_RUN?: RunNamespace }): RunNamespace {
  if (!env.AGENT_RUN)
    throw new ZaharaError("RUNS_UNAVAILABLE", { message: "This gateway has no AGENT_RUN binding: runs are off" });
  return env.AGENT_RUN;
}

/** The run `id` if the caller may see it; 404 otherwise (unknown, malformed or another principal's). */
async function ownRun(ns: RunNamespace, id: string, principal: Principal): Promise<RunView> {
  if (!RUN_ID_PATTERN.test(id)) throw new ZaharaError("RUN_NOT_FOUND");
  let found;
  try {
    found = await runStub(ns, id).view();
  } catch {
    throw new ZaharaError("RUNS_UNAVAILABLE");
  }
  if (!found || (found.principalId !== principal.id && !isAdmin(principal))) throw new ZaharaError("RUN_NOT_FOUND");
  return found.view;
}

/** The `/v1/runs` routes (mounted behind authentication). */
export function runRoutes() {
  const runs = new Hono<RunBindings>();
  runs.get("/", async (c) => {
    const parsed = ListQuery.safeParse(c.req.query());
    if (!parsed.success) throw validationError(parsed.error, { message: "Invalid query" });
    const q = parsed.data;
    const principal = c.get("principal");
    if (!c.env.REQUEST_LOG)
      throw new ZaharaError("RUNS_UNAVAILABLE", {
        message: "This gateway has no REQUEST_LOG binding: runs cannot be listed",
      });
    const page = await listRuns(c.env.REQUEST_LOG, {
      ...(isAdmin(principal) ? {} : { principalId: principal.id }),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.agent !== undefined ? { agent: q.agent } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      limit: q.limit ?? DEFAULT_LIST_LIMIT,
    }).catch((err: unknown) => {
      if (err instanceof ZaharaError) throw err;
      c.get("logger").error("run list failed", { error: String(err) });
      throw new ZaharaError("RUNS_UNAVAILABLE");
    });
    return c.json(page);
  });
  runs.get("/:id", async (c) => c.json(await ownRun(namespaceOf(c.env), c.req.param("id"), c.get("principal"))));
  runs.get("/:id/events", async (c) => {
    const ns = namespaceOf(c.env);
    const id = c.req.param("id");
    await ownRun(ns, id, c.get("principal"));
    const res = await runStub(ns, id).fetch(new Request("https://run.internal/events", { signal: c.req.raw.signal }));
    if (res.status === 404) throw new ZaharaError("RUN_NOT_FOUND");
    return new Response(res.body, { status: 200, headers: res.headers });
  });
  runs.post("/:id/cancel", async (c) => {
    const ns = namespaceOf(c.env);
    const id = c.req.param("id");
    await ownRun(ns, id, c.get("principal"));
    const out = await runStub(ns, id).cancel(c.get("requestId"));
    if (out.outcome === "missing") throw new ZaharaError("RUN_NOT_FOUND");
    if (out.outcome === "finished") {
      throw new ZaharaError("RUN_FINISHED", {
        message: `The run has already ended (${out.view.status})`,
        details: { status: out.view.status },
      });
    }
    return c.json(out.view);
  });
  return runs;
}
