/**
 * `GET /openapi.json`: the gateway's OpenAPI 3.1 document, public and
 * cacheable. The document is docs/openapi.json, generated at build time from
 * the routes' schemas by `npm run openapi` (document.ts) and bundled as is:
 * the generator and zod's JSON Schema code stay out of the Worker, and
 * openapi.test.ts fails when the file no longer matches what the routes
 * validate.
 */
import type { Context } from "hono";
import document from "../../../../docs/openapi.json";

/** How long browsers and shared caches may keep the document, in seconds. */
export const OPENAPI_MAX_AGE_S = 300;

/** Creates the `GET /openapi.json` handler (serialized once per isolate, on first use). */
export function openApiHandler() {
  let body: string | undefined;
  return function openApi(c: Context): Response {
    body ??= JSON.stringify(document);
    return c.body(body, 200, {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": `public, max-age=${OPENAPI_MAX_AGE_S}`,
    });
  };
}
