/**
 * Client of the {@link AuthThrottle} Durable Object: records a failed
 * authentication for the client's address. Bounded and fail-open: if the
 * throttle cannot answer in time, the failure is answered with a plain 401.
 */
import type { AuthThrottle, ThrottleDecision } from "../../../../durable-objects/auth-throttle/src";
import type { DurableObjectCalls } from "../../../shared/http/context";
import type { Logger } from "../../../shared/logger";
import { withTimeout } from "../../../shared/timeout";

/** How long a failed request waits for the throttle before answering 401 anyway. */
export const THROTTLE_TIMEOUT_MS = 1000;

/** The client address: `CF-Connecting-IP` (set by Cloudflare, not spoofable there), else `unknown`. */
export function clientAddress(headers: Headers): string {
  return headers.get("CF-Connecting-IP")?.trim().slice(0, 64) || "unknown";
}

/** Records one failure from `address`; undefined when the throttle could not answer. */
export async function recordAuthFailure(
  namespace: DurableObjectNamespace<AuthThrottle> | undefined,
  address: string,
  config: { limit: number; windowMs: number },
  logger: Logger,
  calls?: DurableObjectCalls,
): Promise<ThrottleDecision | undefined> {
  if (!namespace) return undefined;
  if (calls) calls.awaited++;
  try {
    const stub = namespace.get(namespace.idFromName(address));
    return await withTimeout(stub.recordFailure(config), THROTTLE_TIMEOUT_MS, "auth throttle");
  } catch (error) {
    logger.warn("auth throttle unavailable; failure not counted", { error: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}
