/** Reading raw HTTP answers off a socket: who answered (the gateway or the runtime's parser), and the verdicts on them. */
import { describe, expect, it } from "vitest";
import { type RawExchange, checkRawHttp, responsesOf } from "../../scripts/soak/raw-http";

const gateway = (status: number, body = '{"error":"x","code":"INVALID_REQUEST"}') =>
  `HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nX-Request-Id: 7f27\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const runtime = (status: number) =>
  `HTTP/1.1 ${status} Internal Server Error\r\nConnection: close\r\nContent-Length: 21\r\n\r\nInternal Server Error`;
const ex = (name: string, raw: string, closedByServer = false): RawExchange => ({
  name,
  raw,
  responses: responsesOf(raw),
  closedByServer,
});
const verdicts = (list: RawExchange[], healthy = true) =>
  Object.fromEntries(checkRawHttp(list, "zzmarker", healthy).map((c) => [c.name, c.ok]));

describe("raw HTTP probes", () => {
  it("splits pipelined answers and tells the gateway's (X-Request-Id) from the runtime's", () => {
    expect(responsesOf(gateway(400) + runtime(500))).toEqual([
      { status: 400, fromGateway: true },
      { status: 500, fromGateway: false },
    ]);
    expect(responsesOf("")).toEqual([]);
    // A body that mentions a status line is not a response.
    expect(responsesOf(gateway(200, '{"text":"HTTP/1.1 500 in a body"}'))).toEqual([
      { status: 200, fromGateway: true },
    ]);
  });

  it("a 5xx from the gateway fails; the runtime's own refusal of bad framing is only reported", () => {
    expect(verdicts([ex("a", gateway(400)), ex("b", runtime(500), true), ex("c", "")])).toEqual({
      "lying Content-Length over a raw socket: no 5xx from the gateway": true,
      "lying Content-Length: no stack trace, no reflected header": true,
      "gateway answers normally after the raw probes": true,
    });
    expect(verdicts([ex("a", gateway(500))])["lying Content-Length over a raw socket: no 5xx from the gateway"]).toBe(
      false,
    );
  });

  it("a reflected marker, a stack trace, or a gateway that stops answering fails", () => {
    expect(
      verdicts([ex("a", gateway(400, '{"error":"bad id zzmarker"}'))])[
        "lying Content-Length: no stack trace, no reflected header"
      ],
    ).toBe(false);
    expect(
      verdicts([ex("a", gateway(400, '{"error":"x\\n    at read (json-body.ts:40:3)"}'))])[
        "lying Content-Length: no stack trace, no reflected header"
      ],
    ).toBe(false);
    expect(verdicts([ex("a", gateway(400))], false)["gateway answers normally after the raw probes"]).toBe(false);
  });
});
