/**
 * The README and docs/ hold together: every relative link points at a file
 * that exists (and, with `#anchor`, at a heading of it), every `npm run`
 * script they name is in package.json, and every setting the configuration
 * page and `.dev.vars.example` name is read somewhere in the code. A page that
 * drifts from the code fails here rather than in a newcomer's terminal.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const pages = [
  "README.md",
  "dashboard/README.md",
  ...readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

/** GitHub's anchor for a heading: lowercased, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, "")
    .replace(/[^\p{L}\p{N}\s-]/gu, "")
    .replace(/\s/g, "-");
}

function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(m[1]!);
  for (const m of markdown.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Relative links of a page (code blocks left out). */
function linksOf(markdown: string): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((href) => !/^[a-z]+:/i.test(href));
}

/** Every file of the code that may read a setting. */
function codeText(): string {
  const dirs = ["workers", "durable-objects", "dashboard/functions", "dashboard/src", "scripts"];
  const parts: string[] = [];
  for (const dir of dirs) {
    for (const entry of readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
      if (
        !entry.isFile() ||
        !/\.(ts|tsx)$/.test(entry.name) ||
        entry.name.endsWith(".d.ts") ||
        entry.parentPath.includes("node_modules")
      )
        continue;
      parts.push(readFileSync(path.join(entry.parentPath, entry.name), "utf8"));
    }
  }
  return parts.join("\n");
}

describe("documentation", () => {
  it("every relative link resolves, anchors included", () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const href of linksOf(read(page))) {
        const [file, anchor] = href.split("#") as [string, string | undefined];
        const target = file === "" ? page : path.normalize(path.join(path.dirname(page), decodeURIComponent(file)));
        if (!existsSync(path.join(root, target))) broken.push(`${page}: ${href} (no ${target})`);
        else if (anchor && target.endsWith(".md") && !anchorsOf(read(target)).has(anchor))
          broken.push(`${page}: ${href} (no heading #${anchor})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("every npm script named exists", () => {
    const scripts = new Set(
      Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts),
    );
    const missing: string[] = [];
    for (const page of pages) {
      for (const m of read(page).matchAll(/npm run (?:--silent )?([a-z][\w:-]*)/g))
        if (!scripts.has(m[1]!)) missing.push(`${page}: npm run ${m[1]}`);
    }
    expect(missing).toEqual([]);
  });

  it("every setting the configuration page and .dev.vars.example name is read by the code", () => {
    const code = codeText();
    const named = new Set<string>();
    for (const m of read("docs/configuration.md").matchAll(/^\|\s*([^|]+)\|/gm)) {
      for (const v of m[1]!.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)) named.add(v[1]!);
    }
    for (const m of read(".dev.vars.example").matchAll(/^#?\s*([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)=/gm)) named.add(m[1]!);
    expect(named.size).toBeGreaterThan(20);
    const unread = [...named].filter((name) => !new RegExp(`\\b${name}\\b`).test(code));
    expect(unread).toEqual([]);
  });
});
