/**
 * Where a manifest in the Builder comes from: the repo's examples, a minimal
 * template, or the draft kept in this browser (localStorage) so leaving the
 * screen loses nothing.
 */
import { EXAMPLE_MANIFESTS } from "../../examples";

/** One starting point. */
export interface StartingPoint {
  id: string;
  label: string;
  text: string;
}

/** The smallest manifest the gateway can deploy: one capability, a role, a binding. */
export const MINIMAL_MANIFEST = `apiVersion: ossa/v0.3.1
kind: Agent
metadata:
  name: my-agent
  version: 0.1.0
  description: What this agent does, in one sentence.
spec:
  role: |
    You are a helpful agent. Answer briefly, in the JSON format you are asked for.
  llm:
    provider: openai
    model: gpt-4o-mini
  tools:
    - type: function
      name: echo
      description: Returns its parameters unchanged.
      input_schema:
        type: object
extensions:
  zahara:
    binding: MY_AGENT
    service: zahara-my-agent
`;

/** The starting points, examples first (the Builder opens on the first). */
export const STARTING_POINTS: readonly StartingPoint[] = [
  ...EXAMPLE_MANIFESTS.map((e) => ({ id: e.fileName, label: e.fileName, text: e.text })),
  { id: "minimal", label: "A minimal agent", text: MINIMAL_MANIFEST },
];

const DRAFT_KEY = "zahara.builder.draft";

/** The draft kept in this browser, if any. */
export function loadDraft(): string | undefined {
  try {
    return localStorage.getItem(DRAFT_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps `yaml` as the draft. */
export function saveDraft(yaml: string): void {
  try {
    localStorage.setItem(DRAFT_KEY, yaml);
  } catch {
    // Storage full or disabled: the draft is a convenience.
  }
}
