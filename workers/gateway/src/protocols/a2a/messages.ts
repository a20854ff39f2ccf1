/**
 * What an A2A request asks, read from its params in either dialect (1.0's
 * ProtoJSON parts `{text}` / `{data}` / `{url}` / `{raw}`, 0.3's parts with a
 * `kind`), and how a message becomes one call of a capability.
 *
 * A message carries one call. Its data part is `{task, parameters?}`, the
 * body of `POST /agents/:agent/execute`. Without a data part, its text works
 * for the agent's one capability that takes text: a capability whose input
 * is a single required string property (the text becomes that property); an
 * agent with none or several such capabilities takes data only, as its card
 * says. Anything else the message holds is a protocol mistake answered with a
 * JSON-RPC error: malformed params (-32602), or content the agent cannot take
 * (A2A's ContentTypeNotSupported, -32005). Whether the call then succeeds, the
 * task named included, is the call's business: a failed task, never an error.
 */
import * as z from "zod/mini";
import type { AgentInfo, CapabilityInfo } from "../../../../shared/agents";
import { isJsonContentType } from "../../../../shared/http/json-body";
import { type BodySchema, fieldIssues } from "../../../../shared/http/validation";
import { JsonRpcError, RPC } from "../jsonrpc";
import { type Dialect, A2A_VERSION, a2aError } from "./wire";

/** Most parts one message may hold. */
export const MAX_PARTS = 32;

/** One part of an incoming message, whatever the dialect. */
export type InboundPart =
  | { kind: "text"; text: string; mediaType?: string }
  | { kind: "data"; data: unknown; mediaType?: string }
  | { kind: "file" };

/** An incoming message, whatever the dialect. */
export interface InboundMessage {
  messageId: string;
  contextId?: string;
  taskId?: string;
  parts: InboundPart[];
}

/** One call a message asks for. */
export interface MessageCall {
  task: string;
  parameters: Record<string, unknown>;
}

const Id = z.string().check(z.minLength(1, "must not be empty"), z.maxLength(256, "at most 256 characters"));
const Metadata = z.record(z.string(), z.unknown());
const partsChecks = [z.minLength(1, "a message holds at least one part"), z.maxLength(MAX_PARTS)] as const;

const PartV1 = z.looseObject({
  text: z.optional(z.string()),
  data: z.optional(z.unknown()),
  url: z.optional(z.string()),
  raw: z.optional(z.string()),
  mediaType: z.optional(z.string()),
  metadata: z.optional(Metadata),
});
const MessageV1 = z.looseObject({
  messageId: Id,
  contextId: z.optional(Id),
  taskId: z.optional(Id),
  role: z.union([z.literal("ROLE_USER"), z.literal(1)], { error: 'a message sent to an agent has role "ROLE_USER"' }),
  parts: z.array(PartV1).check(...partsChecks),
  metadata: z.optional(Metadata),
});

const PartV03 = z.discriminatedUnion("kind", [
  z.looseObject({ kind: z.literal("text"), text: z.string(), metadata: z.optional(Metadata) }),
  z.looseObject({ kind: z.literal("data"), data: Metadata, metadata: z.optional(Metadata) }),
  z.looseObject({ kind: z.literal("file"), file: z.looseObject({}) }),
]);
const MessageV03 = z.looseObject({
  kind: z.optional(z.literal("message")),
  messageId: Id,
  contextId: z.optional(Id),
  taskId: z.optional(Id),
  role: z.literal("user", { error: 'a message sent to an agent has role "user"' }),
  parts: z.array(PartV03).check(...partsChecks),
  metadata: z.optional(Metadata),
});

const SendV1 = z.looseObject({
  message: MessageV1,
  configuration: z.optional(z.looseObject({})),
  metadata: z.optional(Metadata),
});
const SendV03 = z.looseObject({
  message: MessageV03,
  configuration: z.optional(z.looseObject({})),
  metadata: z.optional(Metadata),
});
const TaskIdParams = z.looseObject({ id: Id });

/** The body of a data part: that of `POST /agents/:agent/execute`. */
const CallData = z.strictObject({
  task: z.string({ error: "task must be a string" }).check(z.minLength(1, "task must not be empty"), z.maxLength(128)),
  parameters: z._default(z.record(z.string(), z.unknown(), { error: "parameters must be a JSON object" }), {}),
});

/** Parses `params` with `schema`, or throws invalid params naming each bad field. */
function parse<T>(schema: BodySchema<T>, params: unknown, prefix?: string): T {
  const parsed = schema.safeParse(params);
  if (parsed.success) return parsed.data;
  const fields = fieldIssues(parsed.error, prefix).slice(0, 20);
  throw new JsonRpcError(
    RPC.INVALID_PARAMS,
    `Invalid params: ${fields.map((f) => `${f.field}: ${f.message}`).join("; ")}`,
    { fields },
  );
}

/** A 0.3 data part whose value was wrapped as `{value}` (the SDK's `data_part_compat`), unwrapped. */
function legacyData(data: Record<string, unknown>, metadata: Record<string, unknown> | undefined): unknown {
  return metadata?.data_part_compat === true && Object.hasOwn(data, "value") ? data.value : data;
}

/** `{[key]: value}`, or `{}` when `value` is undefined. */
function ifDefined<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** The message of a `SendMessage` / `message/send` request. */
export function parseSendParams(dialect: Dialect, params: Record<string, unknown>): InboundMessage {
  if (dialect === A2A_VERSION) {
    const { message } = parse(SendV1, params);
    const parts = message.parts.map((p, i): InboundPart => {
      const kinds = (["text", "data", "url", "raw"] as const).filter((k) => p[k] !== undefined);
      if (kinds.length !== 1) {
        throw new JsonRpcError(
          RPC.INVALID_PARAMS,
          `Invalid params: message.parts[${i}] must hold exactly one of text, data, url or raw`,
        );
      }
      if (p.text !== undefined) return { kind: "text", text: p.text, ...ifDefined("mediaType", p.mediaType) };
      if (p.data !== undefined) return { kind: "data", data: p.data, ...ifDefined("mediaType", p.mediaType) };
      return { kind: "file" };
    });
    return {
      messageId: message.messageId,
      ...ifDefined("contextId", message.contextId),
      ...ifDefined("taskId", message.taskId),
      parts,
    };
  }
  const { message } = parse(SendV03, params);
  const parts = message.parts.map((p): InboundPart => {
    if (p.kind === "text") return { kind: "text", text: p.text };
    if (p.kind === "data") return { kind: "data", data: legacyData(p.data, p.metadata) };
    return { kind: "file" };
  });
  return {
    messageId: message.messageId,
    ...ifDefined("contextId", message.contextId),
    ...ifDefined("taskId", message.taskId),
    parts,
  };
}

/** The task id of a `GetTask` / `CancelTask` request (the same shape in both dialects). */
export function parseTaskId(params: Record<string, unknown>): string {
  return parse(TaskIdParams, params).id;
}

/** The property a capability's text fills: its input's only property, required and a string; else undefined. */
export function textInputOf(cap: CapabilityInfo): string | undefined {
  const schema = cap.input_schema;
  const properties = schema?.properties;
  if (schema?.type !== "object" || typeof properties !== "object" || properties === null || Array.isArray(properties))
    return undefined;
  const names = Object.keys(properties);
  const only = names[0];
  if (names.length !== 1 || only === undefined) return undefined;
  const property: unknown = (properties as Record<string, unknown>)[only];
  const required = Array.isArray(schema.required) && schema.required.includes(only);
  const isString =
    typeof property === "object" && property !== null && (property as { type?: unknown }).type === "string";
  return required && isString ? only : undefined;
}

/** The agent's one capability that takes text, with the property the text fills; undefined when it has none or several. */
export function textCapabilityOf(agent: AgentInfo): { task: string; property: string } | undefined {
  const takers = agent.capabilities.flatMap((cap) => {
    const property = textInputOf(cap);
    return property === undefined ? [] : [{ task: cap.name, property }];
  });
  return takers.length === 1 ? takers[0] : undefined;
}

/** The call `message` asks `agent` for (see the file comment for the rules). */
export function callOf(agent: AgentInfo, message: InboundMessage): MessageCall {
  for (const [i, part] of message.parts.entries()) {
    if (part.kind === "data" && part.mediaType && !isJsonContentType(part.mediaType)) {
      throw a2aError(
        "CONTENT_TYPE_NOT_SUPPORTED",
        `message.parts[${i}]: a data part is application/json, not "${part.mediaType.slice(0, 64)}"`,
      );
    }
    if (part.kind === "text" && part.mediaType && !/^text\//i.test(part.mediaType)) {
      throw a2aError(
        "CONTENT_TYPE_NOT_SUPPORTED",
        `message.parts[${i}]: a text part is text/plain, not "${part.mediaType.slice(0, 64)}"`,
      );
    }
  }
  const data = message.parts.filter((p) => p.kind === "data");
  if (data.length > 1)
    throw new JsonRpcError(
      RPC.INVALID_PARAMS,
      "Invalid params: a message carries one call: send one data part {task, parameters}",
    );
  if (data[0]) return parse(CallData, data[0].data, "message.data");
  const texts = message.parts.flatMap((p) => (p.kind === "text" ? [p.text] : []));
  if (texts.length === 0) {
    throw a2aError("CONTENT_TYPE_NOT_SUPPORTED", "File parts are not supported: send a data part {task, parameters}");
  }
  const taker = textCapabilityOf(agent);
  if (!taker) {
    throw a2aError(
      "CONTENT_TYPE_NOT_SUPPORTED",
      `Agent "${agent.name}" takes a data part {task, parameters}, not text (see the skills' inputModes on its card)`,
    );
  }
  return { task: taker.task, parameters: { [taker.property]: texts.join("\n") } };
}
