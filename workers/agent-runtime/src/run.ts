/**
 * `POST /run`: validates `{task, parameters}`, checks parameters against the
 * capability's input schema, runs it, and checks the result against its
 * output schema. A caller that prefers `text/event-stream` gets the answer as
 * server-sent events (run-stream.ts); any other gets JSON. Both bound the
 * work by the caller's deadline (`X-Zahara-Deadline-Ms`) when it sends one.
 * The manifest's `pii_detection` screens the parameters once they are valid
 * and the result once it is (pii-guard.ts); under `block` or `redact` a
 * streaming caller gets the checked answer as one `done` event.
 */
import { trace } from "@opentelemetry/api";
import type { Context } from "hono";
import { z } from "zod";
import { DEADLINE_HEADER, parseDeadlineMs } from "../../shared/deadline-header";
import { ZaharaError } from "../../shared/errors";
import { parseByteLimit, readJsonBody } from "../../shared/http/json-body";
import { wantsEventStream } from "../../shared/http/sse";
import { validationError } from "../../shared/http/validation";
import type { ZaharaAgentManifest } from "../../shared/manifest";
import { checkOutput, runAnswer } from "./answer";
import type { CapabilityContext, ResolvedCapability } from "./capability";
import type { AgentRuntimeEnv } from "./env";
import { PiiScreen, piiPolicyOf } from "./pii-guard";
import { answerAsStream, streamRun } from "./run-stream";

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
  const piiPolicy = piiPolicyOf(manifest);
  return async function run(c: Context<{ Bindings: E }>): Promise<Response> {
    const preread = c.get("runBody");
    const raw = preread !== undefined ? preread : await readJsonBody(c.req.raw, parseByteLimit(c.env.MAX_BODY_BYTES));
    const body = RunRequestSchema.safeParse(raw);
    if (!body.success) throw validationError(body.error, { message: "Invalid run request" });
    const { task, parameters } = body.data;
    c.get("logFields").task = task;
    trace.getActiveSpan()?.setAttributes({
      "zahara.request_id": c.get("requestId"),
      "agent.id": manifest.metadata.name,
      capability: task,
    });
    const cap = capabilities.get(task);
    if (!cap) {
      throw new ZaharaError("TASK_NOT_FOUND", {
        message: `${manifest.metadata.name} has no capability "${task}"`,
        details: { available: [...capabilities.keys()] },
      });
    }
    if (cap.input) {
      const checked = cap.input.safeParse(parameters);
      if (!checked.success)
        throw validationError(checked.error, {
          code: "INVALID_PARAMETERS",
          prefix: "parameters",
          message: "Invalid parameters",
        });
    }
    const screen = piiPolicy ? new PiiScreen(piiPolicy, c) : undefined;
    const screened = screen ? screen.parameters(parameters) : parameters;
    const timings = c.get("timings");
    // The deadline counts from the request's arrival, like the caller's own clock.
    const deadlineMs = parseDeadlineMs(c.req.header(DEADLINE_HEADER));
    const deadlineAt = deadlineMs === undefined ? undefined : c.get("startedAt") + deadlineMs;
    const context: CapabilityContext<E> = {
      env: c.env,
      requestId: c.get("requestId"),
      logger: c.get("logger"),
      // The caller going away or its deadline passing stops the work (the LLM call is aborted).
      signal:
        deadlineAt === undefined
          ? c.req.raw.signal
          : AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(Math.max(1, deadlineAt - Date.now()))]),
      ...(deadlineAt !== undefined ? { deadlineAt } : {}),
      manifest,
      capability: cap.info,
      timings,
    };
    if (deadlineMs !== undefined) c.get("logFields").deadline_ms = deadlineMs;
    const stream = wantsEventStream(c.req.header("Accept"));
    if (stream && !screen?.buffersStreams) {
      const inspect = screen ? { inspect: screen.output.bind(screen) } : {};
      return streamRun(c, { task, cap, parameters: screened, context, ...inspect });
    }
    const output = await timings.measure("capability", async () => cap.handler(screened, context), {
      desc: `${task} (${cap.kind})`,
      attributes: { capability: task, "capability.kind": cap.kind },
    });
    checkOutput(cap, output);
    const answer = runAnswer(c, task, screen ? screen.output(output) : output);
    return stream ? answerAsStream(c, answer) : c.json(answer);
  };
}
