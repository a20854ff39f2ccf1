/**
 * A local OTLP/HTTP trace receiver for tests (the only double for the
 * collector): `POST /v1/traces` with the JSON encoding, as a real collector
 * (Jaeger, the OTel Collector) accepts it. A separate control server lets a
 * test read what arrived and switch the collector's behaviour:
 *
 * - `ok`   → 200 and the spans are kept
 * - `fail` → 500 for every export
 * - `slow` → holds each export open for 15 s before answering 200
 * - `down` → the collector's port is closed (connection refused)
 *
 * Control API: `GET /spans` (flattened spans), `DELETE /spans`,
 * `PUT /mode/<mode>`, `GET /stats` (exports received per mode, and spans).
 *
 * With `keepSpans: false` (benchmarks) it only counts spans, so a long run
 * costs little memory and CPU in the process that also generates load.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** How the collector behaves. */
export type CollectorMode = "ok" | "fail" | "slow" | "down";

/** One received span, flattened with its service name. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  events: { name: string }[];
}

/** A running receiver. */
export interface OtlpReceiver {
  /** Collector base URL (what OTEL_EXPORTER_OTLP_ENDPOINT is set to). */
  url: string;
  /** Control server base URL. */
  controlUrl: string;
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttr = { key: string; value: OtlpValue };

function valueOf(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  return undefined;
}

function attrs(list: OtlpAttr[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));
}

/** Flattens an OTLP JSON export request. */
export function flatten(body: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  const resourceSpans = (body as { resourceSpans?: unknown[] }).resourceSpans ?? [];
  for (const rs of resourceSpans as {
    resource?: { attributes?: OtlpAttr[] };
    scopeSpans?: { spans?: Record<string, unknown>[] }[];
  }[]) {
    const service = String(attrs(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          service,
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          ...(s.parentSpanId ? { parentSpanId: String(s.parentSpanId) } : {}),
          name: String(s.name),
          kind: Number(s.kind ?? 0),
          status: (s.status as ReceivedSpan["status"]) ?? {},
          attributes: attrs(s.attributes as OtlpAttr[] | undefined),
          events: ((s.events as { name: string }[] | undefined) ?? []).map((e) => ({ name: e.name })),
        });
      }
    }
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

/** Options of {@link startOtlpReceiver}. */
export interface OtlpReceiverOptions {
  /** Keep the received spans for `GET /spans` (default true); false only counts them. */
  keepSpans?: boolean;
}

/** Starts the receiver and its control server on free local ports. */
export async function startOtlpReceiver({ keepSpans = true }: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  let mode: CollectorMode = "ok";
  const spans: ReceivedSpan[] = [];
  const stats: Record<string, number> = { ok: 0, fail: 0, slow: 0, spans: 0 };
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();

  const collector = createServer(async (req, res) => {
    if (req.method !== "POST" || !req.url?.endsWith("/v1/traces")) {
      res.writeHead(404).end();
      return;
    }
    let text: string;
    try {
      text = await readBody(req);
    } catch {
      return; // the exporter went away mid-request (its runtime stopped): nothing to answer
    }
    if (mode === "fail") {
      stats.fail = (stats.fail ?? 0) + 1;
      res.writeHead(500, { "Content-Type": "application/json" }).end('{"error":"collector failure"}');
      return;
    }
    if (mode === "slow") {
      stats.slow = (stats.slow ?? 0) + 1;
      held.add(res);
      req.socket.unref(); // a held export never keeps the test process alive
      setTimeout(() => {
        held.delete(res);
        if (!res.writableEnded) res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
      }, 15_000).unref();
      return;
    }
    stats.ok = (stats.ok ?? 0) + 1;
    try {
      const received = flatten(JSON.parse(text));
      stats.spans = (stats.spans ?? 0) + received.length;
      if (keepSpans) spans.push(...received);
    } catch {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
  });
  collector.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const port = await listen(collector);
  collector.unref();

  const closeCollector = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      collector.close(() => resolve());
    });

  const control = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://control");
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));
    if (req.method === "GET" && url.pathname === "/spans") return json(200, spans);
    if (req.method === "DELETE" && url.pathname === "/spans") {
      spans.length = 0;
      return json(200, {});
    }
    if (req.method === "GET" && url.pathname === "/stats") return json(200, { mode, ...stats });
    const set = /^\/mode\/(ok|fail|slow|down)$/.exec(url.pathname);
    if (req.method === "PUT" && set) {
      const next = set[1] as CollectorMode;
      if (next === "down" && mode !== "down") await closeCollector();
      if (next !== "down" && mode === "down") {
        await listen(collector, port);
        collector.unref();
      }
      mode = next;
      return json(200, { mode });
    }
    json(404, {});
  });
  const controlPort = await listen(control);
  control.unref();

  return {
    url: `http://127.0.0.1:${port}`,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    async close() {
      for (const r of held) r.destroy();
      await Promise.all([closeCollector(), new Promise<void>((resolve) => control.close(() => resolve()))]);
    },
  };
}
