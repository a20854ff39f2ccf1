/**
 * A read-only view of a Zahara agent manifest: what the gateway lists and
 * routes on, and what the runtime serves. Derived from the OSSA manifest
 * (`spec.tools[]` of `type: function`) plus `extensions.zahara`.
 */
import type { ZaharaAgentManifest } from "./manifest";
import { isJsonObject } from "./json-object";

/** JSON Schema object, as written in a manifest. */
export type JsonSchema = Record<string, unknown>;

/** One capability (task) an agent offers. */
export interface CapabilityInfo {
  name: string;
  description?: string;
  input_schema?: JsonSchema;
  output_schema?: JsonSchema;
}

/** What the gateway knows about an agent. */
export interface AgentInfo {
  /** `metadata.name`, the id used in URLs (`/agents/:agent/execute`). */
  name: string;
  display_name: string;
  description?: string;
  version?: string;
  /** Gateway service-binding name for this agent. */
  binding: string;
  capabilities: CapabilityInfo[];
  /**
   * The LLM as the manifest sets it. A `${VAR:-default}` value shows its default, and `settings` names the
   * agent's variables that override it (the gateway cannot see the agent's environment).
   */
  llm?: { provider: string; model: string; settings?: string[] };
  timeout_seconds?: number;
  /** Set for an agent uploaded at runtime (`PUT /v1/agents/:name`): the version served. */
  hosted?: { version: number };
}

const ENV_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

/** A manifest value as shown: a `${VAR:-default}` reference's default (empty without one), and the variable. */
function shownValue(value: unknown): { value: string; setting?: string } {
  const m = ENV_REFERENCE.exec(String(value));
  return m ? { value: m[2] ?? "", setting: m[1]! } : { value: String(value) };
}

/** Lists a manifest's capabilities: its `function` tools, in order. */
export function capabilitiesOf(manifest: ZaharaAgentManifest): CapabilityInfo[] {
  const tools: unknown[] = manifest.spec.tools ?? [];
  const out: CapabilityInfo[] = [];
  for (const tool of tools) {
    if (!isJsonObject(tool) || tool.type !== "function" || typeof tool.name !== "string") continue;
    const cap: CapabilityInfo = { name: tool.name };
    if (typeof tool.description === "string") cap.description = tool.description.trim();
    if (isJsonObject(tool.input_schema)) cap.input_schema = tool.input_schema;
    if (isJsonObject(tool.output_schema)) cap.output_schema = tool.output_schema;
    out.push(cap);
  }
  return out;
}

/** Builds the {@link AgentInfo} view of a manifest. */
export function agentInfo(manifest: ZaharaAgentManifest): AgentInfo {
  const z = manifest.extensions.zahara;
  const info: AgentInfo = {
    name: manifest.metadata.name,
    display_name: z.branding?.display_name ?? manifest.metadata.name,
    binding: z.binding,
    capabilities: capabilitiesOf(manifest),
  };
  if (manifest.metadata.description) info.description = manifest.metadata.description.trim();
  if (manifest.metadata.version) info.version = manifest.metadata.version;
  const llm = manifest.spec.llm;
  if (llm) {
    const [provider, model] = [shownValue(llm.provider), shownValue(llm.model)];
    const settings = [provider.setting, model.setting].filter((v): v is string => v !== undefined);
    info.llm = { provider: provider.value, model: model.value, ...(settings.length > 0 ? { settings } : {}) };
  }
  const timeout = manifest.spec.constraints?.performance?.timeoutSeconds;
  if (typeof timeout === "number" && timeout > 0) info.timeout_seconds = timeout;
  return info;
}
