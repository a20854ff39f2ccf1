/**
 * The shared agent runtime. An agent Worker is one call:
 *
 * ```ts
 * export default createAgentWorker({ manifest }) satisfies ExportedHandler<Env>;
 * ```
 *
 * Built-in capabilities `echo` and `chaos` are available to every manifest
 * that declares them; other declared capabilities run on custom `handlers`
 * or, failing that, on the manifest's `spec.llm`.
 */
import { capabilitiesOf } from "../../shared/agents";
import type { ZaharaAgentManifest } from "../../shared/manifest";
import { createAgentApp } from "./app";
import { createChaos } from "./builtins/chaos";
import { echo } from "./builtins/echo";
import { type CapabilityHandler, resolveCapabilities } from "./capability";
import type { AgentRuntimeEnv } from "./env";
import { llmCapability } from "./llm/capability";
import { withTracing } from "../../shared/observability/instrument";

export type { CapabilityContext, CapabilityHandler, CapabilityOutput, StreamPiece, TokenUsage } from "./capability";
export type { AgentRuntimeEnv, WorkersAiBinding } from "./env";

/** Options for {@link createAgentWorker}. */
export interface AgentWorkerOptions<E extends AgentRuntimeEnv> {
  /** The agent's manifest, compiled in at build time. */
  manifest: ZaharaAgentManifest;
  /** Code handlers by capability name; each must be declared in the manifest. */
  handlers?: Readonly<Record<string, CapabilityHandler<E>>>;
}

/**
 * Builds an agent's app (untraced) from a manifest and handlers: what {@link createAgentWorker} serves, and what
 * the hosted-agent Worker builds for each uploaded manifest it is sent (tracing it once, around all of them).
 */
export function createAgentHandler<E extends AgentRuntimeEnv>({ manifest, handlers = {} }: AgentWorkerOptions<E>) {
  const declared = new Set(capabilitiesOf(manifest).map((c) => c.name));
  const undeclared = Object.keys(handlers).filter((name) => !declared.has(name));
  if (undeclared.length > 0)
    throw new Error(`Handlers for capabilities the manifest does not declare: ${undeclared.join(", ")}`);
  const builtins: Record<string, CapabilityHandler<E>> = { echo, chaos: createChaos() };
  const capabilities = resolveCapabilities<E>(manifest, { ...builtins, ...handlers }, llmCapability);
  return createAgentApp<E>(manifest, capabilities);
}

/** Builds an agent Worker (a fetch handler) from a manifest and handlers. */
export function createAgentWorker<E extends AgentRuntimeEnv>(options: AgentWorkerOptions<E>) {
  const { manifest } = options;
  const app = createAgentHandler(options);
  const handler = { fetch: app.fetch } satisfies ExportedHandler<E>;
  // Continues the caller's trace from `traceparent`; exports only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
  return withTracing<E, typeof handler>(handler, {
    name: manifest.extensions.zahara.service,
    ...(manifest.metadata.version ? { version: manifest.metadata.version } : {}),
  });
}
