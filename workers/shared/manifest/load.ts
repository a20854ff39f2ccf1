/**
 * Loading manifests from YAML/JSON text: parse, validate with the OSSA schema
 * (and optionally the Zahara rules), and report every issue with the line and
 * column it comes from. No Node APIs: usable inside Cloudflare Workers.
 */
import type { z } from "zod";
import { type OssaManifest, validateOssaManifest } from "./ossa";
import { type ParsedSource, type SourcePosition, parseYamlSource, positionOf } from "./yaml-source";
import { type ZaharaAgentManifest, checkZaharaAgent, isZaharaAgentManifest } from "./zahara";

/** One problem in a manifest file. `path` uses slashes (`spec/tools/0/type`); "" is the document root. */
export interface ManifestIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** Result of loading a manifest: the validated manifest, or every issue found. */
export type LoadManifestResult<T> = { ok: true; manifest: T } | { ok: false; issues: ManifestIssue[] };

/** Joins a data path with slashes, as in `spec/tools/0/type`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((segment) => String(segment)).join("/");
}

function issue(path: string, message: string, position: SourcePosition | undefined): ManifestIssue {
  return position === undefined ? { path, message } : { path, message, line: position.line, column: position.column };
}

function makeIssue(
  source: ParsedSource,
  path: readonly PropertyKey[],
  message: string,
  locateAt = path,
): ManifestIssue {
  return issue(formatIssuePath(path), message, positionOf(source, locateAt));
}

function fromZodIssue(source: ParsedSource, zodIssue: z.core.$ZodIssue): ManifestIssue {
  // Unknown keys are reported on their object (as JSON Schema does), but located at the first unknown key.
  const firstKey = zodIssue.code === "unrecognized_keys" ? zodIssue.keys[0] : undefined;
  const locateAt = firstKey === undefined ? zodIssue.path : [...zodIssue.path, firstKey];
  return makeIssue(source, zodIssue.path, zodIssue.message, locateAt);
}

function byPosition(a: ManifestIssue, b: ManifestIssue): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

type Checked = { ok: true; source: ParsedSource; manifest: OssaManifest } | { ok: false; issues: ManifestIssue[] };

/**
 * Rewrites a parsed document before it is validated (positions still come from the text): the gateway fills in the
 * hosted agents' binding this way, so an upload is checked with the same rules and messages as `manifests:check`.
 */
export type PrepareManifest = (data: unknown) => unknown;

function parseAndValidate(text: string, fileName: string, prepare?: PrepareManifest): Checked {
  const parsed = parseYamlSource(text, fileName);
  if (!parsed.ok) return { ok: false, issues: parsed.problems.map((p) => issue("", p.message, p.position)) };
  const source = prepare ? { ...parsed.source, data: prepare(parsed.source.data) } : parsed.source;
  const issues = source.duplicateKeys.map((d) =>
    issue(formatIssuePath(d.path), `Duplicate key "${String(d.path.at(-1))}" (YAML keys must be unique)`, d.position),
  );
  const result = validateOssaManifest(source.data);
  if (!result.success) issues.push(...result.issues.map((i) => fromZodIssue(source, i)));
  if (issues.length > 0 || !result.success) return { ok: false, issues: issues.sort(byPosition) };
  return { ok: true, source, manifest: result.data };
}

/**
 * Parses a manifest (YAML or JSON; exactly one document) and validates it
 * against the OSSA v0.3.x schema. A `fileName` ending in `.json` requires
 * strict JSON; otherwise YAML (which includes JSON) is accepted.
 */
export function loadManifest(text: string, fileName: string): LoadManifestResult<OssaManifest> {
  const checked = parseAndValidate(text, fileName);
  return checked.ok ? { ok: true, manifest: checked.manifest } : checked;
}

/**
 * Like {@link loadManifest}, then also applies the Zahara agent rules
 * (`checkZaharaAgent`): the result is a manifest the gateway can deploy.
 */
export function loadZaharaAgentManifest(
  text: string,
  fileName: string,
  prepare?: PrepareManifest,
): LoadManifestResult<ZaharaAgentManifest> {
  const checked = parseAndValidate(text, fileName, prepare);
  if (!checked.ok) return checked;
  const issues = checkZaharaAgent(checked.manifest).map((i) => makeIssue(checked.source, i.path, i.message));
  if (issues.length === 0 && isZaharaAgentManifest(checked.manifest)) return { ok: true, manifest: checked.manifest };
  if (issues.length === 0) issues.push(issue("", "Not a Zahara agent manifest", undefined));
  return { ok: false, issues: issues.sort(byPosition) };
}
