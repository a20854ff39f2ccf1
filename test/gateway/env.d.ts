// Bindings the gateway tests add to the Worker's Env (see vitest.config.ts).
import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** The request log's D1 migrations (readD1Migrations), for applyD1Migrations in setup.ts. */
      TEST_MIGRATIONS: D1Migration[];
      TEST_ACCESS_MIGRATIONS: D1Migration[];
      /** Base URL of the JWKS double (test/doubles/jwks-server.ts); a key set's JWKS is at `<url>/sets/<name>/jwks.json`. */
      TEST_JWKS_URL: string;
      /** Base URL of the OpenAI-compatible double the agents call (`GET <url>/v1/__stream_stats__`). */
      TEST_LLM_URL: string;
      /** Base URL of the webhook receiver double (test/doubles/webhook-receiver.ts); control at `<url>/__mode__`, `<url>/__received__`. */
      TEST_WEBHOOK_URL: string;
      /** The DoH JSON endpoint of the resolver double (test/doubles/doh-server.ts); `PUT <origin>/__records__` publishes records. */
      TEST_DOH_URL: string;
    }
  }
}
