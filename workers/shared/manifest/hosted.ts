/**
 * Checks an uploaded manifest for a hosted agent. The text goes through the
 * same loader as `npm run manifests:check` (same messages, same lines and
 * columns), with the hosted binding filled in first, then through the rules
 * only a hosted agent has: its name is the URL's, every capability runs on
 * the manifest's `spec.llm` (nothing that needs code), and fields Zahara does
 * not enforce are reported as the `UNENFORCED_MANIFEST_FIELDS` setting says.
 * Runtime-neutral: no Workers types, so it can be tested anywhere. It runs in
 * the hosted-agent Worker (`POST /validate`, which the gateway calls for each
 * upload), so the gateway's bundle carries no YAML parser or OSSA schema.
 */
import { isJsonObject } from "../json-object";
import type { UnenforcedCheck } from "./enforcement";
import { HOSTED_BINDING, HOSTED_SERVICE, UPLOAD_TYPES } from "./hosted-names";
import { type ManifestIssue, loadZaharaAgentManifest } from "./load";
import { parseYamlSource, positionOf } from "./yaml-source";
import type { ZaharaAgentManifest } from "./zahara";

export { HOSTED_BINDING, HOSTED_SERVICE, UPLOAD_TYPES };

/** An issue with its severity (an upload's warnings do not stop it). */
export type HostedIssue = ManifestIssue & { severity: "error" | "warning" };

/** What {@link checkHostedManifest} found. */
export type HostedCheck =
  | { ok: true; manifest: ZaharaAgentManifest; warnings: HostedIssue[] }
  | { ok: false; issues: HostedIssue[]; warnings: HostedIssue[] };

/** Options of {@link checkHostedManifest}. */
export interface HostedCheckOptions {
  /** The name in the URL; `metadata.name` must equal it. */
  name: string;
  /** Media type of the upload (a key of {@link UPLOAD_TYPES}). */
  mediaType: string;
  /** Reports unenforced fields; their severity is `unenforced`. */
  unenforced?: UnenforcedCheck;
  unenforcedSeverity?: "error" | "warning";
}

const NEEDS_CODE = (name: string) => `deploy it as a Worker instead (npm run agent:new -- ${name})`;

/** Fills in the hosted binding and service; a manifest's own (or a dev_port) is replaced, with a warning. */
function hostedPreparer(replaced: string[][]) {
  return (data: unknown): unknown => {
    if (!isJsonObject(data)) return data;
    const extensions = data.extensions === undefined ? {} : data.extensions;
    if (!isJsonObject(extensions)) return data;
    const zahara = extensions.zahara === undefined ? {} : extensions.zahara;
    if (!isJsonObject(zahara)) return data;
    const given: Record<string, unknown> = { binding: HOSTED_BINDING, service: HOSTED_SERVICE };
    for (const key of ["binding", "service", "dev_port"]) {
      if (zahara[key] !== undefined && zahara[key] !== given[key]) replaced.push(["extensions", "zahara", key]);
    }
    const { dev_port: _port, ...rest } = zahara;
    return { ...data, extensions: { ...extensions, zahara: { ...rest, ...given } } };
  };
}

/** Errors only a hosted agent has: its name, and capabilities that need code. */
function hostedRules(manifest: ZaharaAgentManifest, name: string): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  if (manifest.metadata.name !== name) {
    out.push({
      path: ["metadata", "name"],
      message: `metadata.name is "${manifest.metadata.name}" but the upload is for "${name}": they must match`,
    });
  }
  if (manifest.spec.llm === undefined) {
    out.push({
      path: ["spec"],
      message: `A hosted agent runs every capability on spec.llm, and this manifest has none: its capabilities need code; ${NEEDS_CODE(name)}`,
    });
  }
  (manifest.spec.tools ?? []).forEach((tool, index) => {
    if (tool.type !== "function") {
      out.push({
        path: ["spec", "tools", index, "type"],
        message: `A tool of type "${tool.type}" needs code: a hosted agent offers only function tools, run on spec.llm; ${NEEDS_CODE(name)}`,
      });
    }
  });
  return out;
}

/** Validates an upload for the hosted agent `options.name`. */
export function checkHostedManifest(text: string, options: HostedCheckOptions): HostedCheck {
  const fileName = UPLOAD_TYPES[options.mediaType] ?? "manifest.yaml";
  const replaced: string[][] = [];
  const loaded = loadZaharaAgentManifest(text, fileName, hostedPreparer(replaced));
  const error = (i: ManifestIssue): HostedIssue => ({ ...i, severity: "error" });
  if (!loaded.ok) return { ok: false, issues: loaded.issues.map(error), warnings: [] };
  const parsed = parseYamlSource(text, fileName);
  const at = (path: (string | number)[], message: string, severity: HostedIssue["severity"]): HostedIssue => {
    const position = parsed.ok ? positionOf(parsed.source, path) : undefined;
    return { path: path.join("/"), message, ...(position ?? {}), severity };
  };
  const warnings = replaced.map((path) =>
    at(
      path,
      `${path.at(-1)} is ignored: every hosted agent is served by ${HOSTED_SERVICE} (${HOSTED_BINDING})`,
      "warning",
    ),
  );
  const issues = hostedRules(loaded.manifest, options.name).map((i) => at(i.path, i.message, "error"));
  const severity = options.unenforcedSeverity ?? "warning";
  for (const problem of options.unenforced?.(text, fileName) ?? []) {
    (severity === "error" ? issues : warnings).push({ ...problem, severity });
  }
  const byLine = (a: HostedIssue, b: HostedIssue) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
  if (issues.length > 0) return { ok: false, issues: issues.sort(byLine), warnings: warnings.sort(byLine) };
  return { ok: true, manifest: loaded.manifest, warnings: warnings.sort(byLine) };
}
