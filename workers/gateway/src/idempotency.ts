/**
 * Exactly-once on request: a caller that sends `Idempotency-Key` on an
 * execute call gets the agent's deduplication — the same key and body
 * within 24 h replays the first answer, and the gateway's own retries reuse
 * the key. The key reaches the agent scoped by the caller's principal, so
 * two callers' keys never meet.
 *
 * Without the header nothing is deduplicated and no Durable Object is
 * involved: the gateway retries only after the agent answered a retryable
 * failure (it finished that attempt) or could not be reached; in that last
 * case, and only then, a capability may run twice.
 */
import { ZaharaError } from "../../shared/errors";
import { IDEMPOTENCY_KEY_HEADER } from "../../shared/idempotency-headers";
import { sha256, toHex } from "./auth/api-keys";

/** A caller's key: 1–200 visible ASCII characters. */
export const CALLER_KEY_PATTERN = /^[\x21-\x7E]{1,200}$/;

async function principalTag(principalId: string): Promise<string> {
  return toHex((await sha256(principalId)).subarray(0, 8));
}

/**
 * The key to send the agent: `<16 hex of the principal's hash>:<caller's key>`,
 * or undefined when the caller sent none. A malformed key is 400 `INVALID_HEADER`.
 */
export async function agentIdempotencyKey(
  header: string | undefined,
  principalId: string,
): Promise<string | undefined> {
  if (header === undefined) return undefined;
  if (!CALLER_KEY_PATTERN.test(header)) {
    throw new ZaharaError("INVALID_HEADER", {
      message: `${IDEMPOTENCY_KEY_HEADER} must be 1 to 200 visible ASCII characters`,
      details: {
        fields: [{ field: IDEMPOTENCY_KEY_HEADER, message: "expected 1-200 characters in the range ! to ~" }],
      },
    });
  }
  return `${await principalTag(principalId)}:${header}`;
}
