/**
 * The Upload Wizard's deploy steps as a state machine (dashboard/src/screens/wizard/wizard-state.ts), pure: which
 * step each answer of the gateway leads to (a 412 back to the changes with the version deployed meanwhile, an
 * `INVALID_MANIFEST` back to the manifest with its issues), the condition of an upload, the parameters a test call
 * starts from; and the Builder → Wizard handoff and the hosted API client's pure helpers.
 */
import { describe, expect, it } from "vitest";
import { conditionHeaders, manifestMediaType } from "../../dashboard/src/hosted";
import { HANDOFF_KEY, offerManifest, takeManifest } from "../../dashboard/src/handoff";
import {
  INITIAL_STATE,
  type WizardEvent,
  type WizardState,
  deployCondition,
  issuesOf,
  parseParameters,
  sampleParameters,
  wizardReducer,
} from "../../dashboard/src/screens/wizard/wizard-state";

const draft = { name: "hosted-one", text: "kind: Agent\n", fileName: "manifest.yaml" };
const run = (events: WizardEvent[], from: WizardState = INITIAL_STATE) => events.reduce(wizardReducer, from);
const validated: WizardEvent = { type: "validated", draft, compiled: false };

describe("wizardReducer", () => {
  it("a Worker's agent goes to the try-it steps; any other to the changes, loading the served version", () => {
    expect(run([{ ...validated, compiled: true }]).step).toBe("try");
    const s = run([validated]);
    expect(s).toMatchObject({ step: "changes", draft, base: { status: "loading" }, load: 1 });
  });

  it("a new agent is deployed with If-None-Match: *, an existing one with If-Match of the version diffed", () => {
    const fresh = run([validated, { type: "base-loaded", load: 1, base: null }]);
    expect(fresh.base).toEqual({ status: "new" });
    expect(deployCondition(fresh.base)).toEqual({ absent: true });
    const served = run([validated, { type: "base-loaded", load: 1, base: { version: 3, source: "x" } }]);
    expect(deployCondition(served.base)).toEqual({ version: 3 });
    expect(deployCondition({ status: "failed", message: "down" })).toBeUndefined();
    expect(conditionHeaders({ version: 3 })).toEqual({ ifMatch: '"3"' });
    expect(conditionHeaders({ absent: true })).toEqual({ ifNoneMatch: "*" });
    expect(conditionHeaders(undefined)).toEqual({});
  });

  it("a late answer of an earlier load is ignored", () => {
    const s = run([validated, { type: "reload-base" }, { type: "base-loaded", load: 1, base: null }]);
    expect(s.base).toEqual({ status: "loading" });
    expect(run([{ type: "base-loaded", load: 2, base: null }], s).base).toEqual({ status: "new" });
    expect(run([{ type: "base-failed", load: 1, message: "old" }], s).base).toEqual({ status: "loading" });
  });

  it("a deploy that succeeds goes to the test call; the result follows the call", () => {
    const s = run([
      validated,
      { type: "base-loaded", load: 1, base: null },
      { type: "deploy-started" },
      { type: "deploy-succeeded", version: 1, created: true, warnings: [] },
    ]);
    expect(s).toMatchObject({ step: "test", deploying: false, deployed: { version: 1, created: true } });
    expect(run([{ type: "tested" }], s).step).toBe("result");
    // Back to the changes after a deploy: the served version changed, so it is read again.
    const back = run([{ type: "tested" }, { type: "go", step: "changes" }], s);
    expect(back).toMatchObject({ step: "changes", base: { status: "loading" }, load: s.load + 1 });
  });

  it("412: back to the changes, the new served version loading, and who won named", () => {
    const s = run([
      validated,
      { type: "base-loaded", load: 1, base: { version: 3, source: "x" } },
      { type: "deploy-started" },
      {
        type: "deploy-failed",
        status: 412,
        code: "VERSION_CONFLICT",
        message: '"hosted-one" is at version 4',
        details: { current_version: 4 },
      },
    ]);
    expect(s).toMatchObject({ step: "changes", deploying: false, base: { status: "loading" }, load: 2 });
    expect(s.notice).toEqual({ kind: "conflict", text: "Someone deployed version 4 meanwhile — review the new diff." });
    const gone = run([
      { type: "deploy-failed", status: 412, code: "VERSION_CONFLICT", message: "", details: { current_version: null } },
    ]);
    expect(gone.notice?.text).toMatch(/deleted meanwhile/);
  });

  it("INVALID_MANIFEST: back to the manifest with the gateway's issues, errors first", () => {
    const details = {
      issues: [{ severity: "error", message: "needs spec.llm", path: "spec", line: 6, column: 1 }],
      warnings: [{ severity: "warning", message: "binding is ignored", line: 20 }, { nonsense: true }],
    };
    const s = run([
      validated,
      { type: "deploy-started" },
      { type: "deploy-failed", status: 400, code: "INVALID_MANIFEST", message: "1 problem", details },
    ]);
    expect(s.step).toBe("manifest");
    expect(s.serverIssues).toEqual([
      { severity: "error", message: "needs spec.llm", path: "spec", line: 6, column: 1 },
      { severity: "warning", message: "binding is ignored", line: 20 },
    ]);
    expect(s.notice?.kind).toBe("error");
    expect(issuesOf(undefined)).toEqual([]);
  });

  it("other refusals stay on the changes with a message saying what to do", () => {
    const refused = (code: string, status: number) =>
      run([validated, { type: "deploy-failed", status, code, message: "Refused" }]);
    expect(refused("AGENT_NAME_TAKEN", 409)).toMatchObject({ step: "changes" });
    expect(refused("AGENT_NAME_TAKEN", 409).notice?.text).toMatch(/deployed as a Worker.*another metadata\.name/);
    expect(refused("HOSTED_AGENT_LIMIT", 409).notice?.text).toMatch(/Delete a hosted agent in the Clinic/);
    expect(refused("PAYLOAD_TOO_LARGE", 413).notice?.text).toMatch(/larger than the gateway accepts/);
    expect(refused("HOSTED_AGENTS_UNAVAILABLE", 503).notice?.text).toBe(
      "The deploy failed: Refused (HOSTED_AGENTS_UNAVAILABLE, HTTP 503).",
    );
  });

  it("an unchanged manifest can be tested as served, without a deploy; no test before a deploy", () => {
    const s = run([validated, { type: "base-loaded", load: 1, base: { version: 2, source: draft.text } }]);
    expect(run([{ type: "go", step: "test" }], s).step).toBe("changes");
    expect(run([{ type: "test-served" }], s)).toMatchObject({
      step: "test",
      deployed: { version: 2, unchanged: true },
    });
  });
});

describe("test-call parameters", () => {
  it("a simple object schema gives each property a starting value; anything else {}", () => {
    const schema = {
      type: "object",
      required: ["text"],
      properties: {
        text: { type: "string" },
        n: { type: "integer", default: 3 },
        mode: { enum: ["short", "long"] },
        tags: { type: "array" },
        strict: { type: "boolean" },
      },
    };
    expect(JSON.parse(sampleParameters(schema))).toEqual({ text: "", n: 3, mode: "short", tags: [], strict: false });
    expect(sampleParameters({ type: "object", properties: { nested: { type: "object" } } })).toBe("{}");
    expect(sampleParameters(undefined)).toBe("{}");
    expect(sampleParameters({ type: "string" })).toBe("{}");
  });

  it("parameters must be a JSON object", () => {
    expect(parseParameters('{"text": "hi"}')).toEqual({ ok: true, parameters: { text: "hi" } });
    expect(parseParameters("  ")).toEqual({ ok: true, parameters: {} });
    expect(parseParameters("[1]")).toMatchObject({ ok: false });
    expect(parseParameters("{text}")).toMatchObject({ ok: false, error: expect.stringMatching(/^Not JSON/) });
  });
});

describe("the Builder → Wizard handoff and the upload's media type", () => {
  it("is taken once, and nothing malformed is taken", () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
    expect(offerManifest(storage, { text: "kind: Agent\n", fileName: "a.ossa.yaml" })).toBe(true);
    expect(takeManifest(storage)).toEqual({ text: "kind: Agent\n", fileName: "a.ossa.yaml" });
    expect(takeManifest(storage)).toBeUndefined();
    store.set(HANDOFF_KEY, "{not json");
    expect(takeManifest(storage)).toBeUndefined();
    expect(store.has(HANDOFF_KEY)).toBe(false);
    const full = {
      setItem: () => {
        throw new Error("quota exceeded");
      },
    };
    expect(offerManifest(full, { text: "x", fileName: "y" })).toBe(false);
  });

  it("JSON text is sent as application/json, anything else as YAML", () => {
    expect(manifestMediaType('{"kind": "Agent"}')).toBe("application/json");
    expect(manifestMediaType("{kind: Agent}")).toBe("application/yaml");
    expect(manifestMediaType("kind: Agent\n")).toBe("application/yaml");
  });
});
