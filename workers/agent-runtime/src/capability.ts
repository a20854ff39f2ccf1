/**
 * Capabilities: what an agent can do. A manifest declares them (function
 * tools with input/output schemas); code or the LLM implements them. This
 * module joins the two once, when the Worker module loads.
 */
import type { z } from "zod";
import { type CapabilityInfo, capabilitiesOf } from "../../shared/agents";
import type { Logger } from "../../shared/logger";
import type { ZaharaAgentManifest } from "../../shared/manifest";
import type { AgentRuntimeEnv } from "./env";
import { compileJsonSchema } from "./json-schema";
import type { Timings } from "./timings";

/** Token usage reported with a result (OpenAI naming). */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Present when the provider reported none and the counts are estimated from characters (about 4 per token). */
  estimated?: true;
}

/**
 * A piece of output sent to a streaming caller as it is produced: text (an
 * LLM's tokens) or a structured value. The assembled result still comes from
 * the handler's return value.
 */
export type StreamPiece = { text: string } | { data: unknown };

/** What a capability handler returns. */
export interface CapabilityOutput {
  result: unknown;
  usage?: TokenUsage;
}

/** Everything a handler may use besides its parameters. */
export interface CapabilityContext<E extends AgentRuntimeEnv = AgentRuntimeEnv> {
  env: E;
  requestId: string;
  logger: Logger;
  /** Aborted when the caller goes away or its deadline ({@link CapabilityContext.deadlineAt}) passes. */
  signal: AbortSignal;
  /**
   * Epoch ms when the caller stops waiting (from `X-Zahara-Deadline-Ms`), when
   * it said; bound your own waits by it (the LLM call does).
   */
  deadlineAt?: number;
  /**
   * Sends a piece of output to the caller at once. Present only when the
   * caller asked for an event stream; a handler that never calls it answers a
   * streaming caller with its result alone.
   */
  emit?: (piece: StreamPiece) => void;
  manifest: ZaharaAgentManifest;
  capability: CapabilityInfo;
  /**
   * The request's steps: wrap I/O in `timings.measure("name", fn)` and the
   * step shows in the trace and in the gateway's waterfall for the request.
   */
  timings: Timings;
}

/** Implementation of one capability. Throw `ZaharaError` for expected failures. */
export type CapabilityHandler<E extends AgentRuntimeEnv = AgentRuntimeEnv> = (
  parameters: Record<string, unknown>,
  context: CapabilityContext<E>,
) => Promise<CapabilityOutput> | CapabilityOutput;

/** How a capability is implemented. */
export type CapabilityKind = "code" | "llm";

/** A capability ready to run: its declaration, handler and compiled schemas. */
export interface ResolvedCapability<E extends AgentRuntimeEnv = AgentRuntimeEnv> {
  info: CapabilityInfo;
  kind: CapabilityKind;
  handler: CapabilityHandler<E>;
  input?: z.ZodType;
  output?: z.ZodType;
}

/**
 * Joins the manifest's capabilities with handlers. A capability with a
 * handler runs code; one without runs on the manifest's `spec.llm`; one with
 * neither is a configuration error and throws when the Worker loads.
 */
export function resolveCapabilities<E extends AgentRuntimeEnv>(
  manifest: ZaharaAgentManifest,
  handlers: Readonly<Record<string, CapabilityHandler<E>>>,
  llmHandler: CapabilityHandler<E>,
): ReadonlyMap<string, ResolvedCapability<E>> {
  const declared = capabilitiesOf(manifest);
  const out = new Map<string, ResolvedCapability<E>>();
  for (const info of declared) {
    const handler = handlers[info.name];
    if (!handler && !manifest.spec.llm) {
      throw new Error(`Capability "${info.name}" has no handler and the manifest has no spec.llm`);
    }
    const resolved: ResolvedCapability<E> = handler
      ? { info, kind: "code", handler }
      : { info, kind: "llm", handler: llmHandler };
    if (info.input_schema) resolved.input = compileJsonSchema(info.input_schema);
    if (info.output_schema) resolved.output = compileJsonSchema(info.output_schema);
    out.set(info.name, resolved);
  }
  return out;
}
