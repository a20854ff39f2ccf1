/**
 * Gateway Worker entry point: the app built from the compiled manifests, and
 * the Durable Object classes it hosts: UpstreamGuard (one per agent) and
 * AuthThrottle (one per client address counting failed authentications).
 * The cron trigger runs the request log's retention.
 */
import { BUILD_INFO, MANIFESTS } from "../../generated";
import { withTracing } from "../../shared/observability/instrument";
import { createGatewayApp } from "./app";
import { runRetention } from "./request-log/retention";

export { AuthThrottle } from "../../../durable-objects/auth-throttle/src";
export { UpstreamGuard } from "../../../durable-objects/upstream-guard/src";

const app = createGatewayApp({ manifests: MANIFESTS, version: BUILD_INFO.version });

const handler = {
  fetch: app.fetch,
  /** Cron trigger (`[triggers] crons`): request-log retention. */
  async scheduled(controller, env) {
    await runRetention(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;

/** The handler, traced (OTLP export only when OTEL_EXPORTER_OTLP_ENDPOINT is set). */
export default withTracing<Env, typeof handler>(handler, { name: "zahara-gateway", version: BUILD_INFO.version });
