/** The sign-in flow: the page's security headers; a wrong key refused, then the admin key with the keyboard alone; the skip link and the nav by Tab. */
import type { Page } from "playwright-core";
import { audit } from "../a11y";
import { check, screenshot } from "../checks";
import { checkDocumentHeaders } from "../csp";
import { ADMIN_KEY, DASHBOARD } from "../platform";

/** Signs in with the dev admin key (keyboard only), checking the page's headers, the sign-in page, its refusal and the keyboard path through the nav. */
export async function signIn(page: Page): Promise<void> {
  await checkDocumentHeaders(await page.goto(`${DASHBOARD}/`));
  await page.getByLabel("Admin key").waitFor();
  await screenshot(page, "login");
  await audit(page, "login");
  await page.getByLabel("Admin key").fill("not-the-admin-key");
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.getByRole("alert").waitFor();
  check(await page.getByLabel("Admin key").isVisible(), "a wrong admin key is refused and the login stays");
  await audit(page, "login-refused");
  // Keyboard only: the key field, then Enter.
  await page.getByLabel("Admin key").fill(ADMIN_KEY);
  await page.getByLabel("Admin key").press("Enter");
  await page.getByRole("heading", { name: "Clinic", level: 1 }).waitFor();
  check(true, "the admin key signs in (keyboard only) and lands on the Clinic");
  await page.keyboard.press("Tab");
  check(
    (await page.evaluate("document.activeElement?.textContent ?? ''")) === "Skip to content",
    "the first Tab reaches the skip link",
  );
  const reached: string[] = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    reached.push(String(await page.evaluate("document.activeElement?.textContent?.trim() ?? ''")));
  }
  check(
    ["Upload Wizard", "Builder", "Clinic"].every((label) => reached.includes(label)),
    "every screen is reachable from the nav by keyboard",
  );
  const cookies = await page.context().cookies();
  check(
    cookies.every((c) => !c.value.includes(ADMIN_KEY)),
    "no cookie holds the admin key",
  );
}
