/** Shared by the Builder tests: the repo's manifests, read and validated. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ZaharaAgentManifest, loadZaharaAgentManifest } from "../../workers/shared/manifest";
import { type BuilderForm, formFromYaml } from "../../dashboard/src/screens/builder/form-model";

/** The repo's manifests by file name. */
export const MANIFEST_FILES = ["agent-demo.ossa.yaml", "agent-custom.ossa.yaml"] as const;

/** A repo manifest's text. */
export function manifestText(file: string): string {
  return readFileSync(fileURLToPath(new URL(`../../manifests/${file}`, import.meta.url)), "utf8");
}

/** The form of a YAML text (fails the test when it does not parse). */
export function formOf(text: string): BuilderForm {
  const read = formFromYaml(text);
  if (!read.ok) throw new Error(`formFromYaml failed: ${JSON.stringify(read.problems)}`);
  return read.form;
}

/** A validated manifest (fails the test when it is not valid). */
export function validManifest(text: string, fileName = "agent.ossa.yaml"): ZaharaAgentManifest {
  const result = loadZaharaAgentManifest(text, fileName);
  if (!result.ok) throw new Error(`invalid manifest: ${JSON.stringify(result.issues)}`);
  return result.manifest;
}
