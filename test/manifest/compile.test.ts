/**
 * scripts/manifests-compile.ts (the build step): valid manifests become
 * TypeScript modules; an invalid one fails the build with the CLI's messages.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function compile(manifests: string, out: string) {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "scripts/manifests-compile.ts", "--manifests", manifests, "--out", out],
    {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  return { status: r.status, stderr: r.stderr };
}

function dirWith(...files: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), "zahara-manifests-"));
  for (const f of files) copyFileSync(path.join(repoRoot, f), path.join(dir, path.basename(f)));
  return dir;
}

describe("manifests-compile", { timeout: 60_000 }, () => {
  it("compiles the project's manifests into typed modules and an index", () => {
    const out = mkdtempSync(path.join(tmpdir(), "zahara-out-"));
    const { status, stderr } = compile("manifests", out);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(readdirSync(path.join(out, "manifests")).sort()).toEqual(["agent-custom.ts", "agent-demo.ts"]);
    const index = readFileSync(path.join(out, "index.ts"), "utf8");
    expect(index).toContain("export const MANIFESTS: readonly ZaharaAgentManifest[] = [agentCustom, agentDemo];");
    expect(index).toMatch(/export const BUILD_INFO = \{ version: "\d+\.\d+\.\d+" \}/);
    expect(readFileSync(path.join(out, "manifests", "agent-demo.ts"), "utf8")).toContain(
      "// Source: manifests/agent-demo.ossa.yaml",
    );
  });

  it("fails the build on an invalid manifest, printing each violation with its line", () => {
    const dir = dirWith(
      "manifests/agent-demo.ossa.yaml",
      "manifests/agent-custom.ossa.yaml",
      "test/manifest/fixtures/zahara-rules-bad.yaml",
    );
    const { status, stderr } = compile(dir, mkdtempSync(path.join(tmpdir(), "zahara-out-")));
    expect(status).toBe(1);
    expect(stderr).toMatch(/zahara-rules-bad\.yaml:\d+:\d+ spec\/role: Required/);
    expect(stderr).toMatch(/zahara-rules-bad\.yaml:\d+:\d+ spec\/tools\/0\/input_schema: Unsupported JSON Schema/);
    expect(stderr).toContain("manifests:compile: 1 problem(s)");
  });

  it("refuses two manifests claiming the same binding", () => {
    const dir = dirWith("manifests/agent-demo.ossa.yaml", "manifests/agent-custom.ossa.yaml");
    const clone = readFileSync(path.join(dir, "agent-demo.ossa.yaml"), "utf8")
      .replace("name: agent-demo", "name: agent-clone")
      .replace("service: zahara-agent-demo", "service: zahara-agent-clone");
    writeFileSync(path.join(dir, "agent-clone.ossa.yaml"), clone);
    const { status, stderr } = compile(dir, mkdtempSync(path.join(tmpdir(), "zahara-out-")));
    expect(status).toBe(1);
    expect(stderr).toMatch(/binding "AGENT_DEMO" is already used by/);
  });

  it("refuses a fallback that is not another agent in the directory", () => {
    const dir = dirWith("manifests/agent-demo.ossa.yaml");
    const { status, stderr } = compile(dir, mkdtempSync(path.join(tmpdir(), "zahara-out-")));
    expect(status).toBe(1);
    expect(stderr).toContain('agent-demo.ossa.yaml: fallback "agent-custom" is not an agent in this directory');
    const self = dirWith("manifests/agent-demo.ossa.yaml", "manifests/agent-custom.ossa.yaml");
    const demo = path.join(self, "agent-demo.ossa.yaml");
    writeFileSync(demo, readFileSync(demo, "utf8").replace("fallbacks: [agent-custom]", "fallbacks: [agent-demo]"));
    const again = compile(self, mkdtempSync(path.join(tmpdir(), "zahara-out-")));
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('fallback "agent-demo" is the agent itself');
  });
});
