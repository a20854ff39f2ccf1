/**
 * docs/openapi.json is a valid OpenAPI 3.1 document, as the OpenAPI
 * Initiative's JSON Schema for 3.1 and its references say
 * (@seriousme/openapi-schema-validator: ajv compiles schemas with `new
 * Function`, which workerd forbids, so this check runs in Node). That the
 * file is what the code generates, and that the gateway's answers match it,
 * is test/gateway/openapi.test.ts.
 */
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";

const document = JSON.parse(readFileSync(new URL("../../docs/openapi.json", import.meta.url), "utf8")) as Record<
  string,
  unknown
>;

describe("docs/openapi.json", () => {
  it("is valid OpenAPI 3.1, every reference resolving", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("the validator refuses a document with a dangling reference or a malformed parameter", async () => {
    const dangling = structuredClone(document) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters: unknown[] }>>;
    };
    dangling.paths["/health"]!.get!.responses["200"] = { $ref: "#/components/responses/Nope" };
    expect((await new Validator().validate(dangling)).valid).toBe(false);
    const malformed = structuredClone(document) as typeof dangling;
    malformed.paths["/health"]!.get!.parameters.push({ name: "x", in: "body" });
    expect((await new Validator().validate(malformed)).valid).toBe(false);
  });
});
