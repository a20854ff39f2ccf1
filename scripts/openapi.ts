/**
 * `npm run openapi`: writes the gateway's OpenAPI 3.1 document to
 * docs/openapi.json, generated from the routes' own zod schemas
 * (workers/gateway/src/openapi/document.ts), after checking it with an
 * OpenAPI 3.1 validator. The gateway bundles that file and serves it at
 * `GET /openapi.json`; test/gateway/openapi.test.ts fails when it is stale.
 *
 *   tsx scripts/openapi.ts [--check]
 *
 * `--check` writes nothing and exits 1 when docs/openapi.json differs from
 * the document the code generates.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";

/** What this script uses of workers/gateway/src/openapi/document.ts. */
interface Generator {
  buildOpenApiDocument(version: string): { paths: Record<string, Record<string, unknown>> };
  serializeOpenApi(document: unknown): string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Loaded at run time: the generator is gateway code (Workers types), outside this script's Node type-check.
const generator = pathToFileURL(path.join(root, "workers/gateway/src/openapi/document.ts")).href;
const { buildOpenApiDocument, serializeOpenApi } = (await import(generator)) as Generator;
const target = path.join(root, "docs", "openapi.json");
const check = process.argv.includes("--check");

// The version BUILD_INFO carries (scripts/manifests-compile.ts), read where it comes from.
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
const document = buildOpenApiDocument(version);
const text = serializeOpenApi(document);

// A copy: the validator keeps what it is given.
const spec: Record<string, unknown> = { ...structuredClone(document) };
const result = await new Validator().validate(spec);
if (!result.valid) {
  console.error("openapi: the generated document is not valid OpenAPI 3.1:");
  console.error(typeof result.errors === "string" ? result.errors : JSON.stringify(result.errors, null, 2));
  process.exit(1);
}

const current = (() => {
  try {
    return readFileSync(target, "utf8");
  } catch {
    return undefined;
  }
})();
const operations = Object.values(document.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
if (check) {
  if (current !== text) {
    console.error("openapi: docs/openapi.json is stale; run `npm run openapi`");
    process.exit(1);
  }
  console.log(`openapi: docs/openapi.json is up to date (${operations} operations)`);
} else {
  if (current !== text) writeFileSync(target, text);
  console.log(
    `openapi: ${current === text ? "unchanged" : "wrote"} docs/openapi.json (${operations} operations, ${(text.length / 1024).toFixed(1)} KiB)`,
  );
}
