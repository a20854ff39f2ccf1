/**
 * The names of hosted-agent hosting that the gateway needs without the manifest loader (its bundle carries no YAML
 * parser): the one service binding and Worker that serve every hosted agent, and the media types an upload may have.
 */

/** The one service binding and Worker that serve every hosted agent. */
export const HOSTED_BINDING = "AGENT_HOSTED";
export const HOSTED_SERVICE = "zahara-agent-hosted";

/** Media types an upload may have, and the file name each is checked as (`.json` is strict JSON). */
export const UPLOAD_TYPES: Readonly<Record<string, string>> = {
  "application/yaml": "manifest.yaml",
  "application/x-yaml": "manifest.yaml",
  "text/yaml": "manifest.yaml",
  "text/x-yaml": "manifest.yaml",
  "application/json": "manifest.json",
};
