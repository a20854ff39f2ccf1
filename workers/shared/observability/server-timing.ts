/**
 * The agent's own spans on the wire: an agent lists what it spent its time
 * on (idempotency store, capability, LLM call, ...) in the standard
 * `Server-Timing` response header, and the gateway reads it back for the
 * request log's waterfall. Each entry carries `dur` (ms) and, as an extra
 * parameter the syntax allows, `start` (ms from the agent's request start).
 *
 * Parsing is defensive (the header crosses a service boundary): bounded
 * count and lengths, names limited to tokens, numbers checked.
 */

/** Response header carrying the spans. */
export const SERVER_TIMING_HEADER = "Server-Timing";

/** At most this many spans are kept from one header. */
export const MAX_SERVER_TIMING_ENTRIES = 16;

/** One span: its name, start and duration in ms, and a short description. */
export interface TimingEntry {
  name: string;
  /** Milliseconds from the agent's request start. */
  start: number;
  /** Duration in milliseconds. */
  dur: number;
  desc?: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,48}$/;
const MAX_DESC = 120;

function quote(text: string): string {
  // Visible ASCII and spaces only: a header value must stay Latin-1 and one line.
  const clean = text.replace(/[^\x20-\x7E]/g, "?").slice(0, MAX_DESC);
  return `"${clean.replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
}

const ms = (n: number) => String(Math.max(0, Math.round(n * 10) / 10));

/** Formats entries as a `Server-Timing` value; entries with an invalid name are left out. */
export function formatServerTiming(entries: readonly TimingEntry[]): string {
  return entries
    .filter((e) => TOKEN.test(e.name))
    .slice(0, MAX_SERVER_TIMING_ENTRIES)
    .map((e) => `${e.name};dur=${ms(e.dur)};start=${ms(e.start)}${e.desc ? `;desc=${quote(e.desc)}` : ""}`)
    .join(", ");
}

/** Splits on `sep` outside double quotes. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted && ch === "\\" && i + 1 < text.length) {
      current += ch + (text[++i] as string);
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      parts.push(current);
      current = "";
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, "$1");
  return v;
}

function number(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(unquote(value));
  return Number.isFinite(n) && n >= 0 && n < 86_400_000 ? n : undefined;
}

/**
 * Parses a `Server-Timing` value (null or malformed gives []). An entry
 * without `start` starts where the previous one ended; one without `dur`
 * lasts 0 ms. At most {@link MAX_SERVER_TIMING_ENTRIES} entries are kept.
 */
export function parseServerTiming(header: string | null | undefined): TimingEntry[] {
  if (!header || header.length > 8192) return [];
  const out: TimingEntry[] = [];
  let cursor = 0;
  for (const metric of splitOutsideQuotes(header, ",")) {
    if (out.length >= MAX_SERVER_TIMING_ENTRIES) break;
    const [rawName, ...rawParams] = splitOutsideQuotes(metric, ";");
    const name = (rawName ?? "").trim();
    if (!TOKEN.test(name)) continue;
    const params = new Map<string, string>();
    for (const p of rawParams) {
      const eq = p.indexOf("=");
      const key = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
      if (key && !params.has(key)) params.set(key, eq === -1 ? "" : p.slice(eq + 1));
    }
    const dur = number(params.get("dur")) ?? 0;
    const start = number(params.get("start")) ?? cursor;
    const desc = params.has("desc")
      ? unquote(params.get("desc") as string)
          .replace(/[^\x20-\x7E]/g, "")
          .slice(0, MAX_DESC)
      : "";
    out.push(desc ? { name, start, dur, desc } : { name, start, dur });
    cursor = start + dur;
  }
  return out;
}
