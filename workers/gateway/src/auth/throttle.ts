/**
 * The failed-authentication throttle, on the gateway's side: the client's
 * address, the {@link AuthThrottle} Durable Object that counts that address's
 * failures across isolates, and this isolate's memory of what it learnt.
 *
 * Past the limit an address is refused **before** its credential is checked,
 * unless this isolate has already verified that credential: otherwise a
 * right guess would answer 200 while wrong ones answer 429, and the 429 would
 * only tell an attacker "wrong". So the first time an isolate verifies a
 * credential it also asks the throttle whether the address is over the limit
 * (one awaited call per credential and isolate, never again on the hot path).
 * Bounded and fail-open: if the throttle cannot answer in time, the request
 * is answered as if it had no record (a plain 401, or the verified principal).
 */
import type { AuthThrottle, ThrottleConfig, ThrottleDecision } from "../../../../durable-objects/auth-throttle/src";
import type { DurableObjectCalls } from "../../../shared/http/context";
import { type DeploymentVars, isLocalDevelopment } from "../../../shared/http/deployment";
import type { Logger } from "../../../shared/logger";
import { withTimeout } from "../../../shared/timeout";

/** How long a failed request waits for the throttle before answering 401 anyway. */
export const THROTTLE_TIMEOUT_MS = 1000;
/** Addresses and credentials an isolate remembers (each map is cleared when it grows past this). */
const MAX_REMEMBERED = 10_000;

/** Vars that decide how the client address is read. */
export interface AddressVars extends DeploymentVars {
  /** Test harnesses that play Cloudflare's edge set `true` to honour `CF-Connecting-IP` in local development. */
  DEV_TRUST_CLIENT_ADDRESS?: string;
}

/**
 * The client address: `CF-Connecting-IP`, which Cloudflare sets on every
 * request at the edge (a client cannot choose it there). Local development
 * has no edge: the header is whatever the client sent, and every client is on
 * this machine, so the address is `local` (unless `DEV_TRUST_CLIENT_ADDRESS`).
 */
export function clientAddress(headers: Headers, env?: AddressVars): string {
  if (isLocalDevelopment(env) && env?.DEV_TRUST_CLIENT_ADDRESS !== "true") return "local";
  return headers.get("CF-Connecting-IP")?.trim().slice(0, 64) || "unknown";
}

/**
 * Asks `address`'s throttle: `record` counts one failure, `status` only looks.
 * Undefined when the throttle could not answer in time (logged).
 */
export async function askAuthThrottle(
  kind: "record" | "status",
  namespace: DurableObjectNamespace<AuthThrottle> | undefined,
  address: string,
  config: ThrottleConfig,
  logger: Logger,
  calls?: DurableObjectCalls,
): Promise<ThrottleDecision | undefined> {
  if (!namespace) return undefined;
  if (calls) calls.awaited++;
  try {
    const stub = namespace.get(namespace.idFromName(address));
    const call = kind === "record" ? stub.recordFailure(config) : stub.status(config);
    return await withTimeout(call as Promise<ThrottleDecision>, THROTTLE_TIMEOUT_MS, "auth throttle");
  } catch (error) {
    logger.warn("auth throttle unavailable; not counted or checked", {
      error: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/**
 * One isolate's memory: addresses it saw go over the limit (until when), and
 * the credentials (their SHA-256, hex) it has verified. Owned by the app, never
 * module state. Bounded: a map past {@link MAX_REMEMBERED} entries starts over.
 */
export class ThrottleMemory {
  private readonly blocked = new Map<string, number>();
  private readonly verified = new Set<string>();

  /** ms until `address` may try again, or 0. */
  blockedFor(address: string, now: number): number {
    const until = this.blocked.get(address);
    if (until === undefined) return 0;
    if (until <= now) {
      this.blocked.delete(address);
      return 0;
    }
    return until - now;
  }

  block(address: string, until: number): void {
    if (this.blocked.size >= MAX_REMEMBERED) this.blocked.clear();
    this.blocked.set(address, until);
  }

  hasVerified(digest: string): boolean {
    return this.verified.has(digest);
  }

  markVerified(digest: string): void {
    if (this.verified.size >= MAX_REMEMBERED) this.verified.clear();
    this.verified.add(digest);
  }
}
