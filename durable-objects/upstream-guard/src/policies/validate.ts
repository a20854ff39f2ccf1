/**
 * Shared config and snapshot checks for the upstream-guard policies. Config
 * errors are `RangeError`s naming the field; malformed snapshots are
 * `TypeError`s (a snapshot comes from storage, so it is data, not config).
 */

/** Throws a `RangeError` unless `value` is an integer >= `min`. */
export function requireInt(field: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${field} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Throws a `RangeError` unless `value` is a finite number > 0. */
export function requirePositive(field: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a finite number > 0, got ${String(value)}`);
  }
}

/** Throws a `RangeError` unless `value` is a finite number >= 0. */
export function requireNonNegative(field: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${field} must be a finite number >= 0, got ${String(value)}`);
  }
}

/** Throws a `TypeError` unless `value` is a finite number (snapshot fields). */
export function snapshotNumber(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`snapshot.${field} must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Reads a `[id, number][]` snapshot field into a Map (concurrency leases, breaker probes). */
export function snapshotEntries(field: string, value: unknown): Map<string, number> {
  if (!Array.isArray(value)) throw new TypeError(`snapshot.${field} must be an array of [id, number] pairs`);
  const map = new Map<string, number>();
  for (const entry of value as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== "string") {
      throw new TypeError(`snapshot.${field} must be an array of [id, number] pairs`);
    }
    map.set(entry[0], snapshotNumber(`${field}[${entry[0]}]`, entry[1]));
  }
  return map;
}
