/**
 * The request-log queue's consumer settings for the workerd test projects
 * (gateway, dashboard): wrangler.toml's own, read through wrangler as the
 * pool reads them, with only the batch timeout shortened.
 *
 * Why: in wrangler.toml a batch waits up to 1 s to fill, so a test that
 * polls D1 for its row waits about a second each time (the gateway suites
 * took ~15 s longer). 50 ms still gathers a burst of requests into one
 * delivery. The pool merges `queueConsumers` entry by entry, whole, so the
 * entry is wrangler's with the one field replaced (no setting restated here).
 */
import path from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

/** The queue the gateway logs requests through (wrangler.toml `[[queues.consumers]]`). */
export const REQUEST_LOG_QUEUE_NAME = "zahara-request-log";

/** Batch timeout of the tests' consumer, in seconds. */
export const TEST_BATCH_TIMEOUT_S = 0.05;

/** `miniflare.queueConsumers` for the gateway Worker of the wrangler config at `root`. */
export function testQueueConsumers(root: string): Record<string, Record<string, unknown>> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  const consumers = workerOptions.queueConsumers;
  const consumer = consumers && !Array.isArray(consumers) ? consumers[REQUEST_LOG_QUEUE_NAME] : undefined;
  if (!consumer) throw new Error(`wrangler.toml has no consumer for ${REQUEST_LOG_QUEUE_NAME}`);
  return { [REQUEST_LOG_QUEUE_NAME]: { ...consumer, maxBatchTimeout: TEST_BATCH_TIMEOUT_S } };
}
