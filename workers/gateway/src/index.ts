/** Gateway Worker entry point: the app built from the compiled manifests. */
import { BUILD_INFO, MANIFESTS } from "../../generated";
import { createGatewayApp } from "./app";

const app = createGatewayApp({ manifests: MANIFESTS, version: BUILD_INFO.version });

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
