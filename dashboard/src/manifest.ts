/**
 * The project's manifest module (workers/shared/manifest) as the dashboard loads it, lazily:
 * `import("./manifest")`, never the shared module directly, so zod is set to jitless (no eval,
 * see ./zod-jitless.ts) before any schema is built. ES modules run their imports in order.
 */
import "./zod-jitless";

export * from "../../workers/shared/manifest";
