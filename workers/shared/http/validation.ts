/** Turns zod validation issues into the `details.fields` of a 400 error, and parses a JSON body with a schema. */
import type { $ZodError } from "zod/v4/core";
import { type ErrorCode, ZaharaError } from "../errors";
import { readJsonBody } from "./json-body";

/** One invalid field: a dotted path (`parameters.items[0].name`) and why. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Formats a zod issue path as `a.b[0].c`, prefixed with `prefix` if given. */
export function formatPath(path: readonly PropertyKey[], prefix?: string): string {
  let out = prefix ?? "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(root)";
}

/**
 * Lists every issue of a zod error as a {@link FieldIssue}; an unknown key is
 * reported under its own name rather than its parent's.
 */
export function fieldIssues(error: $ZodError, prefix?: string): FieldIssue[] {
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ field: formatPath([...issue.path, key], prefix), message: "Unknown field" }))
      : [{ field: formatPath(issue.path, prefix), message: issue.message }],
  );
}

/** Builds a 400 error naming each bad field. */
export function validationError(
  error: $ZodError,
  { code = "INVALID_REQUEST", prefix, message }: { code?: ErrorCode; prefix?: string; message?: string } = {},
): ZaharaError {
  const fields = fieldIssues(error, prefix);
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
  return new ZaharaError(code, {
    message: message ? `${message}: ${summary}` : undefined,
    details: { fields },
  });
}

/** A schema `parseJsonBody` can use (any zod or zod/mini schema). */
export interface BodySchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: $ZodError };
}

/** Options for {@link parseJsonBody}. */
export interface ParseBodyOptions {
  /** Largest body accepted (413 past it). */
  maxBytes: number;
  /** A request with no body (or `Content-Length: 0`) is parsed as `{}` instead of being refused. */
  optional?: boolean;
}

/**
 * Reads `request`'s JSON body ({@link readJsonBody}: 415 unless JSON, 413
 * past `maxBytes`, 400 if malformed) and validates it with `schema`; 400
 * `INVALID_REQUEST` naming each bad field otherwise.
 */
export async function parseJsonBody<T>(
  request: Request,
  schema: BodySchema<T>,
  { maxBytes, optional = false }: ParseBodyOptions,
): Promise<T> {
  const empty = optional && (request.body === null || request.headers.get("Content-Length") === "0");
  const parsed = schema.safeParse(empty ? {} : await readJsonBody(request, maxBytes));
  if (!parsed.success) throw validationError(parsed.error, { message: "Invalid request body" });
  return parsed.data;
}
