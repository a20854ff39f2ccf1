/**
 * Gateway Worker entry point: the app built from the compiled manifests, and
 * the Durable Object classes it hosts: UpstreamGuard (one per agent) and
 * AuthThrottle (one per client address counting failed authentications)
 * and AgentRun (one per long-running run). The cron trigger runs the
 * retention of the request log and of runs.
 */
import { BUILD_INFO, MANIFESTS } from "../../generated";
import { isLocalDevelopment } from "../../shared/http/deployment";
import { createLogger } from "../../shared/logger";
import { withTracing } from "../../shared/observability/instrument";
import { createGatewayApp } from "./app";
import { consumeRequestLog } from "./request-log/consumer";
import { runRetention } from "./request-log/retention";
import { purgeExpiredRuns } from "./runs/retention";

export { AuthThrottle } from "../../../durable-objects/auth-throttle/src";
export { UpstreamGuard } from "../../../durable-objects/upstream-guard/src";
export { AgentRun } from "./runs/run-object";

const app = createGatewayApp({ manifests: MANIFESTS, version: BUILD_INFO.version });

const handler = {
  fetch: app.fetch,
  /**
   * Cron trigger (`[triggers] crons`): request-log retention. In local development anyone on the machine can
   * fire it (`/cdn-cgi/handler/scheduled` needs no credential), so there it does nothing: an admin runs
   * `POST /v1/requests/purge` with the admin key instead.
   */
  async scheduled(controller, env) {
    if (isLocalDevelopment(env)) {
      const logger = createLogger({ service: "gateway", level: env.LOG_LEVEL });
      logger.warn("scheduled handler skipped in local development; run POST /v1/requests/purge with the admin key");
      return;
    }
    const logger = createLogger({ service: "gateway", level: env.LOG_LEVEL, fields: { job: "run-retention" } });
    await Promise.all([
      runRetention(env, controller.scheduledTime),
      purgeExpiredRuns(env, controller.scheduledTime, logger),
    ]);
  },
  /**
   * Queue consumer (`[[queues.consumers]]`): the request log's deliveries, each written in one D1 batch
   * (request-log/consumer.ts). It acks, retries and logs by itself and never throws.
   */
  async queue(batch, env) {
    const logger = createLogger({ service: "gateway", level: env.LOG_LEVEL, fields: { job: "request-log-consumer" } });
    await consumeRequestLog(batch, env, logger);
  },
} satisfies ExportedHandler<Env>;

/** The handler, traced (OTLP export only when OTEL_EXPORTER_OTLP_ENDPOINT is set). */
export default withTracing<Env, typeof handler>(handler, { name: "zahara-gateway", version: BUILD_INFO.version });
