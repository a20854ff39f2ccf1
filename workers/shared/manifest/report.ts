/**
 * Plain-text reporting of manifest issues, shared by the command-line tools:
 * one line per issue, `file:line:col path: message`.
 */
import type { ManifestIssue } from "./load";

/** File extensions treated as manifests (`.yaml`, `.yml`, `.json`). */
export const MANIFEST_FILE_PATTERN = /\.(ya?ml|json)$/i;

/** Whether `fileName` looks like a manifest file. */
export function isManifestFileName(fileName: string): boolean {
  return MANIFEST_FILE_PATTERN.test(fileName);
}

/**
 * Formats one issue as `file:line:col path: message` (just `file path: message`
 * when the position is unknown; the root path is shown as `(root)`).
 */
export function formatManifestIssue(fileLabel: string, issue: ManifestIssue): string {
  const column = issue.column === undefined ? "" : `:${issue.column}`;
  const where = issue.line === undefined ? fileLabel : `${fileLabel}:${issue.line}${column}`;
  const message = issue.message.replace(/\s*\n\s*/g, " ");
  return `${where} ${issue.path === "" ? "(root)" : issue.path}: ${message}`;
}

/** Summary line such as `3 files checked, 1 invalid`. */
export function formatCheckSummary(checked: number, invalid: number): string {
  return `${checked} ${checked === 1 ? "file" : "files"} checked, ${invalid} invalid`;
}
