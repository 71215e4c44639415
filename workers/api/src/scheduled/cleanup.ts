import { and, eq, gte, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
import type { IngestMessage } from "@edge-music/core/ingest-contract";
import { uploads } from "@edge-music/core/db/schema";
import type { Config } from "../lib/config";
import type { Db } from "../lib/db";
import { log } from "../lib/log";
import type { IngestService } from "../features/uploads/ingest";

/** Uploads never completed are removed this long after their URL expired. */
export const ABANDONED_UPLOAD_MS = 24 * 3600 * 1000;
/** A queued upload untouched this long lost its message (the longest retry delay is 10 min). */
export const QUEUED_STALE_MS = 15 * 60 * 1000;

/**
 * Removes uploads never completed (object and row), fails jobs stuck past their lease with no
 * attempts left (their source goes too), and queues again the jobs whose consumer died (lease
 * ended, attempts left) or whose queue message was lost. With `cleanupDryRun` set it only logs what it would do.
 */
export async function cleanupUploads(
  db: Db,
  env: Env,
  config: Config,
  ingest: IngestService,
  now = Date.now(),
): Promise<{ abandoned: number; stuck: number; requeued: number }> {
  const abandoned = await db
    .select({ id: uploads.id, objectKey: uploads.objectKey })
    .from(uploads)
    .where(
      and(eq(uploads.state, "awaiting_upload"), lt(uploads.expiresAt, now - ABANDONED_UPLOAD_MS)),
    )
    .limit(500);
  const stuck = await db
    .select({ id: uploads.id })
    .from(uploads)
    .where(
      and(
        or(eq(uploads.state, "processing"), eq(uploads.state, "queued")),
        isNotNull(uploads.leaseUntil),
        lt(uploads.leaseUntil, now),
        // Only jobs with no attempts left: the queue retries the others.
        gte(uploads.attempts, config.ingest.maxAttempts),
      ),
    )
    .limit(500);
  const lapsed = or(
    and(
      eq(uploads.state, "processing"),
      lt(uploads.leaseUntil, now),
      lt(uploads.attempts, config.ingest.maxAttempts),
    ),
    and(
      eq(uploads.state, "queued"),
      isNull(uploads.leaseUntil),
      lt(uploads.updatedAt, now - QUEUED_STALE_MS),
    ),
  );
  const orphanedJobs = await db.select({ id: uploads.id }).from(uploads).where(lapsed).limit(500);
  const dryRun = config.cleanupDryRun;
  log("info", dryRun ? "cleanup (dry run): would remove" : "cleanup", {
    abandoned: abandoned.map((u) => u.id),
    stuck: stuck.map((u) => u.id),
    requeue: orphanedJobs.map((u) => u.id),
  });
  if (dryRun) {
    return { abandoned: abandoned.length, stuck: stuck.length, requeued: orphanedJobs.length };
  }
  for (const upload of abandoned) {
    // Object first: a row without its object is harmless, an object without its row is orphaned.
    if (upload.objectKey) await env.MEDIA.delete(upload.objectKey);
    await db
      .delete(uploads)
      .where(and(eq(uploads.id, upload.id), eq(uploads.state, "awaiting_upload")));
  }
  for (const job of stuck) {
    await ingest.failForGood(
      job.id,
      "STUCK",
      "Processing did not finish in time. Please upload the file again.",
    );
  }
  // Queued again only if still lapsed when updated (a consumer may have just taken it); a
  // duplicate message is harmless, since taking a job is a conditional update.
  const requeued = orphanedJobs.length
    ? await db
        .update(uploads)
        .set({ state: "queued", stage: "retrying", leaseUntil: null, updatedAt: now })
        .where(
          and(
            inArray(
              uploads.id,
              orphanedJobs.map((u) => u.id),
            ),
            lapsed,
          ),
        )
        .returning({ id: uploads.id })
    : [];
  if (requeued.length) {
    await env.INGEST_QUEUE.sendBatch(
      requeued.map((u) => ({ body: { version: 1, uploadId: u.id } satisfies IngestMessage })),
    );
  }
  return { abandoned: abandoned.length, stuck: stuck.length, requeued: requeued.length };
}
