import { eq } from "drizzle-orm";
import { playbacks, tracks, users } from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import type { Db } from "../../lib/db";
import { log } from "../../lib/log";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../../lib/password";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import type { ListenerStreamLimits } from "../playback/listener-streams";
import type { PlayCounters } from "../plays/play-counters";
import { ARTIST_PERSONAL_DATA } from "../catalog/artists";
import { AUTH_PERSONAL_DATA } from "../accounts/auth";
import { LIKE_PERSONAL_DATA } from "../likes/likes";
import { PLAYBACK_PERSONAL_DATA } from "../playback/playback";
import { LICENSE_PERSONAL_DATA } from "../playback/licenses";
import { PLAYLIST_PERSONAL_DATA } from "../playlists/playlists";
import { PLAYS_PERSONAL_DATA } from "../plays/plays";
import { RECOMMENDATION_PERSONAL_DATA } from "../recommendations/recommendations";
import { RIGHTS_PERSONAL_DATA } from "../plays/rights";
import { SEARCH_PERSONAL_DATA } from "../search/search-index";
import { STORAGE_PERSONAL_DATA, type StorageSweeps } from "../uploads/storage-sweeps";
import { TRACK_PERSONAL_DATA } from "../catalog/tracks";
import { UPLOAD_PERSONAL_DATA } from "../uploads/uploads";
import {
  SUBSCRIPTION_PERSONAL_DATA,
  type SubscriptionService,
} from "../subscriptions/subscriptions";

/** Rows read per D1 query while an export streams out. */
const EXPORT_PAGE_ROWS = 500;

/**
 * What the export lists, feature by feature, in this order; each feature states its own
 * tables and leaves secrets out (the password hash, refresh token hashes, a playlist's write
 * token).
 */
const EXPORT_SECTIONS = [
  AUTH_PERSONAL_DATA,
  SUBSCRIPTION_PERSONAL_DATA,
  PLAYLIST_PERSONAL_DATA,
  LIKE_PERSONAL_DATA,
  PLAYS_PERSONAL_DATA,
  PLAYBACK_PERSONAL_DATA,
  LICENSE_PERSONAL_DATA,
  UPLOAD_PERSONAL_DATA,
  TRACK_PERSONAL_DATA,
  ARTIST_PERSONAL_DATA,
  RIGHTS_PERSONAL_DATA,
].flatMap((data) => data.export ?? []);

/**
 * Erasure, in one D1 batch, each feature's statements in this order: history is anonymised
 * and the storage prefixes recorded first (while the rows that name them exist), then what
 * points at the account's tracks and playlists, then the uploads, the tracks and last the
 * account, whose deletion cascades to sessions, refresh tokens, playlists and their items,
 * likes, grants and the subscription. Times come from D1's clock, as column defaults do.
 */
const ERASE = [
  PLAYS_PERSONAL_DATA,
  STORAGE_PERSONAL_DATA,
  LIKE_PERSONAL_DATA,
  RECOMMENDATION_PERSONAL_DATA,
  SEARCH_PERSONAL_DATA,
  PLAYLIST_PERSONAL_DATA,
  UPLOAD_PERSONAL_DATA,
  TRACK_PERSONAL_DATA,
  AUTH_PERSONAL_DATA,
].flatMap((data) => data.erase ?? []);

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
function exported(row: Record<string, unknown>, omit: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === "_rowid" || omit.includes(key)) continue;
    const name = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[name] =
      key.endsWith("_at") && typeof value === "number" ? new Date(value).toISOString() : value;
  }
  return out;
}
