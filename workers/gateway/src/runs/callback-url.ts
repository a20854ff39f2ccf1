/**
 * The SSRF guard for a run's `callback.url`: the gateway POSTs to a URL its
 * caller chose, so it must never be turned against an internal service or a
 * cloud metadata endpoint. {@link checkCallbackUrl} checks the URL itself
 * (synchronously, at run creation: https only, no credentials, no literal
 * non-public address, no internal host name, the operator's allow-list);
 * {@link checkCallbackTarget} resolves a host name through DNS-over-HTTPS and
 * refuses it when any address it resolves to is not public. Both are checks,
 * not a fence: DNS may change between the check and a delivery (rebinding), so
 * the sender re-checks before each attempt, and Workers' own fetch does not
 * reach private networks anyway. Runtime-neutral (fetch, URL, AbortSignal; no
 * Workers types). Settings: {@link resolveCallbackPolicy}.
 */

/** How callback URLs are judged. */
export interface CallbackPolicy {
  /** Accept http (and https) to loopback hosts: local development and tests only. */
  allowLoopbackHttp: boolean;
  /** When non-empty, the host must match one entry: `host` exactly or `*.suffix` (any subdomain of suffix, not suffix itself). */
  allowedHosts: string[];
  /** Resolve host names and refuse those with a non-public address (off in local development). */
  checkDns: boolean;
  /** DNS-over-HTTPS JSON endpoint. */
  dohUrl: string;
  /** Longest URL accepted, in characters. */
  maxLength: number;
}

/** The env vars {@link resolveCallbackPolicy} reads. */
export interface CallbackPolicyVars {
  ZAHARA_ENV?: string;
  RUN_CALLBACK_ALLOW_LOOPBACK_HTTP?: string;
  RUN_CALLBACK_ALLOWED_HOSTS?: string;
  RUN_CALLBACK_DOH_URL?: string;
}

/** Cloudflare's public resolver, JSON API. */
export const DEFAULT_DOH_URL = "https://cloudflare-dns.com/dns-query";

/** Longest callback URL, in characters. */
export const MAX_CALLBACK_URL_LENGTH = 2048;

/** Deadline of the DNS lookups of one {@link checkCallbackTarget}, A and AAAA together, in ms. */
export const DOH_TIMEOUT_MS = 2000;

/** Host name suffixes that only make sense inside a private network (RFC 6761, RFC 6762, RFC 8375, cloud conventions). */
const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain"];

/**
 * The policy from the environment: loopback http only when `RUN_CALLBACK_ALLOW_LOOPBACK_HTTP` is
 * `"true"`; `RUN_CALLBACK_ALLOWED_HOSTS` a comma list of `host` / `*.example.com` (empty = any public
 * host; an entry that is no host name simply matches nothing, so a typo narrows, never widens); DNS
 * checked unless `ZAHARA_ENV` is `"development"`; `RUN_CALLBACK_DOH_URL` when it is an http(s) URL,
 * else {@link DEFAULT_DOH_URL}.
 */
export function resolveCallbackPolicy(env: CallbackPolicyVars): CallbackPolicy {
  const allowedHosts = (env.RUN_CALLBACK_ALLOWED_HOSTS ?? "")
    .split(",")
    .map((entry) =>
      entry
        .trim()
        .toLowerCase()
        .replace(/\.$/, "")
        .replace(/^\[(.*)\]$/, "$1"),
    )
    .filter((entry) => entry.length > 0);
  let dohUrl = DEFAULT_DOH_URL;
  const configured = env.RUN_CALLBACK_DOH_URL?.trim();
  if (configured) {
    try {
      if (/^https?:$/.test(new URL(configured).protocol)) dohUrl = configured;
    } catch {
      // Not a URL: the default resolver.
    }
  }
  return {
    allowLoopbackHttp: env.RUN_CALLBACK_ALLOW_LOOPBACK_HTTP === "true",
    allowedHosts,
    checkDns: env.ZAHARA_ENV !== "development",
    dohUrl,
    maxLength: MAX_CALLBACK_URL_LENGTH,
  };
}

/** A dotted-quad IPv4 address (no leading zeros) as a 32-bit number; undefined otherwise. */
function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** An IPv6 address (RFC 4291 text, `::` and a trailing dotted quad allowed, no zone) as 8 groups; undefined otherwise. */
function parseIPv6(text: string): number[] | undefined {
  let s = text.toLowerCase();
  const dotted = /^(.*:)(\d+\.[\d.]*)$/.exec(s);
  if (dotted) {
    const v4 = parseIPv4(dotted[2] ?? "");
    if (v4 === undefined) return undefined;
    s = `${dotted[1]}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) =>
    part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if ([...head, ...tail].some(Number.isNaN)) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const fill = 8 - head.length - tail.length;
  return fill >= 1 ? [...head, ...new Array<number>(fill).fill(0), ...tail] : undefined;
}

/** IANA special-purpose IPv4 blocks (first match wins): [network, prefix length, kind]. */
const V4_BLOCKS: [string, number, string][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "carrier-grade NAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.169.254", 32, "cloud metadata"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["255.255.255.255", 32, "broadcast"],
  ["240.0.0.0", 4, "reserved"],
];

const V4_RANGES = V4_BLOCKS.map(([network, bits, kind]) => ({
  size: 2 ** (32 - bits),
  network: parseIPv4(network) ?? 0,
  kind,
}));

function v4Kind(n: number): string | undefined {
  return V4_RANGES.find(({ size, network }) => Math.floor(n / size) === Math.floor(network / size))?.kind;
}

/**
 * IPv6: `::ffff:a.b.c.d` (mapped), `64:ff9b::a.b.c.d` (NAT64) and `2002:a.b.c.d::/48` (6to4) are judged
 * by their IPv4 address; besides the named blocks, anything outside global unicast (2000::/3) and the
 * IETF protocol block 2001::/23 (Teredo, benchmarking, …) is reserved.
 */
function v6Kind(g: number[]): string | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embedded = g6 * 65536 + g7;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0) {
    if (g5 === 0xffff) return v4Kind(embedded);
    if (g5 === 0 && g6 === 0 && g7 <= 1) return g7 === 0 ? "unspecified" : "loopback";
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4Kind(embedded);
  if (g0 === 0x2002) return v4Kind(g1 * 65536 + g2);
  if ((g0 & 0xfe00) === 0xfc00) return "private";
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  if ((g0 === 0x2001 && g1 === 0x0db8) || (g0 === 0x3fff && g1 < 0x1000)) return "documentation";
  if ((g0 === 0x2001 && g1 < 0x200) || (g0 & 0xe000) !== 0x2000) return "reserved";
  return undefined;
}

/** Why `ip` is not public ("private", "loopback", …; "unparseable" for text that is no address), or undefined when it is public. */
function nonPublicKind(ip: string): string | undefined {
  const bare = ip.replace(/^\[(.*)\]$/, "$1");
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return v4Kind(v4);
  const v6 = bare.includes(":") ? parseIPv6(bare) : undefined;
  return v6 ? v6Kind(v6) : "unparseable";
}

/**
 * Whether `ip` (dotted-quad IPv4, or IPv6 with or without brackets) is a public unicast address: false
 * for every special-purpose block above, for IPv4 in odd forms (`0x7f.1`, `010.0.0.1`), and for text
 * that is not an address.
 */
export function isPublicAddress(ip: string): boolean {
  return nonPublicKind(ip) === undefined;
}

const article = (kind: string) => (/^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`);

/** Loopback as `allowLoopbackHttp` means it: `localhost`, `*.localhost`, 127.0.0.0/8 and ::1 (not their mapped forms). */
function isLoopbackHost(host: string): boolean {
  const v4 = parseIPv4(host);
  const v6 = host.includes(":") ? parseIPv6(host) : undefined;
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  return (v4 !== undefined && v4Kind(v4) === "loopback") || v6?.join(":") === "0:0:0:0:0:0:0:1";
}

/** The authority of `raw` as written (the URL parser normalises it: percent-decoding, IPv4 forms, width). */
function writtenAuthority(raw: string): string {
  return /^[a-z][a-z0-9+.-]*:[/\\]*([^/\\?#]*)/i.exec(raw)?.[1] ?? "";
}

/** The host as written in `raw`, lowercased, without userinfo and port. */
function writtenHost(raw: string): string {
  const authority = writtenAuthority(raw);
  const host = authority.slice(authority.lastIndexOf("@") + 1);
  return (host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:[^:]*$/, "")).toLowerCase();
}

function matchesAllowList(host: string, allowed: string[]): boolean {
  return allowed.some((entry) =>
    entry.startsWith("*.") ? host.endsWith(entry.slice(1)) && host.length > entry.length - 1 : host === entry,
  );
}

/** The outcome of a check: the parsed URL, or a short sentence naming the rule broken. */
export type CallbackUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Checks a `callback.url` as given (no network): a string of at most `maxLength` characters without
 * whitespace or controls; an absolute URL without username or password; https (http only to a loopback
 * host under `allowLoopbackHttp`); no IPv4 written other than as a dotted quad (the parser would read
 * `2130706433` or `0x7f.1` as 127.0.0.1); no literal non-public address and no internal host name
 * (`localhost`, `*.localhost`, `*.local`, `*.internal`, `*.home.arpa`, `*.localdomain`, a single label),
 * except loopback under `allowLoopbackHttp`; and, when `allowedHosts` is set, a host it names.
 */
export function checkCallbackUrl(raw: unknown, policy: CallbackPolicy): CallbackUrlCheck {
  const refuse = (reason: string): CallbackUrlCheck => ({ ok: false, reason });
  if (typeof raw !== "string") return refuse("callback.url must be a string");
  if (raw.length > policy.maxLength) return refuse(`callback.url must be at most ${policy.maxLength} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(raw))
    return refuse("callback.url must not contain whitespace or control characters");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("callback.url must be an absolute URL");
  }
  if (url.username || url.password || writtenAuthority(raw).includes("@"))
    return refuse("callback.url must not contain a username or password");
  if (url.protocol !== "https:" && url.protocol !== "http:") return refuse("callback.url must use https");
  const isV6 = url.hostname.startsWith("[");
  const host = isV6 ? url.hostname.slice(1, -1) : url.hostname.replace(/\.$/, "");
  const isIp = isV6 || parseIPv4(host) !== undefined;
  if (isIp && !isV6 && writtenHost(raw) !== host)
    return refuse(`callback.url must write an IPv4 address as a plain dotted quad (${host})`);
  const loopbackAllowed = policy.allowLoopbackHttp && isLoopbackHost(host);
  if (url.protocol === "http:" && !loopbackAllowed) return refuse("callback.url must use https");
  if (!loopbackAllowed) {
    const kind = isIp ? nonPublicKind(host) : undefined;
    if (kind) return refuse(`callback.url points to ${article(kind)} address (${host})`);
    if (!isIp && (host === "localhost" || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix)))) {
      return refuse(`callback.url points to an internal host name (${host})`);
    }
    if (!isIp && !host.includes("."))
      return refuse(`callback.url host must be a fully qualified domain name (${host})`);
  }
  if (policy.allowedHosts.length > 0 && !matchesAllowList(host, policy.allowedHosts)) {
    return refuse(`callback.url host is not in the allowed hosts (${host})`);
  }
  return { ok: true, url };
}

interface DohAnswer {
  Status?: unknown;
  Answer?: { type?: unknown; data?: unknown }[];
}

/** The A or AAAA addresses of `name` (CNAME and other records skipped); undefined for NXDOMAIN; throws when the resolver fails. */
async function lookup(
  name: string,
  type: "A" | "AAAA",
  dohUrl: string,
  fetcher: typeof fetch,
  signal: AbortSignal,
): Promise<string[] | undefined> {
  const query = new URL(dohUrl);
  query.searchParams.set("name", name);
  query.searchParams.set("type", type);
  const res = await fetcher(query.href, { headers: { accept: "application/dns-json" }, redirect: "manual", signal });
  if (res.status !== 200) throw new Error(`the resolver answered ${res.status}`);
  let body: DohAnswer;
  try {
    body = (await res.json()) as DohAnswer;
  } catch {
    throw new Error("the resolver's answer is not JSON");
  }
  if (body.Status === 3) return undefined;
  if (body.Status !== 0) throw new Error(`the resolver answered DNS status ${String(body.Status)}`);
  const wanted = type === "A" ? 1 : 28;
  return (Array.isArray(body.Answer) ? body.Answer : []).filter((a) => a?.type === wanted).map((a) => String(a.data));
}

/**
 * Checks where a URL that passed {@link checkCallbackUrl} leads (it re-runs that check first). With
 * `checkDns` and a host name (not a literal address, not loopback under `allowLoopbackHttp`), resolves
 * A and AAAA through the DoH JSON API (`GET <dohUrl>?name=&type=`, `accept: application/dns-json`,
 * redirects not followed) within {@link DOH_TIMEOUT_MS}, and refuses when any address is not public,
 * when the name has no A or AAAA address (NXDOMAIN included), or when the resolver fails or is late.
 */
export async function checkCallbackTarget(
  url: URL,
  policy: CallbackPolicy,
  fetcher: typeof fetch = (...args) => fetch(...args),
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const sync = checkCallbackUrl(url.href, policy);
  if (!sync.ok) return sync;
  const host = url.hostname.replace(/\.$/, "");
  if (!policy.checkDns || host.startsWith("[") || parseIPv4(host) !== undefined) return { ok: true };
  if (policy.allowLoopbackHttp && isLoopbackHost(host)) return { ok: true };
  const signal = AbortSignal.timeout(DOH_TIMEOUT_MS);
  let answers: (string[] | undefined)[];
  try {
    answers = await Promise.all([
      lookup(host, "A", policy.dohUrl, fetcher, signal),
      lookup(host, "AAAA", policy.dohUrl, fetcher, signal),
    ]);
  } catch (error) {
    const why = signal.aborted
      ? `the resolver did not answer within ${DOH_TIMEOUT_MS} ms`
      : error instanceof Error
        ? error.message
        : "lookup failed";
    return { ok: false, reason: `could not resolve callback host (${host}): ${why}` };
  }
  const addresses = answers.flatMap((a) => a ?? []);
  if (addresses.length === 0)
    return { ok: false, reason: `could not resolve callback host (${host}): it has no A or AAAA address` };
  for (const address of addresses) {
    const kind = nonPublicKind(address);
    if (kind) return { ok: false, reason: `callback.url resolves to ${article(kind)} address (${address})` };
  }
  return { ok: true };
}
