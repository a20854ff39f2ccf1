/**
 * Building blocks shared by the OSSA v0.3.x schema modules: the patterns the
 * official JSON Schema uses in several places, and zod helpers for the JSON
 * Schema keywords zod has no direct equivalent for (`uniqueItems`,
 * `format: email|uri`).
 *
 * Convention used across the `ossa-*.ts` modules, mirroring the JSON Schema:
 * `additionalProperties: false` becomes `z.strictObject`, and
 * `additionalProperties: true` (or no statement at all) becomes
 * `z.looseObject`. JSON Schema `default`s are annotations there, so the OSSA
 * schemas never inject defaults into the parsed manifest.
 */
import { z } from "zod";

/** `${VAR}` / `${VAR:-default}` environment reference accepted for `llm.provider` and `llm.profile`. */
export const ENV_REF_PATTERN = /^[$]\{[A-Za-z_][A-Za-z0-9_]*(?::-[a-zA-Z0-9_-]+)?\}$/;

/** DNS-1123 name: lowercase alphanumerics and `-`, starting and ending alphanumeric. */
export const DNS1123_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const SEMVER_IDENT = String.raw`(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)`;

/** Full semantic version (the semver.org regex, as in the OSSA schema), no leading `v`. */
export const SEMVER_PATTERN = new RegExp(
  String.raw`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
    String.raw`(?:-(${SEMVER_IDENT}(?:\.${SEMVER_IDENT})*))?` +
    String.raw`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`,
);

/** snake_case identifier (`^[a-z][a-z0-9_]*$`), used for commands and task capabilities. */
export const SNAKE_ID_PATTERN = /^[a-z][a-z0-9_]*$/;

/** Dotted messaging channel name such as `security.vulnerabilities`. */
export const CHANNEL_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** UPPER_SNAKE environment variable name. */
export const ENV_VAR_PATTERN = /^[A-Z][A-Z0-9_]*$/;

/** Absolute URI (RFC 3986 `scheme:rest`), the check used for `format: uri`. */
export const URI_PATTERN = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S*$/;

/** Any JSON object (`{ "type": "object" }` with no further constraints). */
export const JsonObjectSchema = z.record(z.string(), z.unknown());

/** Map of string to string (`additionalProperties: { type: string }`). */
export const StringMapSchema = z.record(z.string(), z.string());

/** Log level enum shared by agent, task and workflow observability. */
export const LogLevelSchema = z.enum(["debug", "info", "warn", "error"]);

/** Backoff strategy enum shared by task batch retry and workflow retries. */
export const BackoffStrategySchema = z.enum(["fixed", "exponential", "linear"]);

/** A string that must be an absolute URI (JSON Schema `format: uri`). */
export const UriStringSchema = z
  .string()
  .regex(URI_PATTERN, { error: "Invalid URI: expected an absolute URI such as https://host/path" });

/**
 * Array whose items must be pairwise distinct (JSON Schema `uniqueItems: true`),
 * compared by their JSON encoding.
 */
export function uniqueArray<T extends z.ZodType>(item: T) {
  return z.array(item).refine((items) => new Set(items.map((x) => JSON.stringify(x))).size === items.length, {
    error: "Array items must be unique",
  });
}

/** `JSONSchemaDefinition`: a (loosely checked) JSON Schema object. */
export const JSONSchemaDefinitionSchema = z.looseObject({
  type: z.enum(["object", "array", "string", "number", "integer", "boolean", "null"]).optional(),
  properties: JsonObjectSchema.optional(),
  required: z.array(z.string()).optional(),
  items: JsonObjectSchema.optional(),
  additionalProperties: z.union([z.boolean(), JsonObjectSchema]).optional(),
});

/** A JSON Schema definition as used in OSSA manifests. */
export type OssaJsonSchemaDefinition = z.infer<typeof JSONSchemaDefinitionSchema>;
