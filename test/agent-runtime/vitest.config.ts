/**
 * Agent runtime tests, in workerd: agent-demo is the main Worker (so `SELF`
 * is the agent itself); its LLM is a local OpenAI-compatible server.
 */
import path from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineProject } from "vitest/config";
import { startOpenAiDouble } from "../doubles/openai-server.ts";
import { ROOT } from "../workers-shared.ts";

const llm = await startOpenAiDouble();

export default defineProject({
  plugins: [
    cloudflareTest({
      main: path.join(ROOT, "workers/agent-demo/src/index.ts"),
      wrangler: { configPath: path.join(ROOT, "workers/agent-demo/wrangler.toml") },
      miniflare: {
        bindings: {
          CHAOS_ENABLED: "true",
          LLM_BASE_URL: llm.url,
          LLM_API_KEY: llm.apiKey,
          MAX_BODY_BYTES: "4096",
          LOG_LEVEL: "error",
          // Local development, as under `npm run dev`; the tests address agent.test.
          ZAHARA_ENV: "development",
          DEV_ALLOWED_HOSTS: "agent.test",
        },
      },
    }),
  ],
  test: {
    name: "agent-runtime",
    root: ROOT,
    include: ["test/agent-runtime/**/*.test.ts"],
  },
});
