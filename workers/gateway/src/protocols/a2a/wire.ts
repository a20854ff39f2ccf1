/**
 * A2A's own words on the wire, shared by the card, the methods and the
 * route: the protocol versions served (1.0, and 0.3 for older peers), the
 * method names of each, the `A2A-Version` header, and A2A's JSON-RPC error
 * codes (-32001 to -32009, as @a2a-js/sdk 1.3 numbers them).
 *
 * An A2A error is a {@link JsonRpcError} whose `data` is a one-element list
 * holding a `google.rpc.ErrorInfo` (reason, domain `a2a-protocol.org`), as the
 * 1.0 specification and the SDK send it; a 0.3 client reads the code alone.
 * Nothing here imports the SDK: the gateway bundle stays small.
 */
import { JsonRpcError } from "../jsonrpc";

/** The protocol versions served, as `A2A-Version` and `AgentInterface.protocolVersion` name them. */
export const A2A_VERSION = "1.0";
export const A2A_LEGACY_VERSION = "0.3";

/** The header naming the version a request speaks. */
export const A2A_VERSION_HEADER = "A2A-Version";

/** The dialect of one request: its method names and shapes. */
export type Dialect = typeof A2A_VERSION | typeof A2A_LEGACY_VERSION;

/** The binding served (the only one: JSON-RPC 2.0 over HTTP). */
export const PROTOCOL_BINDING = "JSONRPC";

/** A2A's JSON-RPC error codes and their `ErrorInfo` reasons. */
export const A2A_ERRORS = {
  TASK_NOT_FOUND: { code: -32001, reason: "TASK_NOT_FOUND" },
  TASK_NOT_CANCELABLE: { code: -32002, reason: "TASK_NOT_CANCELABLE" },
  PUSH_NOTIFICATION_NOT_SUPPORTED: { code: -32003, reason: "PUSH_NOTIFICATION_NOT_SUPPORTED" },
  UNSUPPORTED_OPERATION: { code: -32004, reason: "UNSUPPORTED_OPERATION" },
  CONTENT_TYPE_NOT_SUPPORTED: { code: -32005, reason: "CONTENT_TYPE_NOT_SUPPORTED" },
  EXTENDED_CARD_NOT_CONFIGURED: { code: -32007, reason: "EXTENDED_AGENT_CARD_NOT_CONFIGURED" },
  VERSION_NOT_SUPPORTED: { code: -32009, reason: "VERSION_NOT_SUPPORTED" },
} as const;

/** An A2A error (see the file comment for its `data`). */
export function a2aError(kind: keyof typeof A2A_ERRORS, message: string): JsonRpcError {
  const { code, reason } = A2A_ERRORS[kind];
  return new JsonRpcError(code, message, [
    { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "a2a-protocol.org" },
  ]);
}

/** What each method is, in either dialect. */
export type MethodKind = "send" | "get" | "cancel" | "stream" | "push" | "list" | "extended-card";

/** The methods of 1.0 (PascalCase) and of 0.3 (slash-separated): the two sets never overlap. */
const METHODS: Record<string, { dialect: Dialect; kind: MethodKind }> = {
  SendMessage: { dialect: A2A_VERSION, kind: "send" },
  GetTask: { dialect: A2A_VERSION, kind: "get" },
  CancelTask: { dialect: A2A_VERSION, kind: "cancel" },
  SendStreamingMessage: { dialect: A2A_VERSION, kind: "stream" },
  SubscribeToTask: { dialect: A2A_VERSION, kind: "stream" },
  ListTasks: { dialect: A2A_VERSION, kind: "list" },
  CreateTaskPushNotificationConfig: { dialect: A2A_VERSION, kind: "push" },
  GetTaskPushNotificationConfig: { dialect: A2A_VERSION, kind: "push" },
  ListTaskPushNotificationConfigs: { dialect: A2A_VERSION, kind: "push" },
  DeleteTaskPushNotificationConfig: { dialect: A2A_VERSION, kind: "push" },
  GetExtendedAgentCard: { dialect: A2A_VERSION, kind: "extended-card" },
  "message/send": { dialect: A2A_LEGACY_VERSION, kind: "send" },
  "tasks/get": { dialect: A2A_LEGACY_VERSION, kind: "get" },
  "tasks/cancel": { dialect: A2A_LEGACY_VERSION, kind: "cancel" },
  "message/stream": { dialect: A2A_LEGACY_VERSION, kind: "stream" },
  "tasks/resubscribe": { dialect: A2A_LEGACY_VERSION, kind: "stream" },
  "tasks/pushNotificationConfig/set": { dialect: A2A_LEGACY_VERSION, kind: "push" },
  "tasks/pushNotificationConfig/get": { dialect: A2A_LEGACY_VERSION, kind: "push" },
  "tasks/pushNotificationConfig/list": { dialect: A2A_LEGACY_VERSION, kind: "push" },
  "tasks/pushNotificationConfig/delete": { dialect: A2A_LEGACY_VERSION, kind: "push" },
  "agent/getAuthenticatedExtendedCard": { dialect: A2A_LEGACY_VERSION, kind: "extended-card" },
};

/** The method named `name`, or undefined when A2A has no such method. */
export function methodOf(name: string): { dialect: Dialect; kind: MethodKind } | undefined {
  return Object.hasOwn(METHODS, name) ? METHODS[name] : undefined;
}

/**
 * The version an `A2A-Version` header asks for: 1.0 or 0.3 (a patch level is
 * ignored: `0.3.0` is 0.3), "absent" without the header (the specification
 * reads no header as 0.3; the card does), or undefined for any other version.
 */
export function askedVersion(header: string | undefined): Dialect | "absent" | undefined {
  if (header === undefined || header.trim() === "") return "absent";
  const m = /^\s*(\d{1,3})(?:\.(\d{1,3}))?(?:\.\d{1,3})?\s*$/.exec(header);
  if (!m) return undefined;
  const asked = `${Number(m[1])}.${Number(m[2] ?? 0)}`;
  return asked === A2A_VERSION || asked === A2A_LEGACY_VERSION ? asked : undefined;
}
