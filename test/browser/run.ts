/**
 * Browser checks of the dashboard: Debian's chromium driven by playwright-core
 * against the whole platform as `npm run dev` runs it (agents, gateway,
 * dashboard with its Functions on :8788). Each screen's main flow, end to end:
 * sign in; the Upload Wizard with a manifest that has errors, then a good one
 * run through the gateway; a failing run that opens agent-demo's breaker and
 * shows up in the Clinic (then closed from the Clinic); an async run listed
 * in the Clinic as running, then succeeded, live; the Builder, its
 * simulator, its YAML round trip and its download; a hosted agent deployed
 * from the Wizard, test-called, edited (its diff, a 412 conflict), rolled back
 * and deleted in the Clinic (its LLM: the OpenAI double platform.ts starts
 * with the platform). Saves a screenshot of each
 * state at 1280 px and 390 px in dist/screenshots/, and audits the main ones
 * with axe-core (WCAG 2.1 A/AA) at both widths. The page's security headers
 * are checked at sign-in, and any Content Security Policy violation in any
 * flow fails the run (csp.ts).
 *
 * `npm run test:browser` (starts `npm run dev` unless ZAHARA_DASHBOARD_URL
 * points at a running one). Exits non-zero on the first failed check, or at
 * the end when the audit found any violation.
 *
 * platform.ts starts the platform; checks.ts and a11y.ts are what the flows
 * (flows/*.ts) use.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { violationsFound } from "./a11y";
import { VIEWPORTS, check } from "./checks";
import { watchCspViolations } from "./csp";
import { builder, builderYaml } from "./flows/builder";
import { failingRunOpensBreaker } from "./flows/clinic";
import { hostedAgent } from "./flows/hosted";
import { asyncRunInClinic } from "./flows/runs";
import { signIn } from "./flows/sign-in";
import { wizard } from "./flows/wizard";
import { CHROMIUM, root, shots, startPlatform, stopPlatform } from "./platform";

const FLOWS = [
  ["sign in", signIn],
  ["Upload Wizard", wizard],
  ["failing run → Clinic", failingRunOpensBreaker],
  ["async run → Clinic's runs", asyncRunInClinic],
  ["Builder", builder],
  ["Builder YAML round trip and download", builderYaml],
  ["hosted agent: deploy, test call, diff, conflict, rollback, delete", hostedAgent],
] as const;

async function main(): Promise<void> {
  const started = Date.now();
  await mkdir(shots, { recursive: true });
  const platform = await startPlatform();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    const page = await browser.newPage({ viewport: VIEWPORTS[0], acceptDownloads: true });
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const cspViolations = await watchCspViolations(page);
    for (const [name, flow] of FLOWS) {
      console.log(name);
      await flow(page);
      const seen = cspViolations();
      check(
        seen.length === 0,
        `no Content Security Policy violation so far${seen.length ? `: ${seen.join("; ")}` : ""}`,
      );
    }
    check(errors.length === 0, `no uncaught errors in the page${errors.length ? `: ${errors.join("; ")}` : ""}`);
    const violations = violationsFound();
    check(
      violations.length === 0,
      `no accessibility violations${violations.length ? ` (${violations.length}: ${violations.join(", ")})` : ""}`,
    );
    console.log(`screenshots: ${path.relative(root, shots)}/ · ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    await browser?.close();
    stopPlatform(platform);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
