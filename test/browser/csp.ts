/**
 * The dashboard's security headers as the browser gets them (dashboard/public/_headers, applied by
 * `wrangler pages dev` as by Pages): the main document's headers, and a watch for Content Security
 * Policy violations over every flow — `securitypolicyviolation` events in the page (reported through
 * a DevTools binding, which the CSP does not govern) and the console messages chromium logs for a
 * refused script, style, connection or worker, from the page or from its Web Workers.
 */
import type { Page, Response } from "playwright-core";
import { check } from "./checks";

/** What the policy must say (dashboard/public/_headers); the Node test pins the whole text. */
const REQUIRED_DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
];

/** Checks the headers the dashboard's HTML was served with. */
export async function checkDocumentHeaders(res: Response | null): Promise<void> {
  check(res !== null, "the dashboard's page has a response");
  const headers = await res.allHeaders();
  const csp = headers["content-security-policy"] ?? "";
  const directives = csp.split(";").map((d) => d.trim());
  const missing = REQUIRED_DIRECTIVES.filter((d) => !directives.includes(d));
  check(
    csp !== "" && missing.length === 0,
    `the page is served with a Content-Security-Policy that has ${REQUIRED_DIRECTIVES.join("; ")}${missing.length ? ` (missing: ${missing.join(", ")}; got: ${csp || "none"})` : ""}`,
  );
  check(
    !/'unsafe-(?:inline|eval)'|\*|blob:/.test(csp),
    "the CSP allows no inline script or style, no eval, no wildcard and no blob:",
  );
  check(headers["x-frame-options"] === "DENY", `X-Frame-Options: DENY (got ${headers["x-frame-options"] ?? "none"})`);
  check(headers["x-content-type-options"] === "nosniff", "X-Content-Type-Options: nosniff");
  check(headers["referrer-policy"] === "no-referrer", "Referrer-Policy: no-referrer");
  check(
    /camera=\(\)/.test(headers["permissions-policy"] ?? "") &&
      /microphone=\(\)/.test(headers["permissions-policy"] ?? "") &&
      /geolocation=\(\)/.test(headers["permissions-policy"] ?? ""),
    "Permissions-Policy denies camera, microphone and geolocation",
  );
  check(
    headers["access-control-allow-origin"] === undefined,
    "no Access-Control-Allow-Origin on the page (Pages' default * is removed)",
  );
}

/** Starts collecting CSP violations on `page` (before its first navigation); returns what was seen so far, on each call. */
export async function watchCspViolations(page: Page): Promise<() => string[]> {
  const seen: string[] = [];
  await page.exposeBinding(
    "__zaharaCspViolation",
    (_source, text: unknown) => void seen.push(`event: ${String(text)}`),
  );
  await page.addInitScript(`document.addEventListener("securitypolicyviolation", (e) => {
    globalThis.__zaharaCspViolation(e.violatedDirective + " blocked " + (e.blockedURI || "(inline)") + " at " + (e.sourceFile || "?") + ":" + e.lineNumber);
  }, true);`);
  const fromConsole = (where: string) => (msg: { text(): string }) => {
    if (/Content Security Policy/i.test(msg.text())) seen.push(`${where} console: ${msg.text()}`);
  };
  page.on("console", fromConsole("page"));
  page.on("worker", (worker) => worker.on("console", fromConsole(`worker ${worker.url()}`)));
  return () => [...seen];
}
