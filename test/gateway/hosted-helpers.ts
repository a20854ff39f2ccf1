/** Helpers for the hosted-agent tests: a manifest-only agent's manifest, and uploads with the admin key. */
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { ADMIN_KEY, BASE } from "./helpers";

/** A unique agent name per test (D1 is per test file, the names per test). */
export function uniqueName(prefix = "hosted"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A manifest-only agent: `summarize` on spec.llm, and the built-in `echo`. `extra` is appended under `spec:`. */
export function hostedManifest(name: string, { description = "Summarizes text.", extra = "" } = {}): string {
  return `apiVersion: ossa/v0.3.1
kind: Agent
metadata:
  name: ${name}
  version: 1.0.0
  description: ${description}
spec:
  role: You summarize text briefly.
  llm:
    provider: openai
    model: gpt-4o-mini
  tools:
    - type: function
      name: summarize
      description: ${description}
      input_schema:
        type: object
        required: [text]
        properties:
          text: { type: string }
      output_schema:
        type: object
        required: [summary]
        properties:
          summary: { type: string }
    - type: function
      name: echo
      description: Returns its parameters.
      input_schema: { type: object }
      output_schema: { type: object }
${extra}extensions:
  zahara:
    branding:
      display_name: Hosted ${name}
`;
}

/** `PUT /v1/agents/:name` with the admin key. */
export function upload(
  name: string,
  text: string,
  { type = "application/yaml", headers = {} as Record<string, string> } = {},
): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/agents/${name}`, {
    method: "PUT",
    headers: { "X-API-Key": ADMIN_KEY, "Content-Type": type, ...headers },
    body: text,
  });
}

/** Uploads and expects it served: returns the version. */
export async function deploy(name: string, text = hostedManifest(name)): Promise<number> {
  const res = await upload(name, text);
  const body = await res.text();
  expect([200, 201], body).toContain(res.status);
  return (JSON.parse(body) as { agent: { version: number } }).agent.version;
}
