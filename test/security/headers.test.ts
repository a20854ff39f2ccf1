/**
 * The dashboard's static pages' security headers (dashboard/public/_headers, which Vite copies into
 * dashboard/dist/ for Cloudflare Pages and `wrangler pages dev`): the exact policy, and a real build
 * (into a temporary directory, so a running `npm run dev` is left alone) that carries the file and
 * needs nothing the policy refuses. The browser checks (test/browser/csp.ts) see the same headers
 * served and fail on any violation.
 */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SOURCE = path.join(ROOT, "dashboard", "public", "_headers");

/** The rules of a `_headers` file: URL pattern → headers set (lower-cased names) and headers detached (`! Name`). */
function parseHeaders(text: string): Map<string, { set: Record<string, string>; detached: string[] }> {
  const rules = new Map<string, { set: Record<string, string>; detached: string[] }>();
  let current: { set: Record<string, string>; detached: string[] } | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      current = { set: {}, detached: [] };
      rules.set(line.trim(), current);
      continue;
    }
    if (!current) throw new Error(`a header before any URL pattern: ${line}`);
    const detach = /^\s+!\s*(\S+)\s*$/.exec(line);
    if (detach) {
      current.detached.push(detach[1]!.toLowerCase());
      continue;
    }
    const header = /^\s+([A-Za-z0-9-]+):\s*(.+?)\s*$/.exec(line);
    if (!header) throw new Error(`not a header line: ${line}`);
    current.set[header[1]!.toLowerCase()] = header[2]!;
  }
  return rules;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

describe("dashboard security headers", () => {
  it("dashboard/public/_headers gives every static page a strict CSP with frame-ancestors 'none', X-Frame-Options DENY, nosniff, no referrer and a Permissions-Policy", async () => {
    const text = await readFile(SOURCE, "utf8");
    const rules = parseHeaders(text);
    expect([...rules.keys()]).toEqual(["/*"]);
    const all = rules.get("/*")!;
    expect(all.set).toEqual({
      "content-security-policy": CSP,
      "x-frame-options": "DENY",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "permissions-policy": "camera=(), microphone=(), geolocation=()",
    });
    expect(all.detached).toEqual(["access-control-allow-origin"]);
    // Pages' limits: 100 rules, 2 000 characters a line.
    expect(text.split("\n").every((l) => l.length <= 2000)).toBe(true);
  });

  it(
    "the dashboard build carries _headers into its output and needs nothing the CSP refuses: no inline script or style, the worker a file under /assets/",
    { timeout: 180_000 },
    async () => {
      const outDir = await mkdtemp(path.join(tmpdir(), "zahara-dashboard-build-"));
      try {
        await build({
          configFile: path.join(ROOT, "dashboard", "vite.config.ts"),
          logLevel: "silent",
          build: { outDir, emptyOutDir: true },
        });
        expect(await readFile(path.join(outDir, "_headers"), "utf8")).toBe(await readFile(SOURCE, "utf8"));
        const html = await readFile(path.join(outDir, "index.html"), "utf8");
        // Every <script> has a src; no <style> element and no style="…" attribute; no inline handlers.
        const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
        expect(scripts.length).toBeGreaterThan(0);
        for (const [, attributes, body] of scripts) {
          expect(attributes).toMatch(/\bsrc="\/assets\/[^"]+\.js"/);
          expect(body!.trim()).toBe("");
        }
        expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
        // The simulator's Web Worker is emitted as its own file (worker-src 'self'), not a blob: or data: URL.
        const assets = await readdir(path.join(outDir, "assets"));
        expect(assets.filter((f) => /^worker-.*\.js$/.test(f))).toHaveLength(1);
        const code = (
          await Promise.all(
            assets.filter((f) => f.endsWith(".js")).map((f) => readFile(path.join(outDir, "assets", f), "utf8")),
          )
        ).join("\n");
        expect(code).not.toMatch(/new Worker\(\s*["'`](?:blob|data):/);
        // zod's JIT (eval) is off in the page: the manifest chunk sets it (dashboard/src/zod-jitless.ts); the browser checks see no violation.
        expect(code).toMatch(/jitless:\s*(?:!0|true)\b/);
      } finally {
        await rm(outDir, { recursive: true, force: true });
      }
    },
  );
});
