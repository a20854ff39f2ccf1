/**
 * The MCP tools a credential sees: one per capability it may call, built from
 * the manifests. On `/mcp` (every agent) a tool is named
 * `<agent>__<capability>`; on `/agents/:agent/mcp` (one agent) by the
 * capability alone, and the long form is accepted there too. Both fit MCP's
 * tool-name rule (1–128 of `A-Z a-z 0-9 _ - .`): agent and capability names
 * are manifest names, which are narrower.
 *
 * `inputSchema` is the capability's input schema (MCP wants an object
 * schema: one without `type: object` is wrapped as one that allows any
 * arguments); `outputSchema` is given only when the manifest's is an object
 * schema, since MCP's structured content is an object.
 */
import type { AgentInfo, CapabilityInfo, JsonSchema } from "../../../../shared/agents";
import type { Visibility } from "../../registry";

/** Separates the agent from the capability in a tool name on `/mcp`. */
export const TOOL_SEPARATOR = "__";

/** Which agents an endpoint serves: every one (`/mcp`) or one (`/agents/:agent/mcp`). */
export type ToolScope = { kind: "all" } | { kind: "agent"; agent: string };

/** One MCP tool as `tools/list` answers it. */
export interface McpTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  annotations?: { title?: string };
}

/** A tool name resolved to what it calls. */
export interface ToolTarget {
  agent: string;
  capability: string;
}

const ANY_ARGUMENTS: JsonSchema = { type: "object", additionalProperties: true };

function isObjectSchema(schema: JsonSchema | undefined): schema is JsonSchema {
  return !!schema && schema.type === "object";
}

function toolOf(agent: AgentInfo, cap: CapabilityInfo, scope: ToolScope): McpTool {
  const name = scope.kind === "all" ? `${agent.name}${TOOL_SEPARATOR}${cap.name}` : cap.name;
  const described = cap.description ?? `${cap.name} of ${agent.display_name}`;
  return {
    name,
    title: scope.kind === "all" ? `${agent.display_name}: ${cap.name}` : cap.name,
    description: scope.kind === "all" ? `${described} (agent ${agent.name})` : described,
    inputSchema: isObjectSchema(cap.input_schema) ? cap.input_schema : ANY_ARGUMENTS,
    ...(isObjectSchema(cap.output_schema) ? { outputSchema: cap.output_schema } : {}),
  };
}

/** The tools `visible` allows on the endpoint `scope`, in manifest order. */
export function listTools(agents: readonly AgentInfo[], scope: ToolScope, visible: Visibility): McpTool[] {
  const tools: McpTool[] = [];
  for (const agent of agents) {
    if (scope.kind === "agent" && agent.name !== scope.agent) continue;
    for (const cap of agent.capabilities) if (visible(agent.name, cap.name)) tools.push(toolOf(agent, cap, scope));
  }
  return tools;
}

/** What tool `name` calls on the endpoint `scope`, or undefined when no such tool exists (whatever the scopes). */
export function resolveTool(agents: readonly AgentInfo[], scope: ToolScope, name: string): ToolTarget | undefined {
  const split = name.indexOf(TOOL_SEPARATOR);
  let target: ToolTarget | undefined;
  if (split > 0) target = { agent: name.slice(0, split), capability: name.slice(split + TOOL_SEPARATOR.length) };
  else if (scope.kind === "agent") target = { agent: scope.agent, capability: name };
  if (!target || (scope.kind === "agent" && target.agent !== scope.agent)) return undefined;
  const { agent, capability } = target;
  const known = agents.some((a) => a.name === agent && a.capabilities.some((c) => c.name === capability));
  return known ? target : undefined;
}
