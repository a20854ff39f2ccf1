/**
 * A local webhook receiver for tests (the double for a customer's endpoint), over
 * real HTTP so the gateway's webhook sender is exercised as in production. It
 * records every POST and answers as the test asks. Tests run inside workerd, so
 * they steer it over HTTP on the same server; settings and recordings are per
 * receiving path, so test files running in parallel use their own paths and never
 * see each other's deliveries:
 *
 * - `POST /__mode__` with `{path?, mode, slow_ms?, fail_first?, body_bytes?}` sets how
 *   `path` answers (without `path`: the default for paths without their own mode):
 *   `ok` → 204; `down` → 503; `slow` → 200 after `slow_ms` (default 10 000);
 *   `redirect` → 302 to http://127.0.0.1:1/; `huge` → 200 streaming `body_bytes`
 *   (default 16 MiB) only as fast as the client reads. `fail_first: N` answers 503
 *   to the path's next N deliveries, then as the mode says.
 * - `GET /__received__?path=/x` → `{deliveries: [...]}` for that path (all paths
 *   without `path`), oldest first: `{path, url, headers, body, received_at,
 *   response: {status, bytes_written?, completed?}}`; `received_at` is epoch ms.
 * - `DELETE /__received__?path=/x` forgets the path's deliveries and failure count.
 *
 * Any other POST is a delivery; paths starting with `/__` are reserved.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** How a receiving path answers. */
export type ReceiverMode = "ok" | "down" | "slow" | "redirect" | "huge";

/** One recorded delivery. */
export interface ReceivedDelivery {
  path: string;
  url: string;
  /** Header names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  received_at: number;
  response: { status: number; bytes_written?: number; completed?: boolean };
}

/** A running receiver. */
export interface WebhookReceiver {
  /** Base URL: deliveries go to `${url}/<path>`. */
  url: string;
  /** Where the control endpoints live: the same server as {@link url}. */
  controlUrl: string;
  close(): Promise<void>;
}

interface PathSettings {
  mode: ReceiverMode;
  slowMs: number;
  failFirst: number;
  bodyBytes: number;
}

const MODES: ReceiverMode[] = ["ok", "down", "slow", "redirect", "huge"];
const HUGE_CHUNK = Buffer.alloc(16 * 1024, "x");

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Writes `total` bytes, waiting for the client to drain each chunk; records how far it got. */
function streamHuge(res: ServerResponse, total: number, record: ReceivedDelivery): void {
  res.writeHead(200, { "Content-Type": "text/plain" });
  let written = 0;
  record.response.bytes_written = 0;
  record.response.completed = false;
  const pump = () => {
    while (written < total && !res.destroyed) {
      const chunk = HUGE_CHUNK.subarray(0, Math.min(HUGE_CHUNK.length, total - written));
      written += chunk.length;
      record.response.bytes_written = written;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    if (written >= total && !res.destroyed) res.end(() => (record.response.completed = true));
  };
  pump();
}

/** Starts the receiver on 127.0.0.1 (a random port). */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const settings = new Map<string, PathSettings>();
  const failures = new Map<string, number>();
  let fallback: PathSettings = { mode: "ok", slowMs: 10_000, failFirst: 0, bodyBytes: 16 * 1024 * 1024 };
  const deliveries: ReceivedDelivery[] = [];
  const sockets = new Set<Socket>();

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      return; // the sender went away mid-request
    }
    if (url.pathname === "/__mode__" && req.method === "POST") {
      let input: { path?: unknown; mode?: unknown; slow_ms?: unknown; fail_first?: unknown; body_bytes?: unknown };
      try {
        input = JSON.parse(body) as typeof input;
      } catch {
        return json(400, { error: "body is not JSON" });
      }
      if (!MODES.includes(input.mode as ReceiverMode))
        return json(400, { error: `mode must be one of ${MODES.join(", ")}` });
      const num = (v: unknown, d: number) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : d);
      const next: PathSettings = {
        mode: input.mode as ReceiverMode,
        slowMs: num(input.slow_ms, 10_000),
        failFirst: num(input.fail_first, 0),
        bodyBytes: num(input.body_bytes, 16 * 1024 * 1024),
      };
      if (typeof input.path === "string") {
        settings.set(input.path, next);
        failures.set(input.path, 0);
      } else fallback = next;
      return json(200, { path: input.path ?? null, ...next });
    }
    if (url.pathname === "/__received__") {
      const path = url.searchParams.get("path");
      const matches = (d: ReceivedDelivery) => path === null || d.path === path;
      if (req.method === "GET") return json(200, { deliveries: deliveries.filter(matches) });
      if (req.method === "DELETE") {
        for (let i = deliveries.length - 1; i >= 0; i--)
          if (matches(deliveries[i] as ReceivedDelivery)) deliveries.splice(i, 1);
        if (path !== null) failures.set(path, 0);
        return json(200, {});
      }
    }
    if (url.pathname.startsWith("/__") || req.method !== "POST")
      return json(405, { error: "deliveries are POSTs; /__ paths are the control API" });

    const path = url.pathname;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      headers[name] = Array.isArray(value) ? value.join(", ") : (value ?? "");
    const record: ReceivedDelivery = {
      path,
      url: req.url ?? "/",
      headers,
      body,
      received_at: Date.now(),
      response: { status: 0 },
    };
    deliveries.push(record);
    const s = settings.get(path) ?? fallback;
    const failed = failures.get(path) ?? 0;
    if (failed < s.failFirst) {
      failures.set(path, failed + 1);
      record.response.status = 503;
      return json(503, { error: "failing on purpose (fail_first)" });
    }
    record.response.status = { ok: 204, down: 503, slow: 200, redirect: 302, huge: 200 }[s.mode];
    switch (s.mode) {
      case "ok":
        return res.writeHead(204).end();
      case "down":
        return json(503, { error: "receiver down" });
      case "redirect":
        return res.writeHead(302, { Location: "http://127.0.0.1:1/" }).end();
      case "slow":
        req.socket.unref(); // a held answer never keeps the test process alive
        setTimeout(() => {
          if (!res.destroyed) json(200, { received: true });
        }, s.slowMs).unref();
        return;
      case "huge":
        return streamHuge(res, s.bodyBytes, record);
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    controlUrl: url,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
