/**
 * Validation with the project's own manifest schema (OSSA v0.3.x plus the
 * Zahara agent rules), loaded on first use so the dashboard's main bundle
 * stays small — as the Upload Wizard does.
 */
import type * as Manifest from "../../../../workers/shared/manifest";
import type { LoadManifestResult, ZaharaAgentManifest } from "../../../../workers/shared/manifest";

type ManifestModule = typeof Manifest;

let loading: Promise<ManifestModule> | undefined;

/** The manifest module (one import, shared by every caller). */
export function manifestModule(): Promise<ManifestModule> {
  loading ??= import("../../manifest").catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** Validates manifest `text` (issue lines are lines of `text`). */
export async function validateYaml(text: string, fileName: string): Promise<LoadManifestResult<ZaharaAgentManifest>> {
  const { loadZaharaAgentManifest } = await manifestModule();
  return loadZaharaAgentManifest(text, fileName);
}
