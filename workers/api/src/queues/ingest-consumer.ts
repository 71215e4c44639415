import { IngestMessageSchema } from "@edge-music/core/ingest-contract";
import { readConfig } from "../lib/config";
import { log } from "../lib/log";
import { buildServices } from "../features";

/** Gives up on an upload the queue could not process (its dead-letter queue). */
const DEAD_LETTER_REASON =
  "We could not process this upload after several attempts. Please try again later.";

/**
 * The ingest queue consumer: each message names an upload; jobs in a batch run side by
 * side. A message that is not ours (bad schema) is acknowledged and logged, never retried.
 */
export async function consumeIngest(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const services = buildServices(env, readConfig(env));
  const deadLetter = batch.queue.endsWith("-dlq");
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = IngestMessageSchema.safeParse(message.body);
      if (!parsed.success) {
        log("error", "ingest message refused", { queue: batch.queue, messageId: message.id });
        return message.ack();
      }
      if ("kind" in parsed.data) {
        const { trackId, assetVersionId } = parsed.data;
        // A re-packaging that failed for good leaves the track playing as it was (clear).
        const outcome = deadLetter
          ? { kind: "failed" as const }
          : await services.repackage.process(trackId, assetVersionId, message.attempts);
        log("info", "repackage", { trackId, outcome: outcome.kind, attempts: message.attempts });
        if (outcome.kind === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
        else message.ack();
        return;
      }
      const { uploadId } = parsed.data;
      if (deadLetter) {
        await services.ingest.failForGood(uploadId, "GAVE_UP", DEAD_LETTER_REASON);
        log("warn", "ingest dead-lettered", { uploadId, attempts: message.attempts });
        return message.ack();
      }
      const outcome = await services.ingest.process(uploadId);
      log("info", "ingest", { uploadId, outcome: outcome.kind, attempts: message.attempts });
      if (outcome.kind === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
      else message.ack();
    }),
  );
}
