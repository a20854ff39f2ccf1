/**
 * A local JWKS endpoint for tests (the double for an identity provider's
 * `/.well-known/jwks.json`), over real HTTP so the gateway's verifier fetches
 * it as it would in production. Tests (in workerd) generate their own key
 * pairs and publish only the public halves here, in named sets, so each test
 * gets a fresh URL and no verifier cache carries over between tests:
 *
 * - `PUT /sets/<name>` with `{"keys": [JWK, ...]}` publishes a set (400 if a
 *   key carries private members), or with `{"status": 503}` makes the set's
 *   endpoint answer that status instead
 * - `GET /sets/<name>/jwks.json` serves `{"keys": [...]}` (404 for an unknown set)
 * - `GET /sets/<name>/hits` answers `{"hits": n}`: JWKS fetches so far
 */
import { type IncomingMessage, createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A running JWKS double. */
export interface JwksServer {
  /** Base URL; a set's JWKS is at `${url}/sets/<name>/jwks.json`. */
  url: string;
  close(): Promise<void>;
}

interface KeySet {
  keys: unknown[];
  status: number;
  hits: number;
}

/** JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Starts the double on 127.0.0.1 (a random port). */
export async function startJwksServer(): Promise<JwksServer> {
  const sets = new Map<string, KeySet>();
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
    const match = /^\/sets\/([^/]+)(\/jwks\.json|\/hits)?$/.exec(new URL(req.url ?? "/", "http://x").pathname);
    const name = match?.[1] ?? "";
    if (!match || !NAME.test(name)) return send(404, { error: "not found" });
    const set = sets.get(name);
    if (req.method === "GET" && match[2] === "/jwks.json") {
      if (!set) return send(404, { error: `no set ${name}` });
      set.hits++;
      return set.status === 200 ? send(200, { keys: set.keys }) : send(set.status, { error: "unavailable" });
    }
    if (req.method === "GET" && match[2] === "/hits") return send(200, { hits: set?.hits ?? 0 });
    if (req.method === "PUT" && match[2] === undefined) {
      readBody(req).then(
        (text) => {
          let body: { keys?: unknown; status?: unknown };
          try {
            body = JSON.parse(text) as typeof body;
          } catch {
            return send(400, { error: "body is not JSON" });
          }
          const keys = Array.isArray(body.keys) ? body.keys : [];
          if (keys.some((k) => typeof k === "object" && k !== null && PRIVATE_MEMBERS.some((m) => m in k))) {
            return send(400, { error: "a JWKS publishes public keys only" });
          }
          const status = typeof body.status === "number" ? body.status : 200;
          sets.set(name, { keys, status, hits: set?.hits ?? 0 });
          return send(200, { url: `/sets/${name}/jwks.json` });
        },
        () => send(400, { error: "body not read" }),
      );
      return;
    }
    return send(405, { error: "method not allowed" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
