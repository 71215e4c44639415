import { and, eq, gte, isNotNull, lt, or } from "drizzle-orm";
import { uploads } from "@edge-music/core/db/schema";
import type { Config } from "../lib/config";
import type { Db } from "../lib/db";
import { log } from "../lib/log";
import type { IngestService } from "../services/ingest";

/** Uploads never completed are removed this long after their URL expired. */
export const ABANDONED_UPLOAD_MS = 24 * 3600 * 1000;

/**
 * Removes uploads never completed (object and row) and fails jobs stuck past their lease
 * with no attempts left (their source goes too). `dryRun` only logs what it would do.
 */
export async function cleanupUploads(
  db: Db,
  env: Env,
  config: Config,
  ingest: IngestService,
  dryRun: boolean,
  now = Date.now(),
): Promise<{ abandoned: number; stuck: number }> {
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
  log("info", dryRun ? "cleanup (dry run): would remove" : "cleanup", {
    abandoned: abandoned.map((u) => u.id),
    stuck: stuck.map((u) => u.id),
  });
  if (dryRun) return { abandoned: abandoned.length, stuck: stuck.length };
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
  return { abandoned: abandoned.length, stuck: stuck.length };
}
