/**
 * Request log, consumer side: the gateway's `queue()` handler for its own
 * request-log queue (wrangler.toml `[[queues.consumers]]`).
 *
 * Why a queue: one D1 batch per request capped the whole gateway near 500
 * logged requests/s on its one database. Requests now only send their entry
 * to the queue (writer.ts), and this consumer writes a whole delivery, up to
 * 100 requests and their attempts, in one D1 batch: about a hundredth of the
 * batches under load.
 *
 * Delivery is at least once: on a D1 failure every message of the batch is
 * retried (after the consumer's `retry_delay`, up to `max_retries` times),
 * and a retry that follows a write which had in fact committed changes
 * nothing, since rows are `INSERT OR IGNORE` on their `log_id`. A message
 * that is not an entry is acked and logged, never retried: it would fail
 * every time. After the last retry a message is acked (dropped) and its
 * request named in the log, as a failed direct write always was.
 */
import type { Logger } from "../../../shared/logger";
import { withTimeout } from "../../../shared/timeout";
import { type RequestLogEntry, parseEntry } from "./message";
import { insertStatements } from "./statements";

/**
 * The consumer's `max_retries` in wrangler.toml (keep them equal): a message
 * on its attempt `MAX_RETRIES + 1` that fails again is dropped here.
 */
export const MAX_RETRIES = 10;

/** How long one batch's D1 write may take before the batch is retried (it keeps no caller waiting). */
export const BATCH_WRITE_TIMEOUT_MS = 15_000;

/** What the consumer needs from the gateway's env. */
export interface ConsumerEnv {
  REQUEST_LOG?: D1Database;
}

/** What one delivery came to (for tests and the handler's callers). */
export interface ConsumeResult {
  /** Requests written (their attempts with them). */
  rows: number;
  /** Statements in the one D1 batch (0 when nothing was written). */
  statements: number;
  /** Messages that were not entries (acked). */
  malformed: number;
  /** Messages retried after a failed write. */
  retried: number;
  /** Messages dropped after their last retry. */
  dropped: number;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Writes one delivery of the request-log queue in one D1 batch, then acks
 * it; on a D1 failure retries it (message by message, so the malformed ones
 * already acked stay acked). Never throws.
 */
export async function consumeRequestLog(
  batch: MessageBatch,
  env: ConsumerEnv,
  logger: Logger,
  timeoutMs = BATCH_WRITE_TIMEOUT_MS,
): Promise<ConsumeResult> {
  const result: ConsumeResult = { rows: 0, statements: 0, malformed: 0, retried: 0, dropped: 0 };
  const valid: { message: Message; entry: RequestLogEntry }[] = [];
  for (const message of batch.messages) {
    const parsed = parseEntry(message.body);
    if (parsed.ok) {
      valid.push({ message, entry: parsed.entry });
      continue;
    }
    // Never the body itself: it is not ours to trust, nor to copy into the logs.
    message.ack();
    result.malformed++;
    logger.error("request log message malformed", {
      message_id: message.id,
      reason: parsed.reason,
      attempt: message.attempts,
    });
  }
  if (valid.length === 0) return result;

  const db = env.REQUEST_LOG;
  if (!db) {
    logger.error("request log batch dropped: no REQUEST_LOG binding", { rows: valid.length });
    batch.ackAll();
    return { ...result, dropped: valid.length };
  }
  const entries = valid.map((v) => v.entry);
  const statements = insertStatements(db, entries);
  try {
    await withTimeout(db.batch(statements), timeoutMs, `request log batch write timed out after ${timeoutMs} ms`);
  } catch (err) {
    return { ...result, ...retryOrDrop(valid, describe(err), logger) };
  }
  batch.ackAll();
  const attempts = entries.reduce((n, e) => n + e.attempts.length, 0);
  logger.info("request log batch written", { rows: entries.length, statements: statements.length, attempts });
  return { ...result, rows: entries.length, statements: statements.length };
}

/**
 * After a failed write: retries each message that has retries left, drops
 * (acks) the others. One line for the batch; one per request the first time
 * its write fails and when it is dropped, naming it as a failed direct write did.
 */
function retryOrDrop(
  valid: readonly { message: Message; entry: RequestLogEntry }[],
  error: string,
  logger: Logger,
): { retried: number; dropped: number } {
  let retried = 0;
  let dropped = 0;
  for (const { message, entry } of valid) {
    const last = message.attempts > MAX_RETRIES;
    if (last) {
      message.ack();
      dropped++;
    } else {
      // The delay is the consumer's retry_delay: the tracing wrapper passes no options through retry().
      message.retry();
      retried++;
    }
    if (last || message.attempts === 1) {
      logger.error("request log write failed", {
        logged_request_id: entry.request.request_id,
        attempt: message.attempts,
        outcome: last ? "dropped" : "retrying",
      });
    }
  }
  const attempt = Math.max(...valid.map((v) => v.message.attempts));
  logger.error("request log batch write failed", { rows: valid.length, retried, dropped, attempt, error });
  return { retried, dropped };
}
