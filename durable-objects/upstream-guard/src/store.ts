/**
 * SQLite persistence of one {@link UpstreamGuard}: the policy snapshots
 * (one row per policy), the per-key rate-limit cells, each key's own limits
 * and daily token budget, the last settings
 * used, the breaker transitions, and the request metrics (cumulative
 * counters, one row per minute of the last hour). Synchronous `ctx.storage.sql` calls:
 * writes made in a turn are committed together before its answer leaves.
 */
import type { GuardState } from "./guard";
import type { MetricsSnapshot, MinuteBucket } from "./metrics";
import type { BreakerTransition, TokenBudgetSnapshot } from "./policies";
import type { GuardConfig, KeyLimits } from "./types";

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS key_rate (key_id TEXT PRIMARY KEY, tat REAL NOT NULL)",
  // A key's own limits (JSON KeyLimits, as last admitted), its TokenBudget snapshot (JSON, NULL without a
  // budget) and the UTC day it was last written: a row from an earlier day equals a fresh key.
  "CREATE TABLE IF NOT EXISTS key_limits (key_id TEXT PRIMARY KEY, day TEXT NOT NULL, limits TEXT NOT NULL, tokens TEXT)",
  "CREATE TABLE IF NOT EXISTS transitions (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, cause TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS metrics (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS metrics_minutes (minute INTEGER PRIMARY KEY, v TEXT NOT NULL)",
];

const POLICIES = [
  "breaker",
  "rate",
  "concurrency",
  "tokens",
  "retries",
  "leases",
  "epoch",
] as const satisfies readonly (keyof GuardState)[];

/** One row of `key_limits`. */
export interface KeyLimitsRow {
  /** UTC day (YYYY-MM-DD) the row was last written. */
  day: string;
  limits: KeyLimits;
  tokens?: TokenBudgetSnapshot;
}

/** Typed access to the guard's tables. */
export class GuardStore {
  constructor(private readonly sql: SqlStorage) {
    this.createSchema();
  }

  /** Creates the tables if missing (after `deleteAll` too). */
  createSchema(): void {
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  /** The persisted policy snapshots (missing ones start fresh). */
  readState(): GuardState {
    const state: Record<string, unknown> = {};
    for (const row of this.sql.exec<{ k: string; v: string }>("SELECT k, v FROM state WHERE k != 'config'"))
      state[row.k] = JSON.parse(row.v);
    return state as GuardState;
  }

  /** Writes every policy snapshot present in `state`. */
  writeState(state: GuardState): void {
    for (const key of POLICIES) {
      const value = state[key];
      if (value !== undefined)
        this.sql.exec("INSERT OR REPLACE INTO state (k, v) VALUES (?, ?)", key, JSON.stringify(value));
    }
  }

  /** The settings last used (so an alarm can rebuild the guard after a restart). */
  readConfig(): GuardConfig | undefined {
    const row = this.sql.exec<{ v: string }>("SELECT v FROM state WHERE k = 'config'").toArray()[0];
    return row ? (JSON.parse(row.v) as GuardConfig) : undefined;
  }

  /** Records the settings in use. */
  writeConfig(config: GuardConfig): void {
    this.sql.exec("INSERT OR REPLACE INTO state (k, v) VALUES ('config', ?)", JSON.stringify(config));
  }

  /** The GCRA theoretical arrival time of a key, if it has one. */
  keyTat(keyId: string): number | undefined {
    const row = this.sql.exec<{ tat: number }>("SELECT tat FROM key_rate WHERE key_id = ?", keyId).toArray()[0];
    return row?.tat;
  }

  /** Stores a key's theoretical arrival time. */
  setKeyTat(keyId: string, tat: number): void {
    this.sql.exec("INSERT OR REPLACE INTO key_rate (key_id, tat) VALUES (?, ?)", keyId, tat);
  }

  /** True when any per-key cell exists. */
  hasKeys(): boolean {
    return this.sql.exec("SELECT 1 FROM key_rate LIMIT 1").toArray().length > 0;
  }

  /** Deletes cells whose bucket is full again (tat in the past): they equal a fresh cell. */
  dropRefilledKeys(now: number): void {
    this.sql.exec("DELETE FROM key_rate WHERE tat <= ?", now);
  }

  /** A key's own limits and token budget, if it has a row. */
  keyLimits(keyId: string): KeyLimitsRow | undefined {
    const row = this.sql
      .exec<{ day: string; limits: string; tokens: string | null }>(
        "SELECT day, limits, tokens FROM key_limits WHERE key_id = ?",
        keyId,
      )
      .toArray()[0];
    if (!row) return undefined;
    return {
      day: row.day,
      limits: JSON.parse(row.limits) as KeyLimits,
      ...(row.tokens ? { tokens: JSON.parse(row.tokens) as TokenBudgetSnapshot } : {}),
    };
  }

  /** Stores a key's limits and token budget. */
  setKeyLimits(keyId: string, row: KeyLimitsRow): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO key_limits (key_id, day, limits, tokens) VALUES (?, ?, ?, ?)",
      keyId,
      row.day,
      JSON.stringify(row.limits),
      row.tokens ? JSON.stringify(row.tokens) : null,
    );
  }

  /** True when any key has a `key_limits` row. */
  hasKeyLimits(): boolean {
    return this.sql.exec("SELECT 1 FROM key_limits LIMIT 1").toArray().length > 0;
  }

  /** Deletes rows last written before `today` (YYYY-MM-DD): their budgets have rolled over, so they equal no row. */
  dropStaleKeyLimits(today: string): void {
    this.sql.exec("DELETE FROM key_limits WHERE day < ?", today);
  }

  /** Appends transitions, keeping the newest `keep`. */
  addTransitions(transitions: readonly BreakerTransition[], keep: number): void {
    for (const t of transitions) {
      this.sql.exec(
        "INSERT INTO transitions (at, from_state, to_state, cause) VALUES (?, ?, ?, ?)",
        t.at,
        t.from,
        t.to,
        t.cause,
      );
    }
    this.sql.exec("DELETE FROM transitions WHERE id <= (SELECT MAX(id) FROM transitions) - ?", keep);
  }

  /** The newest `limit` transitions, oldest first. */
  transitions(limit: number): BreakerTransition[] {
    const rows = this.sql
      .exec<{ at: number; from_state: string; to_state: string; cause: string }>(
        "SELECT at, from_state, to_state, cause FROM transitions ORDER BY id DESC LIMIT ?",
        limit,
      )
      .toArray();
    return rows.reverse().map((r) => ({
      at: r.at,
      from: r.from_state as BreakerTransition["from"],
      to: r.to_state as BreakerTransition["to"],
      cause: r.cause,
    }));
  }

  /** The cumulative request counters, if any were recorded. */
  readMetrics(): MetricsSnapshot | undefined {
    const row = this.sql.exec<{ v: string }>("SELECT v FROM metrics WHERE k = 'counters'").toArray()[0];
    return row ? (JSON.parse(row.v) as MetricsSnapshot) : undefined;
  }

  /** The kept minute buckets, oldest first. */
  readMinutes(): MinuteBucket[] {
    return this.sql
      .exec<{ v: string }>("SELECT v FROM metrics_minutes ORDER BY minute")
      .toArray()
      .map((r) => JSON.parse(r.v) as MinuteBucket);
  }

  /** Writes the counters, the changed minute buckets, and drops minutes older than `oldestKept`. */
  writeMetrics(counters: MetricsSnapshot, changed: readonly MinuteBucket[], oldestKept: number): void {
    this.sql.exec("INSERT OR REPLACE INTO metrics (k, v) VALUES ('counters', ?)", JSON.stringify(counters));
    for (const m of changed)
      this.sql.exec("INSERT OR REPLACE INTO metrics_minutes (minute, v) VALUES (?, ?)", m.minute, JSON.stringify(m));
    if (changed.length > 0) this.sql.exec("DELETE FROM metrics_minutes WHERE minute < ?", oldestKept);
  }
}
