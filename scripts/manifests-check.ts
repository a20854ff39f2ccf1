/**
 * Checks agent manifests and prints one line per violation.
 *
 *   tsx scripts/manifests-check.ts [--zahara] [FILE|DIR ...]
 *
 * Without paths: every *.yaml|*.yml|*.json in manifests/ (at the repo root),
 * checked with the Zahara agent rules. With paths: plain OSSA v0.3.x checks,
 * plus the Zahara rules with --zahara. Directories are scanned for manifest
 * files (not recursively). A valid agent manifest's safety and cost fields
 * that Zahara does not enforce (workers/shared/manifest/enforcement.ts) are
 * printed as `warning: …` lines, or, with UNENFORCED_MANIFEST_FIELDS=error,
 * as `error: …` lines that make the file count as invalid. Exit status: 0 all
 * valid, 1 some invalid, 2 usage error (unknown option, missing path, nothing
 * to check, an UNENFORCED_MANIFEST_FIELDS other than warn or error).
 */
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  createUnenforcedCheck,
  formatCheckSummary,
  formatEnforcementIssue,
  formatManifestIssue,
  isManifestFileName,
  loadManifest,
  loadZaharaAgentManifest,
  parseUnenforcedSetting,
} from "../workers/shared/manifest";

const USAGE = "usage: tsx scripts/manifests-check.ts [--zahara] [FILE|DIR ...]";
const defaultDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "manifests");

class UsageError extends Error {}

/** Expands the command-line paths into the sorted list of manifest files to check. */
async function collectFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch(() => undefined);
    if (info === undefined) throw new UsageError(`no such file or directory: ${p}`);
    if (info.isDirectory()) {
      const names = (await readdir(p)).filter(isManifestFileName).sort();
      files.push(...names.map((name) => path.join(p, name)));
    } else {
      files.push(p);
    }
  }
  return files;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const unknown = argv.find((a) => a.startsWith("-") && a !== "--zahara");
  if (unknown !== undefined) throw new UsageError(`unknown option: ${unknown}`);
  const paths = argv.filter((a) => a !== "--zahara");
  const zahara = paths.length === 0 || argv.includes("--zahara");
  const setting = process.env.UNENFORCED_MANIFEST_FIELDS;
  const severity = parseUnenforcedSetting(setting);
  if (severity === undefined)
    throw new UsageError(`UNENFORCED_MANIFEST_FIELDS must be warn or error, not "${setting}"`);
  const unenforced = createUnenforcedCheck(severity);
  const files = await collectFiles(paths.length > 0 ? paths : [defaultDir]);
  if (files.length === 0)
    throw new UsageError(`no manifest files (*.yaml, *.yml, *.json) in ${paths.join(", ") || defaultDir}`);

  let invalid = 0;
  for (const file of files) {
    const label = path.relative(process.cwd(), file) || file;
    const text = await readFile(file, "utf8");
    const result = zahara ? loadZaharaAgentManifest(text, label) : loadManifest(text, label);
    if (result.ok) {
      const issues = unenforced(text, label);
      for (const issue of issues) console.log(formatEnforcementIssue(label, issue));
      if (severity === "error" && issues.length > 0) invalid++;
      continue;
    }
    invalid++;
    for (const issue of result.issues) console.log(formatManifestIssue(label, issue));
  }
  console.log(formatCheckSummary(files.length, invalid));
  return invalid > 0 ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`manifests-check: ${error.message}\n${USAGE}`);
  process.exitCode = 2;
}
