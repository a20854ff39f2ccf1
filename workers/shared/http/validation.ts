/** Turns zod validation issues into the `details.fields` of a 400 error. */
import type { $ZodError } from "zod/v4/core";
import { type ErrorCode, ZaharaError } from "../errors";

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
