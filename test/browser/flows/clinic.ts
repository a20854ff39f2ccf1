/** The Clinic flow: failing runs open agent-demo's breaker, the Clinic shows it and the failed requests, and closes it. */
import type { Page } from "playwright-core";
import { audit } from "../a11y";
import { check, screenshot, waitForText } from "../checks";
import { DASHBOARD, GATEWAY } from "../platform";

/**
 * Two chaos runs answering 500 open agent-demo's breaker; checks the Clinic's
 * badge, its request log and a failed request's waterfall with the agent's
 * own spans (audits the Clinic
 * and the request page), then closes the breaker from the Clinic.
 */
export async function failingRunOpensBreaker(page: Page): Promise<void> {
  // Start from a closed breaker (a previous run may have left it open; its state is persisted).
  await page.goto(`${DASHBOARD}/#/clinic`);
  const close = page.getByRole("article", { name: "agent-demo" }).getByRole("button", { name: "Close breaker" });
  await page.getByTestId("breaker-agent-demo").waitFor();
  await waitForText(page.getByTestId("breaker-agent-demo"), /Closed|Open|Half|Isolated/, 10_000);
  if (await close.isEnabled()) await close.click();
  await waitForText(page.getByTestId("breaker-agent-demo"), /Closed/, 15_000);
  // Two chaos runs that fail (500): each is retried, so five failed attempts open agent-demo's breaker.
  const failed: string[] = [];
  for (let i = 0; i < 2; i++) {
    // A new URL (not only a new hash), so the Wizard starts over.
    await page.goto(`${DASHBOARD}/?run=${i}#/wizard`);
    await page.getByRole("button", { name: "Use agent-demo.ossa.yaml" }).click();
    await page.getByLabel(/^chaos/).check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel("fail_status").fill("500");
    await page.getByRole("button", { name: "Review" }).click();
    await page.getByRole("button", { name: "Run through the gateway" }).click();
    await page.getByRole("heading", { name: "5. Result" }).waitFor({ timeout: 30_000 });
    check(
      await page
        .getByText(/UPSTREAM_FAILED|CIRCUIT_OPEN/)
        .first()
        .isVisible(),
      `failing run ${i + 1} answers an error`,
    );
    failed.push((await page.getByTestId("request-id").textContent()) ?? "");
  }
  await page.goto(`${DASHBOARD}/#/clinic`);
  const badge = page.getByTestId("breaker-agent-demo");
  await badge.waitFor();
  await waitForText(badge, /Open/, 20_000);
  check(true, "the Clinic shows agent-demo's breaker open");
  await page.getByRole("cell", { name: /^502/ }).first().waitFor({ timeout: 15_000 });
  check(true, "the failed requests are in the Clinic's request log");
  await screenshot(page, "clinic-breaker-open");
  await audit(page, "clinic-breaker-open");
  // The first failing run made every attempt (the second met the breaker it opened).
  await page.getByRole("link", { name: failed[0] }).click();
  // The id may also name the dashboard's own session check of that moment (a row of its own): the first is the call.
  await page.getByRole("heading", { name: "Waterfall" }).first().waitFor();
  check(
    (await page.locator(".waterfall__row--attempt").count()) >= 2,
    "a failed request's waterfall shows its retried attempts",
  );
  const agentSpans = page.locator(".waterfall__row--agent-span");
  check((await agentSpans.count()) >= 2, "the waterfall shows the agent's own spans inside its attempts");
  check(
    /capability: chaos \(code\), failed/.test((await agentSpans.allTextContents()).join("\n")),
    "the agent's failed capability span is labelled",
  );
  await screenshot(page, "clinic-request");
  await audit(page, "clinic-request");
  await page.goto(`${DASHBOARD}/#/clinic`);
  await page.getByRole("article", { name: "agent-demo" }).getByRole("button", { name: "Close breaker" }).click();
  await waitForText(page.getByTestId("breaker-agent-demo"), /Closed/, 15_000);
  check(true, "closing the breaker from the Clinic works");
  // How to connect: the agent's MCP endpoint and A2A card on the local gateway, and a client configuration.
  const connect = page.getByTestId("connect-agent-demo");
  await connect.locator("summary").click();
  const shown = (await connect.textContent()) ?? "";
  check(shown.includes(`${GATEWAY}/agents/agent-demo/mcp`), "the Clinic shows agent-demo's MCP URL on the gateway");
  check(
    shown.includes(`${GATEWAY}/agents/agent-demo/.well-known/agent-card.json`),
    "the Clinic shows agent-demo's A2A card URL",
  );
  const config = JSON.parse((await connect.locator("pre").textContent()) ?? "{}") as {
    mcpServers?: Record<string, { url: string }>;
  };
  check(
    config.mcpServers?.["zahara-agent-demo"]?.url === `${GATEWAY}/agents/agent-demo/mcp`,
    "the MCP client configuration names the agent's endpoint",
  );
  await screenshot(page, "clinic-connect");
}
