/** The Upload Wizard flow: a manifest with errors shown at their lines, then agent-demo's echo run through the gateway. */
import type { Page } from "playwright-core";
import { audit } from "../a11y";
import { check, screenshot } from "../checks";
import { DASHBOARD } from "../platform";

/** Validates a bad manifest, then runs echo through the gateway and waits for the result's waterfall; audits each step it stops at. */
export async function wizard(page: Page): Promise<void> {
  await page.goto(`${DASHBOARD}/#/wizard`);
  await page.getByRole("heading", { name: "Upload Wizard", level: 1 }).waitFor();
  await screenshot(page, "wizard");
  await audit(page, "wizard");
  await page
    .locator("#manifest-text")
    .fill("apiVersion: ossa/v0.3.1\nkind: Agent\nmetadata:\n  name: Bad Name!\nspec:\n  role: 7\n");
  await page.getByRole("button", { name: "Validate" }).click();
  await page.getByText(/problems? in/).waitFor();
  check((await page.getByText(/^Line \d+/).count()) > 0, "a manifest with errors shows them at their lines");
  await screenshot(page, "wizard-errors");
  await audit(page, "wizard-errors");

  await page.getByRole("button", { name: "Use agent-demo.ossa.yaml" }).click();
  await page.getByRole("heading", { name: /Capability of agent-demo/ }).waitFor();
  await page.getByLabel(/^echo/).check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("button", { name: "Review" }).click();
  await page.getByRole("heading", { name: "4. Review" }).waitFor();
  await audit(page, "wizard-review");
  await page.getByRole("button", { name: "Run through the gateway" }).click();
  await page.getByRole("heading", { name: "5. Result" }).waitFor();
  check(await page.getByText("Succeeded.").isVisible(), "echo through the gateway succeeds");
  await page.getByRole("heading", { name: "Waterfall" }).first().waitFor({ timeout: 15_000 });
  check(true, "the result shows its request id and the logged timeline");
  await screenshot(page, "wizard-result");
  await audit(page, "wizard-result");
}
