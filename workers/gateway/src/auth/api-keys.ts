/**
 * API keys from the `GATEWAY_API_KEYS` secret: comma-separated entries, each
 * a plaintext key or `sha256:<64 hex>` of one (so production holds no
 * plaintext). Several entries allow rotation without downtime. The presented
 * key is hashed and compared with every entry in constant time.
 */
import { sha256, toHex } from "../../../shared/sha256";

export { sha256, toHex };

/** One configured key, kept only as its SHA-256 digest. */
export interface ApiKeyEntry {
  digest: Uint8Array;
}

const HASHED = /^sha256:([0-9a-fA-F]{64})$/;

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Result of parsing the secret: usable entries, how many were malformed, and how many were refused as too short. */
export interface ParsedApiKeys {
  entries: ApiKeyEntry[];
  malformed: number;
  short: number;
}

/**
 * Parses `GATEWAY_API_KEYS`. A `sha256:` entry whose hex is not 64 digits is
 * counted as malformed and ignored (never echoed anywhere). With
 * `minPlaintextChars`, a plaintext entry shorter than that is counted as
 * short and ignored (bootstrap-policy.ts).
 */
export async function parseApiKeys(secret: string | undefined, minPlaintextChars = 0): Promise<ParsedApiKeys> {
  const entries: ApiKeyEntry[] = [];
  let malformed = 0;
  let short = 0;
  for (const raw of (secret ?? "").split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    const hashed = HASHED.exec(entry);
    if (hashed) entries.push({ digest: fromHex(hashed[1] as string) });
    else if (entry.toLowerCase().startsWith("sha256:")) malformed++;
    else if (entry.length < minPlaintextChars) short++;
    else entries.push({ digest: await sha256(entry) });
  }
  return { entries, malformed, short };
}

function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const subtle = crypto.subtle as SubtleCrypto & {
    timingSafeEqual?: (x: ArrayBufferView, y: ArrayBufferView) => boolean;
  };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Outcome of checking a presented key. */
export interface KeyCheck {
  valid: boolean;
  /** Short, non-reversible id of the presented key for logs (`key_` + 12 hex of its SHA-256). */
  keyId: string;
}

/**
 * Checks `presented` against every entry without stopping at the first
 * match, so timing does not reveal which entry (or whether any) matched.
 */
export async function checkApiKey(presented: string, entries: readonly ApiKeyEntry[]): Promise<KeyCheck> {
  const digest = await sha256(presented);
  return { valid: matchesAny(digest, entries), keyId: keyIdOf(digest) };
}

/** True when `digest` equals one of the entries; compares with every entry, in constant time each. */
export function matchesAny(digest: Uint8Array, entries: readonly ApiKeyEntry[]): boolean {
  let valid = false;
  for (const entry of entries) valid = timingSafeEqual(digest, entry.digest) || valid;
  return valid;
}

/** The log id of a secret-configured key: `key_` and the first 12 hex digits of its SHA-256. */
export function keyIdOf(digest: Uint8Array): string {
  return `key_${toHex(digest).slice(0, 12)}`;
}

/** Prefix of every managed key's secret (lets secret scanners and people recognise one). */
export const MANAGED_KEY_PREFIX = "zk_";

/** Characters of a secret shown in listings (`zk_` and 8 more). */
export const DISPLAY_PREFIX_LENGTH = 11;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** A new managed-key secret: `zk_` and 256 random bits in base64url (46 characters). */
export function generateSecret(): string {
  return MANAGED_KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** A new managed-key id: `key_` and 16 random hex digits (64 bits). Stable across rotations. */
export function generateKeyId(): string {
  return `key_${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;
}

/** The part of a secret that may be shown: its first {@link DISPLAY_PREFIX_LENGTH} characters. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_PREFIX_LENGTH);
}
