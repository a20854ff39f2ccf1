/**
 * The one check for "a JSON object" (not null, not an array) that every
 * parser of untrusted JSON here uses: manifests, request-log messages,
 * JSON-RPC envelopes, agents' event streams. Runtime-neutral.
 */

/** True when `value` is an object that is neither null nor an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
