/**
 * scripts/manifests-check.ts as a child process: exit codes, one line per
 * violation with file:line:col and path, and the summary line.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fx = (name: string): string => path.join("test", "manifest", "fixtures", name);

/** Runs the CLI from the repo root. */
function runCli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/manifests-check.ts", ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("manifests-check CLI", { timeout: 60_000 }, () => {
  it("exits 0 for valid files", () => {
    const { status, stdout } = runCli(fx("zahara-good.yaml"), fx("task-good.yaml"), fx("ossa-minimal.json"));
    expect(stdout.trim()).toBe("3 files checked, 0 invalid");
    expect(status).toBe(0);
  });

  it("exits 1 and prints file:line:col path: message for each violation", () => {
    const { status, stdout } = runCli(fx("zahara-good.yaml"), fx("metadata-bad.yaml"));
    const lines = stdout.trim().split("\n");
    expect(lines).toContain(
      `${fx("metadata-bad.yaml")}:5:3 metadata/version: Invalid version: expected a semantic version without a leading "v", like 1.0.0`,
    );
    expect(lines).toContain(`${fx("metadata-bad.yaml")}:6:3 metadata: Unrecognized key: "author"`);
    expect(lines).toHaveLength(7);
    expect(lines.at(-1)).toBe("2 files checked, 1 invalid");
    expect(status).toBe(1);
  });

  it("applies the Zahara rules only with --zahara", () => {
    expect(runCli(fx("zahara-rules-bad.yaml")).status).toBe(0);
    const { status, stdout } = runCli("--zahara", fx("zahara-rules-bad.yaml"));
    expect(stdout).toContain(
      `${fx("zahara-rules-bad.yaml")}:12:7 spec/tools/0/input_schema: Unsupported JSON Schema: Conditional schemas`,
    );
    expect(stdout).toContain(
      `${fx("zahara-rules-bad.yaml")}:17:7 spec/tools/1/name: Duplicate capability name "lookup"`,
    );
    expect(status).toBe(1);
  });

  it("checks every manifest file of a directory", () => {
    const dir = path.join("test", "manifest", "fixtures");
    const total = readdirSync(path.join(repoRoot, dir)).filter((f) => /\.(ya?ml|json)$/.test(f)).length;
    const { status, stdout } = runCli(dir);
    expect(stdout.trim().split("\n").at(-1)).toBe(`${total} files checked, 12 invalid`);
    expect(stdout).toContain(`${fx("multi-doc.yaml")}:6:1 (root): Found 2 YAML documents`);
    expect(status).toBe(1);
  });

  it("exits 2 on a missing file or an unknown option", () => {
    const missing = runCli(fx("does-not-exist.yaml"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("no such file or directory");
    const option = runCli("--strict", fx("zahara-good.yaml"));
    expect(option.status).toBe(2);
    expect(option.stderr).toContain("unknown option: --strict");
  });
});
