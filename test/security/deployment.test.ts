/**
 * Deployment settings SECURITY.md relies on, read from the repository: agent
 * Workers have no public URL (their POST /run has no auth of its own), local
 * secret files are git-ignored everywhere, and no tracked file holds a
 * credential-shaped string.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { agentWorkers } from "../../scripts/lib/workers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" });

/** `git check-ignore` exits 0 when ignored, 1 when not. */
function ignored(file: string): boolean {
  try {
    git("check-ignore", "-q", "--no-index", file);
    return true;
  } catch {
    return false;
  }
}

/** Credential shapes that must never be committed (test fixtures build theirs at run time). */
const CREDENTIAL_SHAPES: [string, RegExp][] = [
  ["managed key", /zk_[A-Za-z0-9_-]{43}/],
  ["OpenAI-style key", /\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}/],
  ["AWS access key", /\bAKIA[0-9A-Z]{16}\b/],
  ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["GitHub token", /\bgh[pousr]_[A-Za-z0-9]{36}\b/],
  ["Slack token", /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ["Google API key", /\bAIza[0-9A-Za-z_-]{35}\b/],
  ["signed JWT", /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/],
];

describe("deployment settings", () => {
  it("agent Workers have no public URL: workers_dev and preview_urls are false", () => {
    // Every agent of the list of Workers (one per manifest; scripts/lib/workers.ts), whatever its name.
    const agents = agentWorkers(ROOT);
    expect(agents.length).toBeGreaterThanOrEqual(2);
    for (const { config: file } of agents) {
      const config = readFileSync(path.join(ROOT, file), "utf8");
      // Top-level keys: before the first [table].
      const top = config.split(/^\[/m)[0] ?? "";
      expect(top, file).toMatch(/^workers_dev\s*=\s*false\s*$/m);
      expect(top, file).toMatch(/^preview_urls\s*=\s*false\s*$/m);
      expect(config, file).not.toMatch(/^\s*(?:route|routes)\s*=/m);
    }
  });

  it("local secret files are git-ignored in every directory; the examples are not", () => {
    const dirs = ["", "dashboard/", "workers/agent-demo/", "workers/agent-custom/", "workers/agent-new/"];
    for (const dir of dirs) {
      for (const name of [".dev.vars", ".dev.vars.production", ".env", ".env.local", ".env.production"])
        expect(ignored(`${dir}${name}`), `${dir}${name}`).toBe(true);
    }
    for (const example of [".dev.vars.example", "dashboard/.dev.vars.example"]) {
      expect(ignored(example), example).toBe(false);
      expect(git("ls-files", example).trim()).toBe(example);
    }
    expect(
      git("ls-files")
        .split("\n")
        .filter((f) => /(^|\/)(\.dev\.vars(\.(?!example$)[^/]+)?|\.env(\.[^/]+)?)$/.test(f)),
    ).toEqual([]);
  });

  it("no tracked file holds a credential-shaped string", () => {
    const files = git("ls-files", "-z")
      .split("\0")
      .filter((f) => f && !f.endsWith("package-lock.json"));
    const hits: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(path.join(ROOT, file), "utf8");
      } catch {
        continue; // deleted in the working tree
      }
      if (text.includes("\0")) continue; // binary
      for (const [what, shape] of CREDENTIAL_SHAPES) if (shape.test(text)) hits.push(`${file}: ${what}`);
    }
    expect(hits).toEqual([]);
  });
});
