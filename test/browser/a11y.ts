/**
 * The accessibility audit: axe-core (injected from node_modules, so it works
 * offline) run on a page as it is, at each of the widths screenshots use,
 * for the WCAG 2.0 / 2.1 A and AA rules. Violations are printed as they are
 * found and counted; the run fails at the end when there is any.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { ImpactValue } from "axe-core";
import type { Page } from "playwright-core";
import { VIEWPORTS } from "./checks";

/**
 * axe-core's source, evaluated in the page through the DevTools protocol: `addScriptTag` would add
 * an inline <script>, which the dashboard's CSP (script-src 'self') refuses, as it should.
 */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** One failed rule on a page, with the elements that fail it. */
interface Violation {
  id: string;
  impact: ImpactValue | undefined;
  help: string;
  helpUrl: string;
  nodes: { target: string; summary: string }[];
}

/**
 * Runs in the page (a string: tsx would wrap a function with helpers the page
 * does not have). Only violations come back, reduced to what is printed.
 */
const RUN_AXE = `axe.run(document, { runOnly: ${JSON.stringify(TAGS)}, resultTypes: ["violations"] }).then((r) =>
  r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target.flat().join(" "), summary: n.failureSummary ?? "" })) })))`;

const found: string[] = [];

/** Audits the page as it is at 1280 and 390 px (leaving it at 1280); prints each violation with its elements. */
export async function audit(page: Page, name: string): Promise<void> {
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport);
    if (!(await page.evaluate("typeof axe !== 'undefined'"))) await page.evaluate(AXE_SOURCE);
    const violations = (await page.evaluate(RUN_AXE)) as Violation[];
    for (const v of violations) {
      found.push(`${name}@${viewport.width}: ${v.id}`);
      console.log(
        `  ✗ axe, ${name} at ${viewport.width} px: ${v.id} (${v.impact ?? "no impact"}) ${v.help} — ${v.helpUrl}`,
      );
      for (const n of v.nodes) console.log(`      ${n.target}\n        ${n.summary.replace(/\s*\n\s*/g, " ")}`);
    }
  }
  await page.setViewportSize(VIEWPORTS[0]);
  if (!found.some((f) => f.startsWith(`${name}@`)))
    console.log(
      `  ✓ axe finds no WCAG 2.1 A/AA violation on ${name} at ${VIEWPORTS.map((v) => `${v.width}`).join(" and ")} px`,
    );
}

/** Every violation found so far (`<name>@<width>: <rule>`). */
export function violationsFound(): readonly string[] {
  return found;
}
