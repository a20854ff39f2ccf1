/**
 * Browser checks of the dashboard: Debian's chromium driven by playwright-core
 * against the whole platform as `npm run dev` runs it (agents, gateway,
 * dashboard with its Functions on :8788). Each screen's main flow, end to end:
 * sign in; the Upload Wizard with a manifest that has errors, then a good one
 * run through the gateway; a failing run that opens agent-demo's breaker and
 * shows up in the Clinic (then closed from the Clinic); the Builder. Saves a
 * screenshot of each screen at 1280 px and 390 px in dist/screenshots/.
 *
 * `npm run test:browser` (starts `npm run dev` unless ZAHARA_DASHBOARD_URL
 * points at a running one). Exits non-zero on the first failed check.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shots = path.join(root, "dist", "screenshots");
const DASHBOARD = process.env.ZAHARA_DASHBOARD_URL ?? "http://localhost:8788";
const GATEWAY = process.env.ZAHARA_GATEWAY_URL ?? "http://localhost:8000";
const ADMIN_KEY = process.env.ZAHARA_ADMIN_KEY ?? "zahara-dev-admin-key";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`  ✓ ${message}`);
}

async function up(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

/** Starts `npm run dev` unless the dashboard already answers; waits until the gateway and the dashboard do. */
async function startPlatform(): Promise<ChildProcess | undefined> {
  if (await up(`${DASHBOARD}/`)) return undefined;
  console.log("starting npm run dev …");
  const child = spawn("npm", ["run", "dev"], { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if ((await up(`${GATEWAY}/health`)) && (await up(`${DASHBOARD}/`))) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.error(log);
  stop(child);
  throw new Error("the platform did not come up within 240 s");
}

function stop(child: ChildProcess | undefined): void {
  if (child?.pid) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
}

/** Waits until `locator`'s text matches `pattern`. */
async function waitForText(locator: ReturnType<Page["locator"]>, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test((await locator.textContent()) ?? "")) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`"${pattern}" not shown within ${timeoutMs} ms (text: ${await locator.textContent()})`);
}

async function screenshot(page: Page, name: string): Promise<void> {
  for (const [width, height] of [[1280, 900], [390, 844]] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${DASHBOARD}/`);
  await page.getByLabel("Admin key").waitFor();
  await screenshot(page, "login");
  await page.getByLabel("Admin key").fill("not-the-admin-key");
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.getByRole("alert").waitFor();
  check(await page.getByLabel("Admin key").isVisible(), "a wrong admin key is refused and the login stays");
  // Keyboard only: the key field, then Enter.
  await page.getByLabel("Admin key").fill(ADMIN_KEY);
  await page.getByLabel("Admin key").press("Enter");
  await page.getByRole("heading", { name: "Clinic", level: 1 }).waitFor();
  check(true, "the admin key signs in (keyboard only) and lands on the Clinic");
  await page.keyboard.press("Tab");
  check((await page.evaluate("document.activeElement?.textContent ?? ''")) === "Skip to content", "the first Tab reaches the skip link");
  const reached: string[] = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    reached.push(String(await page.evaluate("document.activeElement?.textContent?.trim() ?? ''")));
  }
  check(["Upload Wizard", "Builder", "Clinic"].every((label) => reached.includes(label)), "every screen is reachable from the nav by keyboard");
  const cookies = await page.context().cookies();
  check(cookies.every((c) => !c.value.includes(ADMIN_KEY)), "no cookie holds the admin key");
}

async function wizard(page: Page): Promise<void> {
  await page.goto(`${DASHBOARD}/#/wizard`);
  await page.getByRole("heading", { name: "Upload Wizard", level: 1 }).waitFor();
  await page.locator("#manifest-text").fill("apiVersion: ossa/v0.3.1\nkind: Agent\nmetadata:\n  name: Bad Name!\nspec:\n  role: 7\n");
  await page.getByRole("button", { name: "Validate" }).click();
  await page.getByText(/problems? in/).waitFor();
  check((await page.getByText(/^Line \d+/).count()) > 0, "a manifest with errors shows them at their lines");
  await screenshot(page, "wizard-errors");

  await page.getByRole("button", { name: "Use agent-demo.ossa.yaml" }).click();
  await page.getByRole("heading", { name: /Capability of agent-demo/ }).waitFor();
  await page.getByLabel(/^echo/).check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("button", { name: "Review" }).click();
  await page.getByRole("button", { name: "Run through the gateway" }).click();
  await page.getByRole("heading", { name: "5. Result" }).waitFor();
  check(await page.getByText("Succeeded.").isVisible(), "echo through the gateway succeeds");
  await page.getByRole("heading", { name: "Waterfall" }).waitFor({ timeout: 15_000 });
  check(true, "the result shows its request id and the logged timeline");
  await screenshot(page, "wizard-result");
}

async function failingRunOpensBreaker(page: Page): Promise<void> {
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
    check(await page.getByText(/UPSTREAM_FAILED|CIRCUIT_OPEN/).first().isVisible(), `failing run ${i + 1} answers an error`);
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
  // The first failing run made every attempt (the second met the breaker it opened).
  await page.getByRole("link", { name: failed[0] }).click();
  await page.getByRole("heading", { name: "Waterfall" }).waitFor();
  check((await page.locator(".waterfall__row--attempt").count()) >= 2, "a failed request's waterfall shows its retried attempts");
  await screenshot(page, "clinic-request");
  await page.goto(`${DASHBOARD}/#/clinic`);
  await page.getByRole("article", { name: "agent-demo" }).getByRole("button", { name: "Close breaker" }).click();
  await waitForText(page.getByTestId("breaker-agent-demo"), /Closed/, 15_000);
  check(true, "closing the breaker from the Clinic works");
}

async function builder(page: Page): Promise<void> {
  await page.goto(`${DASHBOARD}/#/builder`);
  await page.getByRole("heading", { name: "Builder", level: 1 }).waitFor();
  const status = page.locator(".builder-status");
  await waitForText(status, /^Valid/, 20_000);
  check(true, "the Builder opens on a manifest that validates");
  await screenshot(page, "builder");
  const name = page.locator("#builder-name");
  await name.fill("Bad Name!");
  await waitForText(status, /problems? to fix/, 10_000);
  check((await page.locator(".builder-problems").count()) > 0, "a bad name is flagged live, at its field");
  await screenshot(page, "builder-invalid");
  await name.fill("agent-demo");
  await waitForText(status, /^Valid/, 10_000);
  await page.getByRole("button", { name: "Run the simulation" }).click();
  await page.getByText(/^Simulated [\d,]+ requests in/).waitFor({ timeout: 60_000 });
  check(await page.getByText("Success for callers").isVisible(), "the resilience simulator runs the manifest's settings and shows what callers get");
  await screenshot(page, "builder-simulation");
}

async function main(): Promise<void> {
  await mkdir(shots, { recursive: true });
  const platform = await startPlatform();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    for (const [name, flow] of [["sign in", signIn], ["Upload Wizard", wizard], ["failing run → Clinic", failingRunOpensBreaker], ["Builder", builder]] as const) {
      console.log(name);
      await flow(page);
    }
    check(errors.length === 0, `no uncaught errors in the page${errors.length ? `: ${errors.join("; ")}` : ""}`);
    console.log(`screenshots: ${path.relative(root, shots)}/`);
  } finally {
    await browser?.close();
    stop(platform);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
