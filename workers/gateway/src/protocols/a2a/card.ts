/**
 * `GET /agents/:agent/.well-known/agent-card.json`: the agent's A2A card,
 * built from its manifest, public (no credential: a card is how a peer
 * learns how to call and authenticate) and cacheable for a few minutes.
 *
 * Skills are the capabilities (id and name: the capability's name). Every
 * skill takes and returns `application/json` (a message's data part is
 * `{task, parameters}`, messages.ts); the one capability that takes text, if
 * the agent has exactly one, also takes `text/plain`. The interface is
 * JSON-RPC at `<origin>/agents/:agent/a2a` (the request's own origin), for
 * 1.0 and 0.3. Credentials: an API key in `X-API-Key`, or `Authorization:
 * Bearer` (an API key or a JWT); either one. No streaming, no push
 * notifications, no extended card. The capabilities' JSON Schemas travel in
 * an optional, informational extension (`params.skills`).
 *
 * Which card is answered follows `A2A-Version`, as the SDK's server does: 1.0
 * gets the 1.0 card (ProtoJSON: `supportedInterfaces`, `securityRequirements`,
 * security schemes as `{apiKeySecurityScheme: ...}`); no header, or 0.3, gets
 * the 0.3 card (`url`, `preferredTransport`, `security`, OpenAPI-style
 * schemes) with the 1.0 `supportedInterfaces` added, which 1.0 readers use.
 */
import type { Context } from "hono";
import type { AgentInfo, CapabilityInfo } from "../../../../shared/agents";
import type { AgentsView } from "../../hosted/directory";
import { textCapabilityOf } from "./messages";
import { A2A_LEGACY_VERSION, A2A_VERSION, A2A_VERSION_HEADER, PROTOCOL_BINDING, askedVersion } from "./wire";

/** How long shared caches may keep a card, in seconds. */
export const CARD_MAX_AGE_S = 300;

/** URI of the informational extension publishing each skill's JSON Schemas. */
export const SCHEMAS_EXTENSION_URI = "urn:zahara:a2a:capability-schemas:v1";

const JSON_MODE = "application/json";
const TEXT_MODE = "text/plain";

/** The path of an agent's JSON-RPC endpoint. */
export function a2aPath(agent: string): string {
  return `/agents/${encodeURIComponent(agent)}/a2a`;
}

/** What both dialects' cards are built from. */
interface CardParts {
  agent: AgentInfo;
  url: string;
  textTask: string | undefined;
}

/** An example data part for `cap`: its required parameters, each a `<type>` placeholder. */
function exampleOf(cap: CapabilityInfo): string {
  const schema = cap.input_schema ?? {};
  const properties = (
    typeof schema.properties === "object" && schema.properties !== null ? schema.properties : {}
  ) as Record<string, { type?: unknown }>;
  const required = Array.isArray(schema.required)
    ? schema.required.filter((n): n is string => typeof n === "string")
    : [];
  const parameters = Object.fromEntries(
    required.map((name) => [name, `<${typeof properties[name]?.type === "string" ? properties[name].type : "value"}>`]),
  );
  return JSON.stringify({ task: cap.name, parameters });
}

function skill(cap: CapabilityInfo, agent: AgentInfo, textTask: string | undefined) {
  const modes = cap.name === textTask ? [JSON_MODE, TEXT_MODE] : [JSON_MODE];
  return {
    id: cap.name,
    name: cap.name,
    description: cap.description ?? `The ${cap.name} capability of ${agent.display_name}.`,
    tags: [agent.name, cap.name],
    examples: [exampleOf(cap)],
    inputModes: modes,
    outputModes: [JSON_MODE],
  };
}

function commonFields({ agent, textTask }: CardParts) {
  return {
    name: agent.display_name,
    description: agent.description ?? `${agent.display_name}, served by the Zahara gateway.`,
    version: agent.version ?? "0.0.0",
    defaultInputModes: textTask ? [JSON_MODE, TEXT_MODE] : [JSON_MODE],
    defaultOutputModes: [JSON_MODE],
    skills: agent.capabilities.map((cap) => skill(cap, agent, textTask)),
  };
}

function interfaces(url: string) {
  return [
    { url, protocolBinding: PROTOCOL_BINDING, protocolVersion: A2A_VERSION },
    { url, protocolBinding: PROTOCOL_BINDING, protocolVersion: A2A_LEGACY_VERSION },
  ];
}

function schemasExtension(agent: AgentInfo) {
  const skills = Object.fromEntries(
    agent.capabilities.map((c) => [
      c.name,
      { input_schema: c.input_schema ?? {}, output_schema: c.output_schema ?? {} },
    ]),
  );
  return {
    uri: SCHEMAS_EXTENSION_URI,
    description:
      "Informational: each skill's input (the data part's parameters) and output (the artifact's data) as JSON Schema.",
    required: false,
    params: { skills },
  };
}

const API_KEY_DESCRIPTION = "A Zahara API key in the X-API-Key header.";
const BEARER_DESCRIPTION = "Authorization: Bearer with a Zahara API key or a JWT.";

/** The 1.0 card. */
export function cardV1(parts: CardParts): Record<string, unknown> {
  return {
    ...commonFields(parts),
    supportedInterfaces: interfaces(parts.url),
    capabilities: {
      streaming: false,
      pushNotifications: false,
      extendedAgentCard: false,
      extensions: [schemasExtension(parts.agent)],
    },
    securitySchemes: {
      apiKey: { apiKeySecurityScheme: { description: API_KEY_DESCRIPTION, location: "header", name: "X-API-Key" } },
      bearer: { httpAuthSecurityScheme: { description: BEARER_DESCRIPTION, scheme: "Bearer" } },
    },
    // Either scheme: one requirement each.
    securityRequirements: [{ schemes: { apiKey: { list: [] } } }, { schemes: { bearer: { list: [] } } }],
  };
}

/** The 0.3 card, with the 1.0 interfaces added. */
export function cardV03(parts: CardParts): Record<string, unknown> {
  return {
    protocolVersion: "0.3.0",
    ...commonFields(parts),
    url: parts.url,
    preferredTransport: PROTOCOL_BINDING,
    capabilities: { streaming: false, pushNotifications: false, extensions: [schemasExtension(parts.agent)] },
    securitySchemes: {
      apiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: API_KEY_DESCRIPTION },
      bearer: { type: "http", scheme: "bearer", description: BEARER_DESCRIPTION },
    },
    security: [{ apiKey: [] }, { bearer: [] }],
    supportsAuthenticatedExtendedCard: false,
    supportedInterfaces: interfaces(parts.url),
  };
}

/** Creates the card handler (an unknown agent is 404 `AGENT_NOT_FOUND`, naming no agent: the route is public). */
export function agentCardHandler(view: Pick<AgentsView, "registry">) {
  return function agentCardRoute(c: Context): Response {
    const agent = view.registry.agent(c.req.param("agent") ?? "", () => false);
    const parts: CardParts = {
      agent,
      url: `${new URL(c.req.url).origin}${a2aPath(agent.name)}`,
      textTask: textCapabilityOf(agent)?.task,
    };
    const asked = askedVersion(c.req.header(A2A_VERSION_HEADER));
    const legacy = asked === "absent" || asked === A2A_LEGACY_VERSION;
    c.header("Cache-Control", `public, max-age=${CARD_MAX_AGE_S}`);
    c.header("Vary", A2A_VERSION_HEADER, { append: true });
    return c.json(legacy ? cardV03(parts) : cardV1(parts));
  };
}
