/** The Clinic's runs: a run started with `Prefer: respond-async` is listed running, then succeeded, live. */
import type { Page } from "playwright-core";
import { audit } from "../a11y";
import { check, screenshot, waitForText } from "../checks";
import { DASHBOARD, GATEWAY } from "../platform";

/** The caller key `npm run dev` sets up (scripts/dev.ts). */
const CALLER_KEY = process.env.ZAHARA_CALLER_KEY ?? "zahara-dev-key";
/** How long agent-demo's chaos capability sleeps before it answers. */
const DELAY_MS = 3000;

/**
 * Starts a 3-second chaos run on agent-demo asynchronously through the
 * gateway, opens the Clinic, sees the run running and then succeeded without
 * a reload (the list polls every 2 s while a run is active), opens it to see
 * its result, and screenshots and audits the Clinic with it open.
 */
export async function asyncRunInClinic(page: Page): Promise<void> {
  const res = await fetch(`${GATEWAY}/execute`, {
    method: "POST",
    headers: { "X-API-Key": CALLER_KEY, "Content-Type": "application/json", Prefer: "respond-async" },
    body: JSON.stringify({ agent: "agent-demo", task: "chaos", parameters: { delay_ms: DELAY_MS } }),
  });
  const accepted = (await res.json().catch(() => ({}))) as { run_id?: unknown };
  const runId = accepted.run_id;
  check(
    res.status === 202 && typeof runId === "string",
    `the gateway accepts a run with Prefer: respond-async (202 with a run id; got ${res.status})`,
  );
  // A new URL (not only a new hash), so the Clinic loads afresh and reads the runs at once.
  await page.goto(`${DASHBOARD}/?runs=${encodeURIComponent(runId)}#/clinic`);
  const row = page.getByTestId(`run-${runId}`);
  await row.waitFor({ timeout: 10_000 });
  const status = row.getByTestId("run-status");
  await waitForText(status, /^running$/, 5_000);
  check(true, "the Clinic lists the new run as running");
  // A mark in the page that a reload would wipe out.
  await page.evaluate("window.__runsFlowMark = true");
  await waitForText(status, /^succeeded$/, 10_000);
  check(
    (await page.evaluate("window.__runsFlowMark === true")) === true,
    "the run turns succeeded in the Clinic without a reload",
  );
  const duration = (await row.locator('td[data-label="Duration"]').textContent()) ?? "";
  check(!duration.startsWith("running"), `the finished run shows how long it took (${duration})`);
  const link = row.getByRole("link");
  const requestId = (await link.textContent()) ?? "";
  check(
    requestId !== "" && (await link.getAttribute("href")) === `#/clinic/request/${encodeURIComponent(requestId)}`,
    "the run links to its request's timeline",
  );
  await row.getByRole("button", { name: runId, exact: true }).click();
  const result = page.getByTestId("run-result");
  await waitForText(result, new RegExp(`"delayed_ms": ${DELAY_MS}`), 10_000);
  check(true, "opening the run shows its result");
  await screenshot(page, "clinic-runs");
  await audit(page, "clinic-runs");
}
