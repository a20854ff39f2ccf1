/**
 * Gateway tests, in workerd: the gateway is the main Worker; every agent of
 * the list (agent-demo, agent-custom, …) is its real bundle wired by service
 * bindings; their LLM is a local OpenAI-compatible server (the only test double).
 */
import path from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineProject } from "vitest/config";
import { startDohServer } from "../doubles/doh-server.ts";
import { startFileSink } from "../doubles/file-sink.ts";
import { startJwksServer } from "../doubles/jwks-server.ts";
import { startOpenAiDouble } from "../doubles/openai-server.ts";
import { startOtlpReceiver } from "../doubles/otlp-receiver.ts";
import { startWebhookReceiver } from "../doubles/webhook-receiver.ts";
import { testQueueConsumers } from "../request-log-queue-consumer.ts";
import {
  ROOT,
  TEST_ADMIN_KEY,
  TEST_HASHED_KEY_SHA256,
  TEST_KEY,
  TEST_SCRAPE_TOKEN,
  agentWorkersOf,
  gatewayMigrationBindings,
} from "../workers-shared.ts";

const llm = await startOpenAiDouble();
/** The test gateway's webhook secret (Standard Webhooks: whsec_ and base64 of 32 bytes). */
const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from("test-webhook-secret-0123456789abc").toString("base64")}`;
// The gateway and the agents but agent-demo (agent-custom, …) export their spans here (OTLP/HTTP JSON); tracing tests read them back and switch its faults.
const otlp = await startOtlpReceiver();
const tracing = {
  OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
  OTEL_EXPORTER_OTLP_TIMEOUT: "3000",
  OTEL_TRACES_SAMPLER_ARG: "1",
};
// A second receiver that no test switches to a fault mode, for tests that read spans while others (in parallel files) break the first.
// agent-demo exports here, keeping ordinary traces at ratio 0.5, so tracing-sampling.test.ts can show the gateway (sent
// here per request) and the agent making the same call on the same trace ids (kept when they end below 80000000).
const steadyOtlp = await startOtlpReceiver();
const demoTracing = { ...tracing, OTEL_EXPORTER_OTLP_ENDPOINT: steadyOtlp.url, OTEL_TRACES_SAMPLER_ARG: "0.5" };
// The D1 migrations (request log, access control), applied by setup.ts in each test file (storage is per file).
const migrations = await gatewayMigrationBindings();
// Tests hand files to Node through it (metrics.test.ts writes dist/metrics-sample.prom for promtool).
const sink = await startFileSink(path.join(ROOT, "dist"));
// An identity provider's JWKS endpoint: jwt-auth.test.ts publishes its public keys here and points JWT_JWKS_URL at it.
const jwks = await startJwksServer();
// A customer's webhook endpoint (run callbacks) and a DNS-over-HTTPS resolver for the callback guard; tests steer both over HTTP.
const webhooks = await startWebhookReceiver();
const doh = await startDohServer();

export default defineProject({
  plugins: [
    cloudflareTest({
      main: path.join(ROOT, "workers/gateway/src/index.ts"),
      wrangler: { configPath: path.join(ROOT, "wrangler.toml") },
      miniflare: {
        bindings: {
          GATEWAY_API_KEYS: `${TEST_KEY}, ${TEST_HASHED_KEY_SHA256}`,
          ADMIN_API_KEYS: TEST_ADMIN_KEY,
          METRICS_SCRAPE_TOKEN: TEST_SCRAPE_TOKEN,
          CORS_ORIGINS: "http://localhost:8788,https://dash.example.com",
          MAX_BODY_BYTES: "4096",
          GATEWAY_TIMEOUT_MS: "5000",
          LOG_LEVEL: "error",
          // Local development, as under `npm run dev` (short test keys accepted); the tests address gateway.test.
          ZAHARA_ENV: "development",
          DEV_ALLOWED_HOSTS: "gateway.test",
          // The tests play Cloudflare's edge, which sets CF-Connecting-IP (local development otherwise ignores it).
          DEV_TRUST_CLIENT_ADDRESS: "true",
          ...migrations,
          TEST_FILE_SINK_URL: sink.url,
          TEST_JWKS_URL: jwks.url,
          // The agents' LLM double, for streaming tests that read how its streams ended.
          TEST_LLM_URL: llm.url,
          // Streams that stall end after 1.5 s of silence here (30 s by default).
          STREAM_IDLE_TIMEOUT_MS: "1500",
          ...tracing,
          TEST_OTLP_CONTROL_URL: otlp.controlUrl,
          TEST_OTLP_STEADY_ENDPOINT: steadyOtlp.url,
          TEST_OTLP_STEADY_CONTROL_URL: steadyOtlp.controlUrl,
          TEST_WEBHOOK_URL: webhooks.url,
          TEST_DOH_URL: doh.url,
          // Run callbacks may target the receiver on 127.0.0.1 over http (production refuses loopback and http).
          RUN_CALLBACK_ALLOW_LOOPBACK_HTTP: "true",
          // Run webhooks: signed with a test secret, retried after 200 and 400 ms, given 1 s each (docs/runs.md).
          WEBHOOK_SIGNING_SECRET: TEST_WEBHOOK_SECRET,
          RUN_WEBHOOK_RETRY_SCHEDULE_MS: "200,400",
          RUN_WEBHOOK_TIMEOUT_MS: "1000",
        },
        // The request-log queue's consumer as in wrangler.toml, with a 50 ms batch timeout (tests poll D1 for rows).
        queueConsumers: testQueueConsumers(ROOT),
        // agent-demo with chaos on and its steady receiver; every other agent as agent-custom.
        workers: agentWorkersOf((name) => ({
          LLM_BASE_URL: llm.url,
          LLM_API_KEY: llm.apiKey,
          ...(name === "agent-demo" ? { CHAOS_ENABLED: "true", ...demoTracing } : tracing),
        })),
      },
    }),
  ],
  test: {
    name: "gateway",
    // Requests are bounded by GATEWAY_TIMEOUT_MS (5 s here), retries and backoff sleeps included;
    // a test that makes one retried request needs more than vitest's default 5 s.
    testTimeout: 15_000,
    root: ROOT,
    include: ["test/gateway/**/*.test.ts"],
    globalSetup: [path.join(ROOT, "test/global-setup.ts")],
    setupFiles: [path.join(ROOT, "test/gateway/setup.ts")],
  },
});
