/**
 * The LLM-backed capability: the manifest's role is the system prompt, the
 * parameters are the user message, and the answer must be JSON matching the
 * capability's output schema (checked by the runtime after this returns).
 * For a streaming caller (`context.emit` set) the provider streams and each
 * piece of text is emitted as it arrives; the assembled text is parsed the
 * same way, so both callers get the same result. A top-level `max_tokens`
 * parameter (a positive integer) asks for the provider's `max_tokens`, within
 * the manifest's `maxTokensPerRequest` (llm/chat.ts); it stays in the message.
 */
import { ZaharaError } from "../../../shared/errors";
import type { CapabilityContext, CapabilityHandler } from "../capability";
import { chat } from "./chat";
import { resolveLlmTarget } from "./config";
import { chatStream } from "./stream";

function systemPrompt({ manifest, capability }: CapabilityContext): string {
  const role = manifest.spec.role ?? manifest.spec.prompts?.system?.template ?? "";
  const lines = [role.trim(), "", `You are performing the task "${capability.name}".`];
  if (capability.description) lines.push(capability.description);
  if (capability.output_schema) {
    lines.push("Answer with a single JSON value, and nothing else, that matches this JSON Schema:");
    lines.push(JSON.stringify(capability.output_schema));
  }
  lines.push("The user message is the task's input parameters as JSON.");
  return lines.join("\n");
}

/** Extracts the JSON answer, tolerating a Markdown code fence around it. */
export function parseModelJson(content: string): unknown {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/i.exec(content);
  const text = (fenced ? fenced[1] : content) ?? "";
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The input steers the model (a prompt can ask for anything): not counted against the agent.
    throw new ZaharaError("LLM_BAD_OUTPUT", { message: "The model's answer is not valid JSON", fault: "caller" });
  }
}

/** The caller's ask for the provider's `max_tokens`: its `max_tokens` parameter when a positive integer. */
function askedMaxTokens(parameters: Record<string, unknown>): { maxTokens?: number } {
  const asked = parameters.max_tokens;
  return typeof asked === "number" && Number.isSafeInteger(asked) && asked > 0 ? { maxTokens: asked } : {};
}

/** Runs a capability on the manifest's LLM; 503 `LLM_NOT_CONFIGURED` when there is none. */
export const llmCapability: CapabilityHandler = async function llmCapability(parameters, context) {
  const target = resolveLlmTarget(context.manifest, context.env);
  if (!target) {
    throw new ZaharaError("LLM_NOT_CONFIGURED", {
      message:
        "No LLM provider is configured: set LLM_BASE_URL and LLM_API_KEY (or LLM_BACKEND=workers-ai with an AI binding)",
      // A setting, not a transient fault: retrying or opening the breaker helps nobody.
      fault: "permanent",
    });
  }
  const schema = context.capability.output_schema;
  const request = {
    messages: [
      { role: "system" as const, content: systemPrompt(context) },
      { role: "user" as const, content: JSON.stringify(parameters) },
    ],
    ...(schema ? { schema: { name: context.capability.name, schema } } : {}),
    signal: context.signal,
    ...askedMaxTokens(parameters),
    ...(context.deadlineAt !== undefined ? { deadlineAt: context.deadlineAt } : {}),
  };
  const emit = context.emit;
  const call = emit ? () => chatStream(target, request, (text) => emit({ text })) : () => chat(target, request);
  const answer = await context.timings.measure("llm", call, {
    desc: `${target.provider} ${target.model}${emit ? ", streamed" : ""}`,
    attributes: {
      "gen_ai.system": target.provider,
      "gen_ai.request.model": target.model,
      "gen_ai.request.stream": emit !== undefined,
    },
    describe: (a) =>
      `${target.provider} ${target.model}${emit ? ", streamed" : ""}${a.usage ? `, ${a.usage.estimated ? "~" : ""}${a.usage.total_tokens} tokens` : ""}`,
  });
  context.logger.debug("llm answered", { provider: target.provider, model: target.model, usage: answer.usage });
  const result = schema ? parseModelJson(answer.content) : { text: answer.content };
  return answer.usage ? { result, usage: answer.usage } : { result };
};
