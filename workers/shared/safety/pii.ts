/**
 * Detection and redaction of personal data (PII) in text and JSON, for OSSA's `spec.safety.pii_detection`:
 * email addresses, phone numbers, payment card numbers (Luhn-checked), IBANs (mod-97-checked) and IPv4/IPv6
 * addresses. Pattern-based and deterministic, with no Workers or Node types, so agents, the gateway and the
 * command-line tools share it. It finds data in these shapes only (names, postal addresses, national ids and
 * free-text descriptions are out of reach); docs/manifests.md#safety-and-cost-fields states each kind's
 * false-positive and false-negative bounds. Every regex here is linear-time on any input: no nested
 * quantifier can match the same characters in more than one way.
 */
import { isJsonObject } from "../json-object";

/** The kinds of personal data Zahara detects, in the order they are reported. */
export const PII_KINDS = ["email", "phone", "card", "iban", "ip"] as const;

/** A kind of personal data Zahara detects. */
export type PiiKind = (typeof PII_KINDS)[number];

/** One detected value: its kind and its span in the text (`end` exclusive). */
export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
}

/** Response header in which an agent names the kinds it found in a call (comma-separated, no values). */
export const PII_KINDS_HEADER = "Zahara-Pii-Kinds";

/** The names a manifest's `pii_detection.types` may use for each kind (compared lowercased, `-`/space as `_`). */
export const PII_KIND_NAMES: Readonly<Record<PiiKind, readonly string[]>> = {
  email: ["email", "email_address", "e_mail"],
  phone: ["phone", "phone_number", "telephone", "mobile"],
  card: ["card", "credit_card", "debit_card", "payment_card", "card_number", "credit_card_number"],
  iban: ["iban"],
  ip: ["ip", "ip_address", "ipv4", "ipv6"],
};

const KIND_BY_NAME = new Map(PII_KINDS.flatMap((kind) => PII_KIND_NAMES[kind].map((name) => [name, kind] as const)));

/** The kind a manifest's `pii_detection.types` entry names, or undefined for a kind Zahara cannot detect. */
export function piiKindOf(name: string): PiiKind | undefined {
  const key = name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
  return KIND_BY_NAME.get(key);
}

/** `kinds` deduplicated, in {@link PII_KINDS} order. */
export function sortPiiKinds(kinds: Iterable<PiiKind>): PiiKind[] {
  const set = new Set(kinds);
  return PII_KINDS.filter((k) => set.has(k));
}

/** The {@link PII_KINDS_HEADER} value for `kinds`: deduplicated, comma-separated ("" when none). */
export function formatPiiKinds(kinds: Iterable<PiiKind>): string {
  return sortPiiKinds(kinds).join(",");
}

/** Reads a {@link PII_KINDS_HEADER} value: the known kinds it names (anything else is dropped). */
export function parsePiiKinds(value: string | null | undefined): PiiKind[] {
  const named = (value ?? "").split(",").map((part) => part.trim());
  return PII_KINDS.filter((k) => named.includes(k));
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

function ibanValid(compact: string): boolean {
  if (compact.length < 15 || compact.length > 34) return false;
  let rest = 0;
  for (const ch of compact.slice(4) + compact.slice(0, 4)) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48; // A=10 … Z=35
    rest = value >= 10 ? (rest * 100 + value) % 97 : (rest * 10 + value) % 97;
  }
  return rest === 1;
}

const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;

function ipv4Valid(text: string): boolean {
  return new RegExp(`^(?:${OCTET}\\.){3}${OCTET}$`).test(text);
}

/** Full IPv6 syntax (one `::` at most, 1–4 hex digits a group, an IPv4 tail allowed), with a decimal digit in it. */
function ipv6Valid(text: string): boolean {
  if (!/\d/.test(text) || !text.includes(":")) return false;
  let body = text;
  const tail = /(?:^|:)((?:\d{1,3}\.){3}\d{1,3})$/.exec(text)?.[1];
  if (tail !== undefined) {
    if (!ipv4Valid(tail)) return false;
    body = `${text.slice(0, text.length - tail.length)}0:0`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === "" ? [] : half.split(":")));
  if (!groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return halves.length === 1 ? groups.length === 8 : groups.length <= 7;
}

/** Three digit groups shaped like a date: 2024-01-15, 15.01.2024, 01/15/24. */
function dateShaped(groups: string[]): boolean {
  if (groups.length !== 3) return false;
  const [a = "", b = "", c = ""] = groups;
  if (a.length === 4 && b.length <= 2 && c.length <= 2) return true;
  return a.length <= 2 && b.length <= 2 && (c.length === 4 || c.length === 2);
}

function phoneValid(text: string): boolean {
  const digits = text.replace(/\D/g, "");
  if (digits.length < 7 || digits.length > 15) return false;
  if (text.startsWith("+")) return !digits.startsWith("0");
  const groups = text.split(/\D+/).filter((g) => g !== "");
  const [first = "", ...rest] = groups;
  if (groups.length < (text.startsWith("(") ? 2 : 3)) return false;
  if (dateShaped(groups)) return false;
  if (rest.some((g) => g.length === 1)) return false; // ISBNs, part numbers
  if (text.includes(".") && groups.some((g) => g.length < 2)) return false; // version numbers
  if (/^[1-9]\d{0,2}$/.test(first) && rest.every((g) => g.length === 3)) return false; // 1 000 000, 123-456-789
  return true;
}

/** A detector: the candidate pattern (global) and the check a candidate must pass. */
interface Detector {
  kind: PiiKind;
  pattern: RegExp;
  valid: (candidate: string) => boolean;
  /** When a candidate fails, its prefixes ending before one of these separators are tried, longest first… */
  separators?: RegExp;
  /** …down to this length. */
  minLength?: number;
}

/** In order of precedence: where two candidates overlap, the earlier detector's wins. */
const DETECTORS: readonly Detector[] = [
  {
    kind: "email",
    pattern:
      /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g,
    valid: () => true,
  },
  {
    kind: "iban",
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g,
    valid: (c) => ibanValid(c.replace(/ /g, "")),
    separators: / /g,
    minLength: 15,
  },
  {
    kind: "card",
    pattern: /(?<![\d+])\d(?:[ -]?\d){12,18}(?!\d)/g,
    valid: (c) => {
      const digits = c.replace(/\D/g, "");
      return digits.length >= 13 && digits.length <= 19 && !/^(\d)\1*$/.test(digits) && luhnValid(digits);
    },
    separators: /[ -]/g,
    minLength: 13,
  },
  {
    kind: "ip",
    pattern: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]|\.\w)/g,
    valid: ipv6Valid,
  },
  {
    kind: "ip",
    pattern: new RegExp(String.raw`(?<![\w.])(?:${OCTET}\.){3}${OCTET}(?![\w]|\.\d)`, "g"),
    valid: () => true,
  },
  {
    kind: "phone",
    pattern:
      /(?<![\w+.-])(?:\+\d{7,15}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,8}(?:[ .-]\d{1,8}){0,6})(?!\w|[.-]\d)/g,
    valid: phoneValid,
  },
];

/** The accepted length of a candidate: itself, else its longest valid prefix ending before a separator; 0 if none. */
function acceptedLength(detector: Detector, candidate: string): number {
  if (detector.valid(candidate)) return candidate.length;
  if (!detector.separators) return 0;
  const min = detector.minLength ?? 0;
  const cuts = [...candidate.matchAll(detector.separators)].map((m) => m.index).filter((i) => i >= min);
  cuts.reverse();
  for (const cut of cuts) if (detector.valid(candidate.slice(0, cut))) return cut;
  return 0;
}

/** Every match in `text`, of every kind, without overlaps, in text order. */
function detectAll(text: string): PiiMatch[] {
  if (!/[\d@]/.test(text)) return []; // every kind holds a digit or an @
  const taken = new Uint8Array(text.length);
  const found: PiiMatch[] = [];
  for (const detector of DETECTORS) {
    for (const m of text.matchAll(detector.pattern)) {
      const start = m.index;
      const end = start + acceptedLength(detector, m[0]);
      if (end === start || taken.subarray(start, end).includes(1)) continue;
      taken.fill(1, start, end);
      found.push({ kind: detector.kind, start, end });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/** What {@link findPii} found: the kinds (deduplicated, in {@link PII_KINDS} order) and each match. */
export interface PiiFindings {
  kinds: PiiKind[];
  matches: PiiMatch[];
}

/**
 * Finds the personal data of `kinds` in `text`. Every kind is detected and overlaps are resolved first (email,
 * then IBAN, card, IP, phone), so a card number is never reported as a phone number, whatever `kinds` asks for.
 */
export function findPii(text: string, kinds: readonly PiiKind[] = PII_KINDS): PiiFindings {
  const matches = detectAll(text).filter((m) => kinds.includes(m.kind));
  return { kinds: sortPiiKinds(matches.map((m) => m.kind)), matches };
}

/** The placeholder that replaces a value of `kind`. */
export function redactionOf(kind: PiiKind): string {
  return `[REDACTED:${kind}]`;
}

/** `text` with each match of `kinds` replaced by its placeholder, e.g. `[REDACTED:email]`. */
export function redactText(text: string, kinds: readonly PiiKind[] = PII_KINDS): string {
  const { matches } = findPii(text, kinds);
  if (matches.length === 0) return text;
  let out = "";
  let at = 0;
  for (const m of matches) {
    out += text.slice(at, m.start) + redactionOf(m.kind);
    at = m.end;
  }
  return out + text.slice(at);
}

/** A JSON number read as personal data: only an integer of 13 or more digits that is a card number. */
function numberKind(value: number, kinds: readonly PiiKind[]): PiiKind | undefined {
  if (!kinds.includes("card") || !Number.isSafeInteger(value) || Math.abs(value) < 1e12) return undefined;
  const text = String(Math.abs(value));
  const m = findPii(text, ["card"]).matches[0];
  return m && m.start === 0 && m.end === text.length ? "card" : undefined;
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment of "__proto__" would set the prototype; JSON.parse makes it an own property.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The kinds of personal data in the strings of a JSON value (object values, array items, and integers that are
 * card numbers), deduplicated, in {@link PII_KINDS} order. Object keys are not scanned.
 */
export function scanJson(value: unknown, kinds: readonly PiiKind[] = PII_KINDS): PiiKind[] {
  const found = new Set<PiiKind>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") for (const k of findPii(v, kinds).kinds) found.add(k);
    else if (typeof v === "number") {
      const kind = numberKind(v, kinds);
      if (kind) found.add(kind);
    } else if (Array.isArray(v)) for (const item of v as unknown[]) stack.push(item);
    else if (isJsonObject(v)) for (const item of Object.values(v)) stack.push(item);
  }
  return sortPiiKinds(found);
}

/**
 * A copy of a JSON value with personal data of `kinds` redacted: in each string, each match is replaced by its
 * placeholder; an integer that is a card number becomes the string `[REDACTED:card]`. Object keys are kept as
 * they are (not scanned), and so is their order. The input is not changed.
 */
export function redactJson(value: unknown, kinds: readonly PiiKind[] = PII_KINDS): unknown {
  let out: unknown = value;
  const stack: [unknown, (v: unknown) => void][] = [[value, (v) => (out = v)]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, set] = top;
    if (typeof v === "string") set(redactText(v, kinds));
    else if (typeof v === "number") {
      const kind = numberKind(v, kinds);
      set(kind ? redactionOf(kind) : v);
    } else if (Array.isArray(v)) {
      const copy: unknown[] = Array.from({ length: v.length });
      set(copy);
      (v as unknown[]).forEach((item, i) => stack.push([item, (x) => (copy[i] = x)]));
    } else if (isJsonObject(v)) {
      const copy: Record<string, unknown> = {};
      set(copy);
      for (const [key, item] of Object.entries(v)) {
        define(copy, key, undefined); // keeps the keys' order
        stack.push([item, (x) => define(copy, key, x)]);
      }
    } else set(v);
  }
  return out;
}
