/**
 * Gateway Worker entry point: the app built from the compiled manifests, and
 * the UpstreamGuard Durable Object class it hosts (one instance per agent).
 */
import { BUILD_INFO, MANIFESTS } from "../../generated";
import { createGatewayApp } from "./app";

export { UpstreamGuard } from "../../../durable-objects/upstream-guard/src";

const app = createGatewayApp({ manifests: MANIFESTS, version: BUILD_INFO.version });

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
