/**
 * The Upload Wizard's steps as a pure state machine (a reducer), so what happens on each answer of the gateway is
 * decided in one place and unit-tested: a manifest valid in the browser goes to the existing try-it steps when its
 * name is an agent deployed as a Worker, else to the hosted-agent deploy: the changes against the version being
 * served (loaded, then diffed) → deploy (conditional on that version) → a test call → its result. A 412 sends the
 * person back to the changes with the version someone else deployed meanwhile; an `INVALID_MANIFEST` back to the
 * manifest with the gateway's problems on their lines. Also the parameters a test call starts from.
 */
import type { DeployCondition, HostedIssue } from "../../hosted";

/** Where the Wizard is. `try`: the try-it steps of an agent deployed as a Worker (their own sub-steps). */
export type WizardStep = "manifest" | "try" | "changes" | "test" | "result";

/** A manifest the browser found valid. */
export interface Draft {
  name: string;
  text: string;
  fileName: string;
}

/** What the draft is compared with: still loading, no hosted agent yet, the served version, or unknown. */
export type Base =
  | { status: "loading" }
  | { status: "new" }
  | { status: "current"; version: number; source: string }
  | { status: "failed"; message: string };

/** The deploy's outcome. `unchanged`: nothing was uploaded, the served version is tested as it is. */
export interface Deployed {
  version: number;
  created: boolean;
  warnings: HostedIssue[];
  unchanged?: boolean;
}

/** The Wizard's state. `load` numbers the loads of the base, so a late answer of an earlier one is ignored. */
export interface WizardState {
  step: WizardStep;
  draft?: Draft;
  base: Base;
  load: number;
  /** The gateway's problems with the last upload (shown at their lines on the manifest). */
  serverIssues: HostedIssue[];
  deploying: boolean;
  /** A deploy refused for another reason than the manifest, or a conflict to review. */
  notice?: { kind: "conflict" | "error"; text: string };
  deployed?: Deployed;
}

/** What happens. */
export type WizardEvent =
  | { type: "validated"; draft: Draft; compiled: boolean }
  | { type: "base-loaded"; load: number; base: { version: number; source: string } | null }
  | { type: "base-failed"; load: number; message: string }
  | { type: "reload-base" }
  | { type: "deploy-started" }
  | { type: "deploy-succeeded"; version: number; created: boolean; warnings: HostedIssue[] }
  | { type: "deploy-failed"; status: number; code: string; message: string; details?: Record<string, unknown> }
  | { type: "test-served" }
  | { type: "tested" }
  | { type: "go"; step: "manifest" | "changes" | "test" };

/** The state a Wizard starts in. */
export const INITIAL_STATE: WizardState = {
  step: "manifest",
  base: { status: "loading" },
  load: 0,
  serverIssues: [],
  deploying: false,
};

/** Issues of an `INVALID_MANIFEST` answer's `details` (errors first, then warnings), or []. */
export function issuesOf(details: Record<string, unknown> | undefined): HostedIssue[] {
  const read = (list: unknown, severity: HostedIssue["severity"]): HostedIssue[] =>
    Array.isArray(list)
      ? list.flatMap((i: unknown) => {
          if (typeof i !== "object" || i === null || typeof (i as HostedIssue).message !== "string") return [];
          const { message, path, line, column } = i as HostedIssue;
          return [
            {
              severity,
              message,
              ...(typeof path === "string" ? { path } : {}),
              ...(typeof line === "number" ? { line } : {}),
              ...(typeof column === "number" ? { column } : {}),
            },
          ];
        })
      : [];
  return [...read(details?.issues, "error"), ...read(details?.warnings, "warning")];
}

/** What a refused deploy (other than a conflict or an invalid manifest) tells the person. */
export function refusalText(name: string, status: number, code: string, message: string): string {
  switch (code) {
    case "AGENT_NAME_TAKEN":
      return `"${name}" is an agent deployed as a Worker: give the hosted agent another metadata.name.`;
    case "HOSTED_AGENT_LIMIT":
      return `${message}. Delete a hosted agent in the Clinic first.`;
    case "PAYLOAD_TOO_LARGE":
      return `The manifest is larger than the gateway accepts (${message}).`;
    default:
      return `The deploy failed: ${message} (${code}${status > 0 ? `, HTTP ${status}` : ""}).`;
  }
}

/** The condition of an upload reviewed against `base`: its version, that there is none, or none known. */
export function deployCondition(base: Base): DeployCondition {
  if (base.status === "current") return { version: base.version };
  if (base.status === "new") return { absent: true };
  return undefined;
}

/** The reducer. */
export function wizardReducer(state: WizardState, event: WizardEvent): WizardState {
  switch (event.type) {
    case "validated":
      return {
        ...INITIAL_STATE,
        step: event.compiled ? "try" : "changes",
        draft: event.draft,
        load: state.load + 1,
      };
    case "base-loaded":
      if (event.load !== state.load) return state;
      return {
        ...state,
        base: event.base ? { status: "current", ...event.base } : { status: "new" },
      };
    case "base-failed":
      return event.load === state.load ? { ...state, base: { status: "failed", message: event.message } } : state;
    case "reload-base":
      return { ...state, base: { status: "loading" }, load: state.load + 1 };
    case "deploy-started":
      return { ...state, deploying: true, notice: undefined };
    case "deploy-succeeded":
      return {
        ...state,
        step: "test",
        deploying: false,
        serverIssues: [],
        notice: undefined,
        deployed: { version: event.version, created: event.created, warnings: event.warnings },
      };
    case "deploy-failed":
      return deployFailed({ ...state, deploying: false }, event);
    case "test-served":
      if (state.base.status !== "current") return state;
      return {
        ...state,
        step: "test",
        notice: undefined,
        deployed: { version: state.base.version, created: false, warnings: [], unchanged: true },
      };
    case "tested":
      return state.step === "test" ? { ...state, step: "result" } : state;
    case "go":
      if (event.step === "test" && !state.deployed) return state;
      if (event.step === "changes" && state.deployed) {
        // What is served changed with the deploy: compare with it again.
        return { ...state, step: "changes", base: { status: "loading" }, load: state.load + 1, notice: undefined };
      }
      return { ...state, step: event.step, notice: event.step === "changes" ? state.notice : undefined };
  }
}

function deployFailed(state: WizardState, event: Extract<WizardEvent, { type: "deploy-failed" }>): WizardState {
  if (event.code === "INVALID_MANIFEST") {
    return {
      ...state,
      step: "manifest",
      serverIssues: issuesOf(event.details),
      notice: { kind: "error", text: `The gateway refused the manifest: ${event.message}` },
    };
  }
  if (event.status === 412 || event.code === "VERSION_CONFLICT") {
    const current = event.details?.current_version;
    const text =
      typeof current === "number"
        ? `Someone deployed version ${current} meanwhile — review the new diff.`
        : "The hosted agent was deleted meanwhile — review the diff again: deploying creates it anew.";
    return {
      ...state,
      step: "changes",
      base: { status: "loading" },
      load: state.load + 1,
      notice: { kind: "conflict", text },
    };
  }
  const name = state.draft?.name ?? "";
  return { ...state, notice: { kind: "error", text: refusalText(name, event.status, event.code, event.message) } };
}

type SimpleSchema = { type?: unknown; properties?: unknown; enum?: unknown; default?: unknown; examples?: unknown };

function sampleValue(schema: SimpleSchema): { ok: true; value: unknown } | { ok: false } {
  if (schema.default !== undefined) return { ok: true, value: schema.default };
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return { ok: true, value: schema.examples[0] };
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return { ok: true, value: schema.enum[0] };
  switch (schema.type) {
    case "string":
      return { ok: true, value: "" };
    case "number":
    case "integer":
      return { ok: true, value: 0 };
    case "boolean":
      return { ok: true, value: false };
    case "array":
      return { ok: true, value: [] };
    default:
      return { ok: false };
  }
}

/**
 * The parameters a test call starts from, as pretty JSON: for an object schema whose properties are all simple
 * (string, number, boolean, array, an enum), each property with its default, first example, first enum value or an
 * empty value; otherwise `{}`.
 */
export function sampleParameters(schema: unknown): string {
  const s = (typeof schema === "object" && schema !== null ? schema : {}) as SimpleSchema;
  const props = s.properties;
  if (s.type !== "object" || typeof props !== "object" || props === null) return "{}";
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(props)) {
    const sample = typeof sub === "object" && sub !== null ? sampleValue(sub as SimpleSchema) : { ok: false as const };
    if (!sample.ok) return "{}";
    out[key] = sample.value;
  }
  return JSON.stringify(out, null, 2);
}

/** Reads a test call's parameters: a JSON object, or why not. */
export function parseParameters(
  text: string,
): { ok: true; parameters: Record<string, unknown> } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() === "" ? "{}" : text);
  } catch (err) {
    return { ok: false, error: `Not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, error: 'The parameters must be a JSON object, as in {"text": "…"}' };
  return { ok: true, parameters: value as Record<string, unknown> };
}
