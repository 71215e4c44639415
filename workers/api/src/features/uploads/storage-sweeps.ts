import { and, asc, eq, inArray, lte, sql, type SQL } from "drizzle-orm";
import { NOW_MS_SQL, storageDeletions } from "@edge-music/core/db/schema";
import { runBatch, type Db, type Query } from "../../lib/db";
import { deletePrefix } from "../../lib/storage";
import type { PersonalData } from "../privacy/personal-data";

/** Prefixes emptied per cleanup run; the rest wait for the next one. */
const SWEEPS_PER_RUN = 100;

/**
 * R2 prefixes that must end up empty, and stay empty while a URL we signed could still write
 * there. Rows are written in the same D1 batch that forgets what the objects belonged to, so
 * no object is ever left without a row that will delete it.
 */
export class StorageSweeps {
  constructor(
    private readonly db: Db,
    private readonly media: R2Bucket,
  ) {}

  /**
   * The query that records `prefix` for sweeping until `until` (epoch ms), for a batch; only if
   * `onlyIf` holds when it runs (say, once the batch's delete of the row took effect). A row
   * requested for a later `now` waits until then: an ingest attempt records the prefix it
   * writes to for when its lease ends, in case it dies before publishing or cleaning up.
   */
  record(prefix: string, until: number, now = Date.now(), onlyIf: SQL = sql`true`): Query {
    return this.db
      .insert(storageDeletions)
      .select(sql`SELECT ${prefix}, ${now}, ${until} WHERE ${onlyIf}`)
      .onConflictDoUpdate({
        target: storageDeletions.prefix,
        set: { sweepUntil: sql`max(${storageDeletions.sweepUntil}, excluded.sweep_until)` },
      });
  }

  /**
   * Empties an asset version that will not be published, and records it to be swept again
   * until `writableUntil` (epoch ms), while URLs we signed for it can still write there.
   */
  async discard(prefix: string, writableUntil: number): Promise<void> {
    const now = Date.now();
    await runBatch(this.db, [this.record(prefix, writableUntil, now)]);
    await deletePrefix(this.media, prefix);
  }

  /**
   * Empties recorded prefixes: each is emptied, and forgotten once its URLs have expired (so
   * the last emptying came after anything they could write). Returns how many were forgotten.
   */
  async run(now = Date.now()): Promise<number> {
    const due = await this.db
      .select()
      .from(storageDeletions)
      .where(lte(storageDeletions.requestedAt, now))
      .orderBy(asc(storageDeletions.requestedAt))
      .limit(SWEEPS_PER_RUN);
    return this.#empty(due, now);
  }

  /** `run` for these recorded prefixes only (a request finishing what it recorded). */
  async runFor(prefixes: string[], now = Date.now()): Promise<number> {
    if (prefixes.length === 0) return 0;
    const rows = await this.db
      .select()
      .from(storageDeletions)
      .where(
        and(inArray(storageDeletions.prefix, prefixes), lte(storageDeletions.requestedAt, now)),
      );
    return this.#empty(rows, now);
  }

  async #empty(rows: (typeof storageDeletions.$inferSelect)[], now: number): Promise<number> {
    let forgotten = 0;
    for (const row of rows) {
      await deletePrefix(this.media, row.prefix);
      if (row.sweepUntil > now) continue;
      const gone = await this.db
        .delete(storageDeletions)
        .where(and(eq(storageDeletions.prefix, row.prefix), lte(storageDeletions.sweepUntil, now)))
        .returning({ prefix: storageDeletions.prefix });
      forgotten += gone.length;
    }
    return forgotten;
  }
}

/**
 * An erasure records the account's storage prefixes in its batch, swept until every URL
 * signed for them has expired: upload URLs (the uploads' expiry) and a transcode in flight's
 * output URLs (its lease). Usually that has passed already.
 */
export const STORAGE_PERSONAL_DATA: PersonalData = {
  erase: [
    `INSERT OR IGNORE INTO storage_deletions (prefix, requested_at, sweep_until)
     SELECT 'uploads/' || ?1 || '/', ${NOW_MS_SQL},
            coalesce((SELECT max(expires_at) FROM uploads WHERE user_id = ?1), 0)
     UNION ALL SELECT 'tracks/' || id || '/', ${NOW_MS_SQL},
            coalesce((SELECT max(lease_until) FROM uploads WHERE user_id = ?1 AND state = 'processing'), 0)
       FROM tracks WHERE owner_id = ?1`,
  ],
};
