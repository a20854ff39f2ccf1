/** agent-demo Worker: the shared agent runtime serving its compiled manifest. */
import manifest from "../../generated/manifests/agent-demo";
import { createAgentWorker } from "../../agent-runtime/src";

export { IdempotencyStore } from "../../../durable-objects/idempotency-store/src";

export default createAgentWorker<Env>({ manifest }) satisfies ExportedHandler<Env>;
