/**
 * A local HTTP server through which workerd tests hand files to Node (they
 * cannot write to the host's disk): `PUT /<name>` writes the body to
 * `dist/<name>`. Used for `dist/metrics-sample.prom`, the real `/metrics`
 * output that `npm run check:prom` checks with promtool.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/** Starts the sink writing into `dir`; resolves with its base URL. */
export async function startFileSink(dir: string): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").slice(1));
    if (req.method !== "PUT" || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
      res.writeHead(400).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, name), Buffer.concat(chunks));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
