/** Request ids: a caller's id is kept only when it is safe to echo and log. */

/** The rule a caller-supplied `X-Request-Id` must match to be used. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Header carrying the request id in both directions. */
export const REQUEST_ID_HEADER = "X-Request-Id";

/**
 * Returns the caller's request id when it matches {@link REQUEST_ID_PATTERN},
 * otherwise a fresh UUIDv4. The caller's value is never reflected otherwise.
 */
export function resolveRequestId(candidate: string | null | undefined): string {
  if (candidate && REQUEST_ID_PATTERN.test(candidate)) return candidate;
  return crypto.randomUUID();
}
