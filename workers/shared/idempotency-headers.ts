/**
 * The idempotency headers, shared by the gateway (which takes a caller's key
 * and forwards it to the agent) and the agent runtime (which deduplicates).
 */

/** Request header naming the idempotency key (the IETF httpapi draft's name). */
export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

/** Response header set on an answer replayed from the store. */
export const REPLAYED_HEADER = "Idempotent-Replayed";
