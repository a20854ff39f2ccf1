/**
 * Requests no `fetch` client will send, over a raw TCP socket to the
 * gateway: a `Content-Length` that lies (larger than the body, with the
 * client closing or waiting; smaller than it; two of them; not a number),
 * and `Content-Length` beside `Transfer-Encoding: chunked`. An answer from
 * the gateway (it carries `X-Request-Id`) is never a 5xx; no answer carries a
 * stack trace or the marker hidden in a header; and the gateway answers
 * normally afterwards. Framing the runtime's own HTTP parser refuses before
 * any Worker runs is reported with the status it chose.
 */
import { connect } from "node:net";
import type { Check } from "./checks";

/** One HTTP response read off the socket. */
export interface RawResponse {
  status: number;
  /** It carries `X-Request-Id`: the gateway's code answered, not the runtime's HTTP parser. */
  fromGateway: boolean;
}

/** One raw exchange: what came back before the socket closed or the wait ran out. */
export interface RawExchange {
  name: string;
  raw: string;
  responses: RawResponse[];
  closedByServer: boolean;
}

/**
 * Every HTTP/1.x response in `raw`, read in sequence (pipelined answers
 * included): status line, headers, then `Content-Length` bytes of body; a
 * response without a length runs to the end.
 */
export function responsesOf(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < raw.length) {
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw.slice(at, at + 16));
    const headEnd = raw.indexOf("\r\n\r\n", at);
    if (!status || headEnd === -1) break;
    const head = raw.slice(at, headEnd);
    out.push({ status: Number(status[1]), fromGateway: /\r\nX-Request-Id:/i.test(head) });
    const length = /\r\nContent-Length:\s*(\d+)/i.exec(head);
    if (!length) break;
    at = headEnd + 4 + Number(length[1]);
  }
  return out;
}

function exchange(
  url: URL,
  name: string,
  request: string,
  { endWrite, waitMs }: { endWrite: boolean; waitMs: number },
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const socket = connect(Number(url.port), url.hostname);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString("latin1");
      resolve({ name, raw, responses: responsesOf(raw), closedByServer });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => {
      closedByServer = true;
      finish();
    });
    socket.on("error", finish);
    socket.on("connect", () => {
      socket.write(request, "latin1");
      if (endWrite) socket.end();
    });
  });
}

/** Sends the probes to the gateway at `url` with the caller's `key`; `marker` hides in a header. */
export async function probeRawHttp(url: URL, key: string, marker: string): Promise<RawExchange[]> {
  const body = JSON.stringify({ task: "chaos", parameters: {} });
  const head = (extra: string[]) =>
    [
      `POST /agents/agent-demo/execute HTTP/1.1`,
      `Host: ${url.host}`,
      "Content-Type: application/json",
      `X-API-Key: ${key}`,
      `X-Request-Id: bad id ${marker}`,
      `X-Note: ${marker}`,
      ...extra,
      "",
      "",
    ].join("\r\n");
  const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  const probes: [string, string, { endWrite: boolean; waitMs: number }][] = [
    [
      "Content-Length larger than the body, client half-closes",
      head([`Content-Length: ${body.length + 100}`]) + body,
      { endWrite: true, waitMs: 5000 },
    ],
    [
      "Content-Length larger than the body, client waits",
      head([`Content-Length: ${body.length + 100}`]) + body,
      { endWrite: false, waitMs: 3000 },
    ],
    ["Content-Length smaller than the body", head(["Content-Length: 5"]) + body, { endWrite: false, waitMs: 3000 }],
    [
      "two different Content-Length headers",
      head(["Content-Length: 5", `Content-Length: ${body.length}`]) + body,
      { endWrite: false, waitMs: 3000 },
    ],
    ["Content-Length not a number", head(["Content-Length: abc"]) + body, { endWrite: false, waitMs: 3000 }],
    ["negative Content-Length", head(["Content-Length: -1"]) + body, { endWrite: false, waitMs: 3000 }],
    [
      "Content-Length beside Transfer-Encoding: chunked",
      head([`Content-Length: ${chunked.length + 40}`, "Transfer-Encoding: chunked"]) + chunked,
      { endWrite: false, waitMs: 3000 },
    ],
  ];
  const out: RawExchange[] = [];
  for (const [name, request, options] of probes) out.push(await exchange(url, name, request, options));
  return out;
}

/** The verdicts on the probes, and whether the gateway answered normally after them. */
export function checkRawHttp(exchanges: readonly RawExchange[], marker: string, healthyAfter: boolean): Check[] {
  const fiveXx = exchanges.filter((e) => e.responses.some((r) => r.fromGateway && r.status >= 500));
  const leaky = exchanges.filter((e) => e.raw.includes(marker) || /\n\s+at |\.ts:\d+|\.js:\d+/.test(e.raw));
  const shown = (e: RawExchange) =>
    e.responses.length
      ? e.responses.map((r) => `${r.status}${r.fromGateway ? "" : " (runtime)"}`).join(" + ")
      : e.closedByServer
        ? "closed"
        : "no answer";
  return [
    {
      name: "lying Content-Length over a raw socket: no 5xx from the gateway",
      ok: fiveXx.length === 0,
      detail: exchanges.map((e) => `${e.name}: ${shown(e)}`).join("; "),
    },
    {
      name: "lying Content-Length: no stack trace, no reflected header",
      ok: leaky.length === 0,
      detail: leaky.length ? `in: ${leaky.map((e) => e.name).join("; ")}` : `${exchanges.length} exchanges clean`,
    },
    {
      name: "gateway answers normally after the raw probes",
      ok: healthyAfter,
      detail: healthyAfter ? "a well-formed request got 200" : "a well-formed request failed",
    },
  ];
}
