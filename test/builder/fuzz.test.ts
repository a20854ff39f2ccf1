/**
 * Property-based fuzzing (fast-check) of the Builder's YAML ⇄ form round trip
 * (dashboard/src/screens/builder/form-model.ts), because the Builder rewrites
 * the manifest a person downloads and deploys: for generated manifests the
 * loader accepts, YAML → form → YAML is a fixed point and validates to the
 * same manifest; for any form state, the generated YAML is a fixed point;
 * and reading hostile text (alias bombs, deep nesting…) reports problems
 * instead of throwing. Arbitraries are shared with test/manifest/fuzz.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadZaharaAgentManifest } from "../../workers/shared/manifest";
import { FIELDS } from "../../dashboard/src/screens/builder/fields";
import {
  type BuilderForm,
  editedParts,
  formFromYaml,
  yamlFromForm,
} from "../../dashboard/src/screens/builder/form-model";
import { REAL_MANIFESTS, applyMutation, hostileText } from "../manifest/arbitraries";
import { formOf, validManifest } from "./helpers";

const DNS_NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;
/** Text with the characters that trip YAML writers: leading/trailing blanks, newlines, quotes, `#`, `: `, `- `. */
const trickyText = fc.oneof(
  fc.string({ minLength: 1, maxLength: 60 }),
  fc.string({
    unit: fc.constantFrom(" ", "\n", "\t", "a", "#", ": ", "- ", "'", '"', "\\", "|", ">", "{", "*", "&", "!", "%"),
    minLength: 1,
    maxLength: 12,
  }),
);
const byKind = (kind: string) => FIELDS.filter((f) => f.kind === kind).map((f) => f.path);

/** An edit of a field the form shows, with a value the schema accepts more often than not. */
const fieldEdit = fc.oneof(
  fc.record({
    path: fc.constantFrom(...byKind("number")),
    value: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.double({ min: 0, max: 1, noNaN: true })),
  }),
  fc.record({ path: fc.constantFrom(...byKind("boolean")), value: fc.boolean() }),
  fc.record({
    path: fc.constantFrom(
      ["metadata", "description"],
      ["spec", "role"],
      ["spec", "llm", "model"],
      ["extensions", "zahara", "branding", "tagline"],
      ["extensions", "zahara", "branding", "display_name"],
    ),
    value: trickyText,
  }),
  fc.record({
    path: fc.constantFrom(["metadata", "name"], ["extensions", "zahara", "service"]),
    value: fc.stringMatching(DNS_NAME),
  }),
);

/** A real manifest with field edits and new fallbacks, as YAML or JSON text. */
const editedManifest = fc
  .record({
    base: fc.constantFrom(...REAL_MANIFESTS),
    edits: fc.array(fieldEdit, { maxLength: 5 }),
    fallbacks: fc.option(fc.uniqueArray(fc.stringMatching(DNS_NAME), { minLength: 1, maxLength: 5 })), // [] is "none", which the form writes as no key
    json: fc.boolean(),
  })
  .map(({ base, edits, fallbacks, json }) => {
    const data = structuredClone(base.data);
    for (const { path, value } of edits) applyMutation(data, { op: "set", path, value });
    if (fallbacks !== null) applyMutation(data, { op: "fallbacks", value: fallbacks });
    return { file: base.file, text: json ? JSON.stringify(data, null, 2) : stringify(data) };
  });

describe("fuzz: the Builder round trip", { timeout: 60_000 }, () => {
  it("accepted manifests: YAML → form → YAML is a fixed point and validates to the same manifest", () => {
    let checked = 0;
    fc.assert(
      fc.property(editedManifest, ({ file, text }) => {
        const before = loadZaharaAgentManifest(text, file);
        fc.pre(before.ok);
        checked++;
        const form = formOf(text);
        const yaml = yamlFromForm(form);
        const back = formOf(yaml);
        expect(editedParts(back)).toEqual(editedParts(form));
        expect(yamlFromForm(back)).toBe(yaml);
        if (before.ok) expect(validManifest(yaml, file)).toEqual(before.manifest);
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(50);
  });

  it("any form state: the generated YAML reads back and is a fixed point", () => {
    const value = fc.oneof(
      trickyText,
      fc.constantFrom("", "1e400", "-1e400", "-0", " 5 ", "0.50", "1e-7", ".5", "5.", "true", "null", "~", "{}", "[]"),
      fc.double().map(String),
    );
    const capability = fc.record({
      name: value,
      description: value,
      inputSchema: fc.oneof(value, fc.json()),
      outputSchema: fc.oneof(value, fc.json()),
      rest: fc.constant({ type: "function" }),
    });
    const state = fc.record({
      base: fc.constantFrom(...REAL_MANIFESTS.map((m) => m.text), ""),
      values: fc.dictionary(fc.constantFrom(...FIELDS.map((f) => f.id)), value),
      capabilities: fc.option(fc.array(capability, { maxLength: 3 })),
      fallbacks: fc.array(value, { maxLength: 3 }),
    });
    fc.assert(
      fc.property(state, ({ base, values, capabilities, fallbacks }) => {
        const start = formOf(base);
        const form: BuilderForm = {
          ...start,
          values: { ...start.values, ...values },
          capabilities: capabilities ?? start.capabilities,
          fallbacks,
        };
        const yaml = yamlFromForm(form);
        const back = formOf(yaml);
        expect(yamlFromForm(back)).toBe(yaml);
        expect(editedParts(formOf(yamlFromForm(back)))).toEqual(editedParts(back));
      }),
      { numRuns: 300 },
    );
  });

  it("reading hostile text reports problems, never throws", () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const read = formFromYaml(text);
        if (!read.ok)
          for (const p of read.problems) expect(typeof p.message === "string" && p.message !== "").toBe(true);
        else yamlFromForm(read.form);
      }),
      {
        numRuns: 300,
        examples: [
          ["&\u0000"],
          ["[".repeat(2000) + "]".repeat(2000)],
          [
            "a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
          ],
        ],
      },
    );
  });

  // The counterexamples fuzzing found, kept as plain cases.
  it.each([
    ["a number too large for a double", { openMs: "1e400" }, {}],
    ["-0", { retryWindowMs: "-0" }, {}],
    ["a blank role kept as a | block", { role: " " }, {}],
    ["a role of blanks and a newline", { role: " \n" }, {}],
    ["a schema with 1e400", {}, { inputSchema: '{"maximum": 1e400}' }],
    ["a schema of -0", {}, { outputSchema: "-0" }],
    ["a schema that is a JSON string", {}, { inputSchema: '"1"', outputSchema: '""' }],
    ["a schema with an empty key", {}, { inputSchema: '{"": false}' }],
  ])("fixed point: %s", (_label, values: Record<string, string>, capability: Record<string, string>) => {
    const start = formOf(REAL_MANIFESTS[0]?.text ?? "");
    const form: BuilderForm = {
      ...start,
      values: { ...start.values, ...values },
      capabilities: start.capabilities.map((c, i) => (i === 0 ? { ...c, ...capability } : c)),
    };
    const yaml = yamlFromForm(form);
    const back = formOf(yaml);
    expect(yamlFromForm(back)).toBe(yaml);
    expect(formOf(yamlFromForm(back))).toEqual(back);
  });
});
