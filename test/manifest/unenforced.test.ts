/**
 * Safety and cost fields Zahara does not enforce (workers/shared/manifest/enforcement.ts): which are reported,
 * where, and how `manifests:check` prints them: warnings by default, errors that fail the check with
 * `UNENFORCED_MANIFEST_FIELDS=error`, a usage error for any other setting. Runs the CLI on a temporary manifest.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createUnenforcedCheck, unenforcedFields } from "../../workers/shared/manifest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dir = mkdtempSync(path.join(tmpdir(), "zahara-unenforced-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** zahara-good.yaml with unenforced safety and cost fields added (line numbers below refer to this text). */
const base = readFileSync(path.join(repoRoot, "test/manifest/fixtures/zahara-good.yaml"), "utf8");
const MANIFEST = base.replace(
  "  safety:\n",
  [
    "  safety:",
    "    content_filtering:",
    "      enabled: true",
    "    pii_detection:",
    "      types: [email, ssn]",
    "      action: redact",
    "    human_in_loop:",
    "      enabled: false",
    "    guardrails:",
    "      max_tool_calls: 3",
    "",
  ].join("\n"),
);
const TEXT = MANIFEST.replace("maxTokensPerDay: 100000", "maxTokensPerDay: 100000\n      maxCostPerDay: 5");
const file = path.join(dir, "agent.yaml");
writeFileSync(file, TEXT);

function lineOf(text: string, needle: string): number {
  return text.split("\n").findIndex((l) => l.includes(needle)) + 1;
}

function runCli(setting: string | undefined, ...args: string[]) {
  const env = { ...process.env };
  if (setting === undefined) delete env.UNENFORCED_MANIFEST_FIELDS;
  else env.UNENFORCED_MANIFEST_FIELDS = setting;
  const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/manifests-check.ts", ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 60_000,
    env,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("unenforced fields", () => {
  it("names each present, enabled field nothing enforces, with its position", () => {
    const text = TEXT;
    const issues = createUnenforcedCheck()(text, "agent.yaml");
    expect(issues.map((i) => [i.path, i.line, i.severity])).toEqual([
      ["spec/safety/content_filtering", lineOf(text, "content_filtering:"), "warning"],
      ["spec/safety/pii_detection/types/1", lineOf(text, "types: [email, ssn]"), "warning"],
      ["spec/safety/guardrails", lineOf(text, "guardrails:"), "warning"],
      ["spec/constraints/cost/maxCostPerDay", lineOf(text, "maxCostPerDay"), "warning"],
    ]);
    expect(issues[0]?.message).toMatch(/^Zahara does not enforce content filtering; /);
    expect(issues[1]?.message).toContain('PII detection of "ssn"');
    expect(createUnenforcedCheck("error")(text, "agent.yaml").every((i) => i.severity === "error")).toBe(true);
  });

  it("reports approval, cost tracking, pii_handling, limits that are not positive and unknown keys", () => {
    const spec = {
      autonomy: { approval_required: ["deploy"] },
      constraints: { cost: { maxTokensPerRequest: 0, maxTokensPerDay: 10, currency: "USD", perCall: 1 } },
      llm: { provider: "openai", model: "m", cost_tracking: { budget_alert_threshold: 0.8 } },
      compliance: { pii_handling: "anonymize" },
      safety: { rate_limiting: { requests_per_minute: 5 }, jailbreak_detection: true },
    };
    expect(unenforcedFields({ kind: "Agent", spec }).map((f) => f.path.join("/"))).toEqual([
      "spec/safety/jailbreak_detection",
      "spec/autonomy/approval_required",
      "spec/constraints/cost/maxTokensPerRequest",
      "spec/constraints/cost/perCall",
      "spec/llm/cost_tracking/budget_alert_threshold",
      "spec/compliance/pii_handling",
    ]);
    expect(unenforcedFields({ kind: "Task", spec })).toEqual([]);
    // maxCostPerDay is a token budget once the model's prices are given (extensions.zahara.pricing).
    const costly = { kind: "Agent", spec: { constraints: { cost: { maxCostPerDay: 5 } } } };
    expect(unenforcedFields(costly).map((f) => f.path.join("/"))).toEqual(["spec/constraints/cost/maxCostPerDay"]);
    const pricing = { input_per_million: 0.15, output_per_million: 0.6 };
    expect(unenforcedFields({ ...costly, extensions: { zahara: { pricing } } })).toEqual([]);
  });

  it("manifests:check prints them as warnings and still exits 0 by default", { timeout: 60_000 }, () => {
    for (const setting of [undefined, "warn"]) {
      const { status, stdout } = runCli(setting, file);
      const lines = stdout.trim().split("\n");
      expect(lines).toContain(
        `warning: ${path.relative(repoRoot, file)}:${lineOf(TEXT, "content_filtering:")}:5 spec/safety/content_filtering: ` +
          "Zahara does not enforce content filtering; filter in a capability handler or in front of the gateway, or remove it",
      );
      expect(lines.filter((l) => l.startsWith("warning: "))).toHaveLength(4);
      expect(lines.at(-1)).toBe("1 file checked, 0 invalid");
      expect(status).toBe(0);
    }
  });

  it("with UNENFORCED_MANIFEST_FIELDS=error they are errors and the check fails", { timeout: 60_000 }, () => {
    const { status, stdout } = runCli("error", file);
    const lines = stdout.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("error: "))).toHaveLength(4);
    expect(lines.at(-1)).toBe("1 file checked, 1 invalid");
    expect(status).toBe(1);
    // The repo's own manifests have none.
    expect(runCli("error")).toMatchObject({ status: 0 });
  });

  it("any other setting is a usage error", { timeout: 60_000 }, () => {
    const { status, stderr } = runCli("loud", file);
    expect(status).toBe(2);
    expect(stderr).toContain('UNENFORCED_MANIFEST_FIELDS must be warn or error, not "loud"');
  });
});
