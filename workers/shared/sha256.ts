/**
 * SHA-256 of text, as bytes or lower-case hex: one helper for every Worker (key digests in the gateway, request
 * bodies in the agent runtime's idempotency, hosted manifests' digests and idempotency keys). Web Crypto only.
 */

/** SHA-256 of a UTF-8 string. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of a UTF-8 string, as lower-case hex. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await sha256(text));
}
