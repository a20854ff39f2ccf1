/**
 * The isolate's cache of managed-key lookups, keyed by the secret's SHA-256
 * (never the secret). A fresh entry (younger than the TTL) answers without
 * D1; that TTL is the revocation bound. Misses are cached too, so a flood of
 * one wrong key costs one D1 read per TTL. A stale entry is only used when
 * D1 cannot answer (see {@link KeyCache.stale}). Owned by the app instance,
 * not the module, and bounded in size.
 */
import type { KeyRecord } from "./key-store";

/** Options for {@link KeyCache}. */
export interface KeyCacheOptions {
  /** Most entries kept; the oldest is dropped first. */
  maxEntries?: number;
  /** How long past its TTL an entry may still stand in while D1 is failing, in ms. */
  maxStaleMs?: number;
}

interface Entry {
  record: KeyRecord | null;
  at: number;
}

/** A bounded, TTL'd map from secret hash to key record (or known miss). */
export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxStaleMs: number;

  constructor({ maxEntries = 10_000, maxStaleMs = 300_000 }: KeyCacheOptions = {}) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new TypeError("KeyCache: `maxEntries` must be a positive integer");
    if (!(maxStaleMs >= 0)) throw new TypeError("KeyCache: `maxStaleMs` must be >= 0");
    this.maxEntries = maxEntries;
    this.maxStaleMs = maxStaleMs;
  }

  /** The entry for `hash` if it is younger than `ttlMs` at `now`: a record, or null for a known miss. */
  fresh(hash: string, now: number, ttlMs: number): { record: KeyRecord | null } | undefined {
    const entry = this.entries.get(hash);
    return entry && now - entry.at < ttlMs ? { record: entry.record } : undefined;
  }

  /** A known key's record however old (up to `ttlMs + maxStaleMs`), for when D1 is unavailable. Misses are never served stale. */
  stale(hash: string, now: number, ttlMs: number): KeyRecord | undefined {
    const entry = this.entries.get(hash);
    return entry?.record && now - entry.at < ttlMs + this.maxStaleMs ? entry.record : undefined;
  }

  /** Stores a lookup result taken at `now`. */
  set(hash: string, record: KeyRecord | null, now: number): void {
    this.entries.delete(hash);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(hash, { record, at: now });
  }

  /** Entries held (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }
}
