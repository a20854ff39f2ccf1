/**
 * The Builder flows: live validation and the resilience simulator; then the
 * YAML preview's round trip (edit and apply, a form edit shown in the YAML)
 * and the download, checked against the example it started from.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Page } from "playwright-core";
import { Document, parse, parseDocument } from "yaml";
import { audit } from "../a11y";
import { check, screenshot, waitForText } from "../checks";
import { DASHBOARD, root } from "../platform";

/** Opens the Builder, flags a bad name live, then runs the simulator on the valid manifest; audits each state. */
export async function builder(page: Page): Promise<void> {
  await page.goto(`${DASHBOARD}/#/builder`);
  await page.getByRole("heading", { name: "Builder", level: 1 }).waitFor();
  const status = page.locator(".builder-status");
  await waitForText(status, /^Valid/, 20_000);
  check(true, "the Builder opens on a manifest that validates");
  await screenshot(page, "builder");
  await audit(page, "builder");
  const name = page.locator("#builder-name");
  await name.fill("Bad Name!");
  await waitForText(status, /problems? to fix/, 10_000);
  check((await page.locator(".builder-problems").count()) > 0, "a bad name is flagged live, at its field");
  await screenshot(page, "builder-invalid");
  await audit(page, "builder-invalid");
  await name.fill("agent-demo");
  await waitForText(status, /^Valid/, 10_000);
  await page.getByRole("button", { name: "Run the simulation" }).click();
  await page.getByText(/^Simulated [\d,]+ requests in/).waitFor({ timeout: 60_000 });
  check(
    await page.getByText("Success for callers").isVisible(),
    "the resilience simulator runs the manifest's settings and shows what callers get",
  );
  await screenshot(page, "builder-simulation");
  await audit(page, "builder-simulation");
}

/** The text the YAML preview shows, one list item per line (an empty line is shown as a space). */
async function previewText(page: Page): Promise<string> {
  const lines = await page.locator(".builder-source > li > code").allTextContents();
  return `${lines.map((l) => (l === " " ? "" : l)).join("\n")}\n`;
}

/** Waits for the validation that follows a change (the status shows "Checking…" for at least 300 ms), then for "Valid". */
async function revalidated(page: Page): Promise<void> {
  await page.waitForFunction(
    "document.querySelector('.builder-status')?.textContent?.startsWith('Checking')",
    undefined,
    { polling: "raf", timeout: 5_000 },
  );
  await waitForText(page.locator(".builder-status"), /^Valid/, 10_000);
}

/** `value` with `path` set to `to` (a copy). */
function withValue(value: unknown, path: readonly (string | number)[], to: unknown): unknown {
  const doc = new Document(value);
  doc.setIn(path, to);
  return doc.toJS();
}

const EDITS = {
  description: { path: ["metadata", "description"], value: "Edited in the YAML preview by the browser checks." },
  echo: { path: ["spec", "tools", 0, "description"], value: "Echoes its parameters (edited in the YAML)." },
  threshold: { path: ["extensions", "zahara", "resilience", "breaker", "failure_threshold"], value: 7 },
  name: { path: ["metadata", "name"], value: "agent-browser-check" },
  retries: { path: ["extensions", "zahara", "resilience", "retries", "max_retries"], value: 2 },
} as const;

/**
 * Loads agent-demo's example, edits its YAML in the preview and applies it
 * (the form shows the new values, still valid), edits the form (the preview
 * follows), then downloads `<name>.ossa.yaml` and compares it with the
 * preview and with the example plus exactly those edits.
 */
export async function builderYaml(page: Page): Promise<void> {
  await page.goto(`${DASHBOARD}/#/builder`);
  await page.getByRole("heading", { name: "Builder", level: 1 }).waitFor();
  await page.getByLabel("Start from").selectOption("agent-demo.ossa.yaml");
  await page.getByRole("button", { name: "Load", exact: true }).click();
  await page.getByText("Loaded agent-demo.ossa.yaml.").waitFor();
  // The Builder flow left agent-demo as it is, so loading it may change nothing to validate again.
  await waitForText(page.locator(".builder-status"), /^Valid/, 10_000);
  let expected = parse(await readFile(path.join(root, "manifests", "agent-demo.ossa.yaml"), "utf8")) as unknown;
  const loaded = await previewText(page);
  check(isDeepStrictEqual(parse(loaded), expected), "the YAML preview of the loaded example is the example (parsed)");

  // (a) Edit the YAML in the preview and apply it.
  await page.getByRole("button", { name: "Edit YAML" }).click();
  const area = page.getByLabel("Edit or paste a manifest, then apply it to the form");
  check((await area.inputValue()) === loaded, "Edit YAML starts from the text the preview shows");
  const doc = parseDocument(loaded);
  for (const edit of [EDITS.description, EDITS.echo, EDITS.threshold]) {
    doc.setIn(edit.path, edit.value);
    expected = withValue(expected, edit.path, edit.value);
  }
  await area.fill(doc.toString());
  await screenshot(page, "builder-yaml-editing");
  await audit(page, "builder-yaml-editing");
  await page.getByRole("button", { name: "Apply", exact: true }).click();
  await page.getByText("Applied the edited YAML.").waitFor();
  check(
    (await page.locator("#builder-description").inputValue()) === EDITS.description.value &&
      (await page.locator("#builder-cap-0-description").inputValue()) === EDITS.echo.value &&
      (await page.locator("#builder-failureThreshold").inputValue()) === String(EDITS.threshold.value),
    "the applied YAML's edits show in the form (description, echo's description, breaker threshold)",
  );
  await revalidated(page);
  check(true, "the edited manifest still validates");
  check(
    isDeepStrictEqual(parse(await previewText(page)), expected),
    "the preview shows the applied YAML, nothing else changed (parsed)",
  );
  await screenshot(page, "builder-yaml-applied");
  await audit(page, "builder-yaml-applied");

  // (b) Edit the form: the preview follows.
  await page.locator("#builder-name").fill(EDITS.name.value);
  await page.locator("#builder-maxRetries").fill(String(EDITS.retries.value));
  for (const edit of [EDITS.name, EDITS.retries]) expected = withValue(expected, edit.path, edit.value);
  const preview = await previewText(page);
  check(
    isDeepStrictEqual(parse(preview), expected),
    "form edits (name, max retries) show in the YAML preview, nothing else changed (parsed)",
  );
  await revalidated(page);
  await screenshot(page, "builder-form-edited");

  // (c) Download.
  const button = page.getByRole("button", { name: `Download ${EDITS.name.value}.ossa.yaml` });
  const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
  check(
    download.suggestedFilename() === `${EDITS.name.value}.ossa.yaml`,
    `the download is named ${EDITS.name.value}.ossa.yaml`,
  );
  const text = await readFile(await download.path(), "utf8");
  const parsed = parseDocument(text);
  check(parsed.errors.length === 0, "the downloaded file parses as YAML");
  check(isDeepStrictEqual(parsed.toJS(), parse(preview)), "the download equals the YAML preview (parsed)");
  check(text === preview, "the download is the preview's text, byte for byte");
  check(
    isDeepStrictEqual(parsed.toJS(), expected),
    "nothing is lost on the way: the download is the example plus exactly the edits made",
  );
}
