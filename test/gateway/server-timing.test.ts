/** Server-Timing formatting and the defensive parser the gateway applies to agents' headers. */
import { describe, expect, it } from "vitest";
import {
  MAX_SERVER_TIMING_ENTRIES,
  formatServerTiming,
  parseServerTiming,
} from "../../workers/shared/observability/server-timing";

describe("Server-Timing", () => {
  it("round-trips entries, including descriptions with quotes, commas and semicolons", () => {
    const entries = [
      { name: "idempotency", start: 0, dur: 2.5, desc: "begin: new" },
      { name: "llm", start: 3, dur: 310, desc: 'openai "gpt", a;b\\c' },
      { name: "total", start: 0, dur: 320 },
    ];
    expect(parseServerTiming(formatServerTiming(entries))).toEqual(entries);
  });

  it("reads headers from other servers: no start follows the previous entry, no dur is 0, unknown params ignored", () => {
    expect(
      parseServerTiming('cache;desc="Cache Read";dur=23.2, db;dur=53, app;dur=47.2, miss, cpu;dur=2;foo=bar'),
    ).toEqual([
      { name: "cache", start: 0, dur: 23.2, desc: "Cache Read" },
      { name: "db", start: 23.2, dur: 53 },
      { name: "app", start: 76.2, dur: 47.2 },
      { name: "miss", start: 123.4, dur: 0 },
      { name: "cpu", start: 123.4, dur: 2 },
    ]);
  });

  it("drops what is not valid and bounds what it keeps", () => {
    expect(parseServerTiming(null)).toEqual([]);
    expect(parseServerTiming("")).toEqual([]);
    expect(parseServerTiming("x".repeat(9000))).toEqual([]);
    // Invalid names, negative, NaN and absurd numbers, unterminated quotes.
    expect(parseServerTiming('bad name;dur=1, ok;dur=-5, n;dur=abc, big;dur=1e12, q;desc="open')).toEqual([
      { name: "ok", start: 0, dur: 0 },
      { name: "n", start: 0, dur: 0 },
      { name: "big", start: 0, dur: 0 },
      { name: "q", start: 0, dur: 0, desc: '"open' },
    ]);
    const many = Array.from({ length: 40 }, (_, i) => `s${i};dur=1`).join(", ");
    expect(parseServerTiming(many)).toHaveLength(MAX_SERVER_TIMING_ENTRIES);
    expect(parseServerTiming(`x;desc="${"d".repeat(500)}"`)[0]!.desc).toHaveLength(120);
  });

  it("formats only token names and printable ASCII descriptions", () => {
    const header = formatServerTiming([
      { name: "bad name", start: 0, dur: 1 },
      { name: "ok", start: 0, dur: 1, desc: "naïve\nline" },
    ]);
    expect(header).toBe('ok;dur=1;start=0;desc="na?ve?line"');
  });
});
