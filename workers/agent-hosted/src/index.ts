/**
 * agent-hosted Worker: serves every hosted agent (manifest-only agents uploaded at runtime through the gateway's
 * `PUT /v1/agents/:name`) with the shared agent runtime; see hosted.ts. Traced as one service.
 */
import { withTracing } from "../../shared/observability/instrument";
import { AgentCache, HOSTED_SERVICE, serveHosted } from "./hosted";

export { IdempotencyStore } from "../../../durable-objects/idempotency-store/src";

const cache = new AgentCache();

const handler = {
  fetch: (request, env, ctx) => serveHosted(request, env, ctx, cache),
} satisfies ExportedHandler<Env>;

export default withTracing<Env, typeof handler>(handler, { name: HOSTED_SERVICE });
