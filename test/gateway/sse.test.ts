/** The event-stream encoder and parser shared by agents, the gateway and clients (workers/shared/http/sse.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseParser, encodeComment, encodeEvent, wantsEventStream } from "../../workers/shared/http/sse";

describe("server-sent events", () => {
  it("a stream split anywhere, with any line ends and comments, parses to the events encoded", () => {
    const eventArb = fc.record({
      event: fc.constantFrom("delta", "done", "error"),
      data: fc.jsonValue({ maxDepth: 2 }),
    });
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom("\n", "\r\n", "\r"),
        (events, cuts, eol) => {
          const text = events
            .map((e, i) => (i % 3 === 0 ? encodeComment("keepalive") : "") + encodeEvent(e.event, e.data))
            .join("")
            .replace(/\n/g, eol);
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const parser = new SseParser();
          const parsed = [];
          let from = 0;
          for (const p of [...points, text.length]) {
            parsed.push(...parser.push(text.slice(from, p)));
            from = p;
          }
          expect(parsed.map((e) => ({ event: e.event, data: JSON.parse(e.data) as unknown }))).toEqual(
            events.map((e) => ({ event: e.event, data: JSON.parse(JSON.stringify(e.data)) as unknown })),
          );
        },
      ),
    );
  });

  it("joins several data lines, names an unnamed event message, and ignores unknown fields", () => {
    const parser = new SseParser();
    expect(parser.push("data: a\ndata: b\nretry: 5\nfoo: x\n\nevent: done\ndata\n\n")).toEqual([
      { event: "message", data: "a\nb" },
      { event: "done", data: "" },
    ]);
  });

  it("asks for a stream only when text/event-stream is preferred", () => {
    expect(wantsEventStream("text/event-stream")).toBe(true);
    expect(wantsEventStream("text/event-stream, application/json;q=0.9")).toBe(true);
    // Both at the same weight (what MCP clients send): JSON, today's answer.
    expect(wantsEventStream("application/json, text/event-stream")).toBe(false);
    expect(wantsEventStream("application/json;q=1, text/event-stream;q=0.5")).toBe(false);
    expect(wantsEventStream("text/event-stream;q=0")).toBe(false);
    expect(wantsEventStream("*/*")).toBe(false);
    expect(wantsEventStream(undefined)).toBe(false);
  });
});
