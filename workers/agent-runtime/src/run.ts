/**
 * `POST /run`: validates `{task, parameters}`, checks parameters against the
 * capability's input schema, runs it, and checks the result against its
 * output schema.
 */
import { trace } from "@opentelemetry/api";
import type { Context } from "hono";
import { z } from "zod";
import { ZaharaError } from "../../shared/errors";
import { parseByteLimit, readJsonBody } from "../../shared/http/json-body";
import { elapsedMs } from "../../shared/http/request-context";
import { validationError } from "../../shared/http/validation";
import type { ZaharaAgentManifest } from "../../shared/manifest";
import type { ResolvedCapability } from "./capability";
import type { AgentRuntimeEnv } from "./env";

declare module "hono" {
  interface ContextVariableMap {
    /** The `POST /run` body when a middleware already read it (see `idempotency`); unset otherwise. */
    runBody: unknown;
  }
}

/** Body of `POST /run`. */
export const RunRequestSchema = z.strictObject({
  task: z.string().min(1, "task must be a non-empty string"),
  parameters: z.record(z.string(), z.unknown()).default({}),
});

/** Dependencies of the run handler. */
export interface RunDeps<E extends AgentRuntimeEnv> {
  manifest: ZaharaAgentManifest;
  capabilities: ReadonlyMap<string, ResolvedCapability<E>>;
}

/** Creates the `POST /run` handler. */
export function runHandler<E extends AgentRuntimeEnv>({ manifest, capabilities }: RunDeps<E>) {
  return async function run(c: Context<{ Bindings: E }>): Promise<Response> {
    const preread = c.get("runBody");
    const raw = preread !== undefined ? preread : await readJsonBody(c.req.raw, parseByteLimit(c.env.MAX_BODY_BYTES));
    const body = RunRequestSchema.safeParse(raw);
    if (!body.success) throw validationError(body.error, { message: "Invalid run request" });
    const { task, parameters } = body.data;
    c.get("logFields").task = task;
    trace.getActiveSpan()?.setAttributes({ "zahara.request_id": c.get("requestId"), "agent.id": manifest.metadata.name, capability: task });
    const cap = capabilities.get(task);
    if (!cap) {
      throw new ZaharaError("TASK_NOT_FOUND", {
        message: `${manifest.metadata.name} has no capability "${task}"`,
        details: { available: [...capabilities.keys()] },
      });
    }
    if (cap.input) {
      const checked = cap.input.safeParse(parameters);
      if (!checked.success) throw validationError(checked.error, { code: "INVALID_PARAMETERS", prefix: "parameters", message: "Invalid parameters" });
    }
    const timings = c.get("timings");
    const context = { env: c.env, requestId: c.get("requestId"), logger: c.get("logger"), signal: c.req.raw.signal, manifest, capability: cap.info, timings };
    const output = await timings.measure("capability", async () => cap.handler(parameters, context), {
      desc: `${task} (${cap.kind})`,
      attributes: { capability: task, "capability.kind": cap.kind },
    });
    if (cap.output) {
      const checked = cap.output.safeParse(output.result);
      if (!checked.success) {
        const fields = checked.error.issues.map((i) => ({ field: ["result", ...i.path].join("."), message: i.message }));
        // An LLM's output follows its input (prompt injection can break any schema): the caller's fault. A code
        // capability's output is the agent's own bug, counted against it.
        if (cap.kind === "llm") throw new ZaharaError("LLM_BAD_OUTPUT", { details: { fields }, fault: "caller" });
        throw new ZaharaError("INVALID_OUTPUT", { details: { fields } });
      }
    }
    if (output.usage) c.get("logFields").usage = output.usage;
    return c.json({
      result: output.result,
      task,
      request_id: c.get("requestId"),
      duration_ms: elapsedMs(c.get("startedAt")),
      ...(output.usage ? { usage: output.usage } : {}),
    });
  };
}
