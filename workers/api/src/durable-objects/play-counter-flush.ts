import { sql } from "drizzle-orm";
import { listeningHistory, royaltyRollups } from "@edge-music/core/db/schema";
import { toBase64Url } from "../lib/crypto";
import { createDb, runBatch, type Query } from "../lib/db";
import type { PendingStreamRow, TotalsRow } from "./play-counter-schema";

/** D1 binds at most 100 parameters per statement. */
const ROLLUP_ROWS_PER_INSERT = 10;
const HISTORY_ROWS_PER_INSERT = 12;
/** Streams written per flush; more wait for the next alarm. */
const HISTORY_ROWS_PER_FLUSH = 600;

/**
 * Copies a counter's dirty totals and counted streams to D1 in one batch. Rollups are
 * overwritten (this shard's row holds this shard's running total) and history rows are keyed
 * by playback, so a repeated or interrupted flush never counts anything twice.
 */
export async function flushCounter(
  store: SqlStorage,
  env: Env,
  now: number,
): Promise<{ rollups: number; streams: number }> {
  const meta = new Map(
    store
      .exec<{ key: string; value: string }>("SELECT key, value FROM meta")
      .toArray()
      .map((r) => [r.key, r.value]),
  );
  const trackId = meta.get("track");
  const shard = Number(meta.get("shard") ?? 0);
  if (!trackId) return { rollups: 0, streams: 0 };
  const totals = store
    .exec<TotalsRow>(
      "SELECT day, territory, plan, rendition, exclusion, streams, played_ms, rev FROM totals WHERE rev > flushed_rev",
    )
    .toArray();
  const streams = store
    .exec<PendingStreamRow>(
      "SELECT * FROM pending_streams ORDER BY played_at LIMIT ?",
      HISTORY_ROWS_PER_FLUSH,
    )
    .toArray();
  if (!totals.length && !streams.length) return { rollups: 0, streams: 0 };

  const db = createDb(env.DB);
  const queries: Query[] = [];
  for (const [, rows] of chunks(totals, ROLLUP_ROWS_PER_INSERT)) {
    queries.push(
      db
        .insert(royaltyRollups)
        .values(
          rows.map((r) => ({
            trackId,
            day: r.day,
            territory: r.territory,
            plan: r.plan,
            rendition: r.rendition,
            exclusion: r.exclusion,
            shard,
            streams: r.streams,
            playedMs: r.played_ms,
            updatedAt: now,
          })),
        )
        .onConflictDoUpdate({
          target: [
            royaltyRollups.trackId,
            royaltyRollups.day,
            royaltyRollups.territory,
            royaltyRollups.plan,
            royaltyRollups.rendition,
            royaltyRollups.exclusion,
            royaltyRollups.shard,
          ],
          set: {
            streams: sql`excluded.streams`,
            playedMs: sql`excluded.played_ms`,
            updatedAt: sql`excluded.updated_at`,
          },
        }),
    );
  }
  const historyIds = await Promise.all(streams.map((r) => historyId(r.id)));
  for (const [at, rows] of chunks(streams, HISTORY_ROWS_PER_INSERT)) {
    queries.push(
      db
        .insert(listeningHistory)
        .values(
          rows.map((r, i) => ({
            id: historyIds[at + i] ?? "",
            userId: r.user_id,
            trackId,
            playedAt: r.played_at,
            territory: r.territory,
            plan: r.plan,
            rendition: r.rendition,
          })),
        )
        .onConflictDoNothing(),
    );
  }
  await runBatch(db, queries);

  // Only now, with D1 holding them, mark what was written; newer changes stay dirty.
  for (const r of totals) {
    store.exec(
      `UPDATE totals SET flushed_rev = max(flushed_rev, ?)
       WHERE day = ? AND territory = ? AND plan = ? AND rendition = ? AND exclusion = ?`,
      r.rev,
      r.day,
      r.territory,
      r.plan,
      r.rendition,
      r.exclusion,
    );
  }
  for (const r of streams) store.exec("DELETE FROM pending_streams WHERE id = ?", r.id);
  return { rollups: totals.length, streams: streams.length };
}

/** `[offset, slice]` pairs of at most `size` items. */
function* chunks<T>(items: T[], size: number): Generator<[number, T[]]> {
  for (let i = 0; i < items.length; i += size) yield [i, items.slice(i, i + size)];
}

/**
 * A history row's id: SHA-256 of `<playbackId>:<seq>` in base64url. The same stream always
 * gets the same id (a repeated flush writes it once), and the id does not carry the playback
 * id, whose claims name the listener, into a table that outlives the account.
 */
async function historyId(stream: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(stream));
  return `lh_${toBase64Url(new Uint8Array(digest))}`;
}
