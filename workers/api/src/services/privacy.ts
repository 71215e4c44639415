import { eq } from "drizzle-orm";
import { NOW_MS_SQL, playbacks, tracks, users } from "@edge-music/core/db/schema";
import type { Viewer } from "../app-env";
import type { Db } from "../lib/db";
import { log } from "../lib/log";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../lib/password";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../lib/problem";
import type { ListenerStreamLimits } from "./listener-streams";
import type { PlayCounters } from "./play-counters";
import type { StorageSweeps } from "./storage-sweeps";
import type { SubscriptionService } from "./subscriptions";

/** Rows read per D1 query while an export streams out. */
const EXPORT_PAGE_ROWS = 500;

/** `?1` the user id, `?2` the last rowid sent, `?3` the page size. */
const rowsOf = (table: string, column: string) =>
  `SELECT rowid AS _rowid, * FROM ${table} WHERE ${column} = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3`;

/**
 * Every table that holds something about a user, as the export lists it. Secrets (the
 * password hash, refresh token hashes, a playlist's write token) are left out.
 */
const EXPORT_SECTIONS: { name: string; sql: string; omit?: string[] }[] = [
  { name: "sessions", sql: rowsOf("sessions", "user_id") },
  { name: "subscription", sql: rowsOf("subscriptions", "user_id") },
  { name: "playlists", sql: rowsOf("playlists", "owner_id"), omit: ["write_token"] },
  {
    name: "playlistItems",
    sql: `SELECT i.rowid AS _rowid, i.* FROM playlist_items i JOIN playlists p ON p.id = i.playlist_id
          WHERE p.owner_id = ?1 AND i.rowid > ?2 ORDER BY i.rowid LIMIT ?3`,
  },
  { name: "likes", sql: rowsOf("likes", "user_id") },
  { name: "listeningHistory", sql: rowsOf("listening_history", "user_id") },
  { name: "playbackGrants", sql: rowsOf("playbacks", "user_id") },
  { name: "uploads", sql: rowsOf("uploads", "user_id") },
  { name: "tracks", sql: rowsOf("tracks", "owner_id") },
  { name: "artists", sql: rowsOf("artists", "owner_id") },
  { name: "rightsHolders", sql: rowsOf("rights_holders", "user_id") },
];

/**
 * Erasure, in one D1 batch (`?1` the user id; times from D1's clock, as column defaults). Listening history is kept without the user so
 * royalty rollups, which never named anyone, stay as they are. The user's tracks go with
 * their search entries, neighbours and other people's likes; the storage prefixes to empty
 * are recorded in the same batch (swept until no URL can write there). Deleting the user cascades to sessions, refresh tokens,
 * playlists and their items, likes, grants, uploads and the subscription.
 */
const ERASE = [
  "UPDATE listening_history SET user_id = NULL WHERE user_id = ?1",
  // Swept until every URL signed for them has expired: upload URLs (the uploads' expiry) and
  // a transcode in flight's output URLs (its lease). Usually that has passed already.
  `INSERT OR IGNORE INTO storage_deletions (prefix, requested_at, sweep_until)
     SELECT 'uploads/' || ?1 || '/', ${NOW_MS_SQL},
            coalesce((SELECT max(expires_at) FROM uploads WHERE user_id = ?1), 0)
     UNION ALL SELECT 'tracks/' || id || '/', ${NOW_MS_SQL},
            coalesce((SELECT max(lease_until) FROM uploads WHERE user_id = ?1 AND state = 'processing'), 0)
       FROM tracks WHERE owner_id = ?1`,
  `DELETE FROM likes WHERE (kind = 'track' AND ref_id IN (SELECT id FROM tracks WHERE owner_id = ?1))
     OR (kind = 'playlist' AND ref_id IN (SELECT id FROM playlists WHERE owner_id = ?1))`,
  `DELETE FROM track_neighbors WHERE track_id IN (SELECT id FROM tracks WHERE owner_id = ?1)
     OR neighbor_id IN (SELECT id FROM tracks WHERE owner_id = ?1)`,
  "DELETE FROM recommendation_signal WHERE user_id = ?1",
  ...[
    "search_completions WHERE doc_rowid",
    "search_fts WHERE rowid",
    "search_trigram WHERE rowid",
  ].map(
    (target) =>
      `DELETE FROM ${target} IN (SELECT rowid FROM search_docs WHERE kind = 'track' AND owner_id = ?1)`,
  ),
  "DELETE FROM search_docs WHERE kind = 'track' AND owner_id = ?1",
  // Other people's playlists lose the user's tracks and stay dense, counted and revised.
  `UPDATE playlists SET revision = revision + 1, updated_at = ${NOW_MS_SQL}, item_count = (
       SELECT count(*) FROM playlist_items i WHERE i.playlist_id = playlists.id
          AND i.track_id NOT IN (SELECT id FROM tracks WHERE owner_id = ?1))
     WHERE owner_id <> ?1 AND id IN (SELECT playlist_id FROM playlist_items
          WHERE track_id IN (SELECT id FROM tracks WHERE owner_id = ?1))`,
  // New positions come from one ranking of the remaining items, computed before any changes.
  `UPDATE playlist_items SET position = ranked.position FROM (
       SELECT id, row_number() OVER (PARTITION BY playlist_id ORDER BY position) - 1 AS position
         FROM playlist_items
        WHERE track_id NOT IN (SELECT id FROM tracks WHERE owner_id = ?1)
          AND playlist_id IN (SELECT playlist_id FROM playlist_items
                WHERE track_id IN (SELECT id FROM tracks WHERE owner_id = ?1))) AS ranked
     WHERE playlist_items.id = ranked.id`,
  "DELETE FROM playlist_items WHERE track_id IN (SELECT id FROM tracks WHERE owner_id = ?1)",
  "UPDATE uploads SET duplicate_of = NULL WHERE duplicate_of IN (SELECT id FROM tracks WHERE owner_id = ?1)",
  // Uploads point at tracks: they go before the tracks, the tracks before the user.
  "DELETE FROM uploads WHERE user_id = ?1",
  "DELETE FROM tracks WHERE owner_id = ?1",
  "DELETE FROM users WHERE id = ?1",
];

/** Export of everything stored about an account, and its erasure. */
export class PrivacyService {
  constructor(
    private readonly db: Db,
    private readonly d1: D1Database,
    private readonly counters: PlayCounters,
    private readonly streams: ListenerStreamLimits,
    private readonly subscriptions: SubscriptionService,
    private readonly sweeps: StorageSweeps,
  ) {}

  /**
   * The account as JSON, streamed section by section (history can be long). Counters are
   * flushed first, so a stream counted a moment ago is in the history.
   */
  async export(viewer: Viewer, now = Date.now()): Promise<ReadableStream<Uint8Array>> {
    const profile = await this.d1
      .prepare("SELECT * FROM users WHERE id = ?")
      .bind(viewer.id)
      .first<Record<string, unknown>>();
    if (!profile) throw notFound("The account");
    const counters = await this.countersOf(viewer.id);
    await Promise.all(counters.map((c) => this.counters.flush(c.trackId, [c.shard])));
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const encoder = new TextEncoder();
    const write = (text: string) => writer.write(encoder.encode(text));
    const run = async () => {
      await write(
        `{"exportedAt":${JSON.stringify(new Date(now).toISOString())},"profile":${JSON.stringify(
          exported(profile, ["password_hash"]),
        )}`,
      );
      for (const section of EXPORT_SECTIONS) {
        await write(`,${JSON.stringify(section.name)}:[`);
        let after = 0;
        let separator = "";
        for (;;) {
          const page = await this.d1
            .prepare(section.sql)
            .bind(viewer.id, after, EXPORT_PAGE_ROWS)
            .all<Record<string, unknown>>();
          for (const row of page.results) {
            await write(separator + JSON.stringify(exported(row, section.omit ?? [])));
            separator = ",";
          }
          const last = page.results.at(-1)?.["_rowid"];
          if (page.results.length < EXPORT_PAGE_ROWS || typeof last !== "number") break;
          after = last;
        }
        await write("]");
      }
      await write("}");
      await writer.close();
    };
    run().catch(async (error: unknown) => {
      log("error", "export failed", { userId: viewer.id, error: String(error) });
      await writer.abort(error);
    });
    return readable;
  }

  /**
   * Erases the account after checking its password. The Stripe customer is deleted first,
   * which cancels its subscription (if Stripe refuses, nothing is erased); then the counters hand over and forget the
   * user's plays, one D1 batch removes every personal row, and the storage goes last.
   */
  async erase(viewer: Viewer, password: string, now = Date.now()): Promise<void> {
    const user = await this.db
      .select({ hash: users.passwordHash })
      .from(users)
      .where(eq(users.id, viewer.id))
      .get();
    const ok = await verifyPassword(password, user?.hash ?? DUMMY_PASSWORD_HASH);
    if (!user || !ok) {
      throw new DomainError("WRONG_PASSWORD", "The password is not right; nothing was erased.");
    }
    await this.subscriptions.eraseCustomer(viewer.id);
    // Sessions end now, so no new plays or edits arrive while the rest happens.
    await this.d1
      .prepare(
        "UPDATE sessions SET revoked_at = ?, revoked_reason = 'account_erased' WHERE user_id = ?",
      )
      .bind(now, viewer.id)
      .run();
    // The counters flush the user's streams to D1 (anonymised below), then drop their playbacks.
    const counters = await this.countersOf(viewer.id);
    await Promise.all(
      counters.map((c) =>
        this.counters.forget(c.trackId, c.shard, {
          version: 1,
          userId: viewer.id,
          playbackIds: c.ids,
        }),
      ),
    );
    await this.streams.forget(viewer.id);
    // The prefixes the batch records, to empty them now (only these: the cron does the rest).
    const ownTracks = await this.db
      .select({ id: tracks.id })
      .from(tracks)
      .where(eq(tracks.ownerId, viewer.id));
    await this.d1.batch(ERASE.map((sql) => this.d1.prepare(sql).bind(viewer.id)));
    await this.sweeps.runFor([`uploads/${viewer.id}/`, ...ownTracks.map((t) => `tracks/${t.id}/`)]);
    log("info", "account erased", { userId: viewer.id });
  }

  /** The counters holding the user's plays (those of their grants), with the grants' ids. */
  private async countersOf(userId: string) {
    const grants = await this.db
      .select({ id: playbacks.id, trackId: playbacks.trackId, shard: playbacks.shard })
      .from(playbacks)
      .where(eq(playbacks.userId, userId));
    const byCounter = new Map<string, { trackId: string; shard: number; ids: string[] }>();
    for (const g of grants) {
      const key = `${g.trackId}/${g.shard}`;
      const entry = byCounter.get(key) ?? { trackId: g.trackId, shard: g.shard, ids: [] };
      entry.ids.push(g.id);
      byCounter.set(key, entry);
    }
    return [...byCounter.values()];
  }
}

/** A row as the export shows it: camelCase keys, `*_at` times as ISO strings, secrets out. */
function exported(row: Record<string, unknown>, omit: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === "_rowid" || omit.includes(key)) continue;
    const name = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[name] =
      key.endsWith("_at") && typeof value === "number" ? new Date(value).toISOString() : value;
  }
  return out;
}
