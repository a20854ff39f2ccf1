/**
 * The end of a run, the same whether the caller waits for JSON or streams:
 * the result checked against the capability's output schema, and the answer
 * body (`{result, task, request_id, duration_ms, usage?}`) that is sent as
 * JSON, carried by a stream's `done` event, and stored for idempotent replay.
 */
import type { Context } from "hono";
import { ZaharaError } from "../../shared/errors";
import { elapsedMs } from "../../shared/http/request-context";
import type { CapabilityOutput, ResolvedCapability, TokenUsage } from "./capability";
import type { AgentRuntimeEnv } from "./env";

/** The body of a successful `POST /run`. */
export interface RunAnswer {
  result: unknown;
  task: string;
  request_id: string;
  duration_ms: number;
  usage?: TokenUsage;
}

/**
 * Throws when `output.result` breaks the capability's output schema: an LLM
 * capability's is 502 `LLM_BAD_OUTPUT`, the caller's fault (its input steers
 * the model); a code capability's is 500 `INVALID_OUTPUT`, the agent's bug.
 */
export function checkOutput<E extends AgentRuntimeEnv>(cap: ResolvedCapability<E>, output: CapabilityOutput): void {
  if (!cap.output) return;
  const checked = cap.output.safeParse(output.result);
  if (checked.success) return;
  const fields = checked.error.issues.map((i) => ({ field: ["result", ...i.path].join("."), message: i.message }));
  // An LLM's output follows its input (prompt injection can break any schema): the caller's fault. A code
  // capability's output is the agent's own bug, counted against it.
  if (cap.kind === "llm") throw new ZaharaError("LLM_BAD_OUTPUT", { details: { fields }, fault: "caller" });
  throw new ZaharaError("INVALID_OUTPUT", { details: { fields } });
}

/** The answer body of a run of `task` that produced `output`; also notes the usage in the request's log line. */
export function runAnswer(c: Context, task: string, output: CapabilityOutput): RunAnswer {
  if (output.usage) c.get("logFields").usage = output.usage;
  return {
    result: output.result,
    task,
    request_id: c.get("requestId"),
    duration_ms: elapsedMs(c.get("startedAt")),
    ...(output.usage ? { usage: output.usage } : {}),
  };
}
