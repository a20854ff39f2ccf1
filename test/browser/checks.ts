/** What every flow uses: a logged check, waiting for text, screenshots at both widths. */
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { shots } from "./platform";

/** The widths every screen is looked at (and audited) with: a laptop and a phone. */
export const VIEWPORTS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
] as const;

/** Throws when `condition` is false; logs `message` as passed otherwise. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`  ✓ ${message}`);
}

/** Waits until `locator`'s text matches `pattern`. */
export async function waitForText(locator: Locator, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test((await locator.textContent()) ?? "")) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`"${pattern}" not shown within ${timeoutMs} ms (text: ${await locator.textContent()})`);
}

/** Saves full-page screenshots of the page as it is, `<name>-1280.png` and `<name>-390.png`; leaves the page at 1280 px. */
export async function screenshot(page: Page, name: string): Promise<void> {
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(shots, `${name}-${viewport.width}.png`), fullPage: true });
  }
  await page.setViewportSize(VIEWPORTS[0]);
}
