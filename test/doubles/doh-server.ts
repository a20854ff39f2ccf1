/**
 * A local DNS-over-HTTPS resolver for tests (the double for cloudflare-dns.com's
 * JSON API), over real HTTP so the callback guard resolves names as it would in
 * production, without the network. It serves `GET /dns-query?name=<name>&type=A|AAAA`
 * (or type 1 / 28) with `accept: application/dns-json`, answering as Cloudflare and
 * Google do: `{Status, TC, RD, RA, AD, CD, Question, Answer?}` with Answer entries
 * `{name, type, TTL, data}` (names with a trailing dot). Zone data:
 *
 * - records given to {@link startDohServer}, and records a test publishes with
 *   `PUT /__records__` `{"<name>": {A?, AAAA?, CNAME?}}` (merged; tests in
 *   parallel files use their own names)
 * - a name with a CNAME answers the CNAME entry, then the target's records of the
 *   asked type (one level)
 * - a known name without records of the asked type: Status 0, no Answer
 * - an unknown name: Status 3 (NXDOMAIN)
 * - `slow.test` never answers (a resolver that hangs); `servfail.test` answers Status 2
 *
 * A query without the JSON accept header gets 400, as cloudflare-dns.com answers.
 * `GET /__queries__?name=<name>` → `{queries: [{name, type}]}` (all names without
 * `name`): what was asked, so a test can show that no lookup happened.
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** The records of one name. */
export interface DohRecords {
  A?: string[];
  AAAA?: string[];
  /** Target name of a CNAME (its A / AAAA records are answered after the CNAME entry). */
  CNAME?: string;
}

/** A running resolver. */
export interface DohServer {
  /** The JSON API endpoint (what RUN_CALLBACK_DOH_URL is set to). */
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, { code: number; key: "A" | "AAAA" }> = {
  a: { code: 1, key: "A" },
  "1": { code: 1, key: "A" },
  aaaa: { code: 28, key: "AAAA" },
  "28": { code: 28, key: "AAAA" },
};

const normalise = (name: string) => name.trim().toLowerCase().replace(/\.$/, "");

/** Starts the resolver on 127.0.0.1 (a random port) with `records` (names without trailing dot). */
export async function startDohServer(records: Record<string, DohRecords> = {}): Promise<DohServer> {
  const zone = new Map<string, DohRecords>(Object.entries(records).map(([name, r]) => [normalise(name), r]));
  const queries: { name: string; type: string }[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://doh");
    const json = (status: number, value: unknown, type = "application/json") =>
      res.writeHead(status, { "Content-Type": type }).end(JSON.stringify(value));
    if (req.method === "PUT" && url.pathname === "/__records__") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        try {
          const added = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, DohRecords>;
          for (const [name, r] of Object.entries(added)) zone.set(normalise(name), r);
          json(200, { names: Object.keys(added).map(normalise) });
        } catch {
          json(400, { error: "body is not JSON" });
        }
      });
      return;
    }
    if (req.method === "GET" && url.pathname === "/__queries__") {
      const name = url.searchParams.get("name");
      return json(200, { queries: name === null ? queries : queries.filter((q) => q.name === normalise(name)) });
    }
    if (req.method !== "GET" || url.pathname !== "/dns-query") return json(404, { error: "not found" });
    if (!(req.headers.accept ?? "").includes("application/dns-json"))
      return json(400, { error: "accept application/dns-json" });
    const name = normalise(url.searchParams.get("name") ?? "");
    const type = TYPES[(url.searchParams.get("type") ?? "A").toLowerCase()];
    if (!name || !type) return json(400, { error: "name and type (A or AAAA) required" });
    queries.push({ name, type: type.key });

    if (name === "slow.test") {
      req.socket.unref(); // a hanging lookup never keeps the test process alive
      return;
    }
    const question = [{ name: `${name}.`, type: type.code }];
    const flags = { TC: false, RD: true, RA: true, AD: false, CD: false };
    const answer = (status: number, entries?: unknown[]) =>
      json(
        200,
        { Status: status, ...flags, Question: question, ...(entries ? { Answer: entries } : {}) },
        "application/dns-json",
      );
    if (name === "servfail.test") return answer(2);
    const found = zone.get(name);
    if (!found) return answer(3);
    const entries: unknown[] = [];
    if (found.CNAME) {
      const alias = normalise(found.CNAME);
      entries.push({ name: `${name}.`, type: 5, TTL: 300, data: `${alias}.` });
      for (const data of zone.get(alias)?.[type.key] ?? [])
        entries.push({ name: `${alias}.`, type: type.code, TTL: 300, data });
    } else {
      for (const data of found[type.key] ?? []) entries.push({ name: `${name}.`, type: type.code, TTL: 300, data });
    }
    return answer(0, entries.length > 0 ? entries : undefined);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dns-query`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
