import { and, asc, eq, inArray } from "drizzle-orm";
import {
  NOW_MS_SQL,
  playlistItems,
  playlists,
  trackRights,
  tracks,
  users,
  type PLAYLIST_VISIBILITIES,
} from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import { newId } from "../../lib/crypto";
import type { Db } from "../../lib/db";
import { decodeCursor, keyset, toPage, type Page, type PageQuery } from "../../lib/pagination";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import { iso } from "../catalog/catalog-access";
import { rightInForce } from "../plays/rights";
import { selectTracks, toTrackView, type TrackView } from "../catalog/track-view";
import { isTrackReadable, trackReadable } from "../catalog/visibility";
import { OWN_TRACKS, rowsOf, type PersonalData } from "../privacy/personal-data";

/** Limits: playlists per account, entries per playlist, tracks per add request. */
export const PLAYLISTS_PER_USER_MAX = 500;
export const PLAYLIST_ITEMS_MAX = 1000;
export const PLAYLIST_ADD_MAX = 100;

type PlaylistVisibility = (typeof PLAYLIST_VISIBILITIES)[number];
type PlaylistRow = typeof playlists.$inferSelect;

export type PlaylistView = {
  id: string;
  ownerId: string;
  title: string;
  description: string;
  visibility: PlaylistVisibility;
  revision: number;
  itemCount: number;
  createdAt: string;
  updatedAt: string;
};

export type UnavailableReason = "NOT_VISIBLE" | "NOT_READY" | "NOT_AVAILABLE_IN_TERRITORY";

export type PlaylistItemView = {
  id: string;
  position: number;
  addedAt: string;
  /** null when the viewer may not see the track (it stays listed, as unavailable). */
  track: TrackView | null;
  available: boolean;
  unavailableReason: UnavailableReason | null;
};

export const toPlaylistView = (p: Omit<PlaylistRow, "writeToken">): PlaylistView => ({
  id: p.id,
  ownerId: p.ownerId,
  title: p.title,
  description: p.description,
  visibility: p.visibility,
  revision: p.revision,
  itemCount: p.itemCount,
  createdAt: iso(p.createdAt),
  updatedAt: iso(p.updatedAt),
});

/** A playlist row as the revision bump returns it (camelCase, like drizzle's). */
type PlaylistColumns = Omit<PlaylistRow, "writeToken">;
const PLAYLIST_COLUMNS =
  "id, owner_id AS ownerId, title, description, visibility, revision, item_count AS itemCount, created_at AS createdAt, updated_at AS updatedAt";

/** Whether a viewer may see a playlist: public ones, and their own. */
export const playlistVisible = (
  viewer: Viewer | null,
  p: { visibility: string; ownerId: string },
) => p.visibility === "public" || p.ownerId === viewer?.id;

/** Only the statements of the change holding this token apply (see `playlists.writeToken`). */
const IF_WON = "EXISTS (SELECT 1 FROM playlists WHERE id = ? AND write_token = ?)";

/**
 * Playlists and their ordered entries. Every change is one D1 batch that first bumps the
 * revision where it is still the one the caller saw (`If-Match`, else the one just read);
 * when that matches nothing, no statement of the batch applies and the answer is 409.
 */
export class PlaylistService {
  constructor(
    private readonly db: Db,
    private readonly d1: D1Database,
  ) {}

  async create(
    viewer: Viewer,
    input: {
      title: string;
      description?: string | undefined;
      visibility?: PlaylistVisibility | undefined;
    },
  ): Promise<PlaylistView> {
    const owned = await this.db
      .select({ id: playlists.id })
      .from(playlists)
      .where(eq(playlists.ownerId, viewer.id))
      .limit(PLAYLISTS_PER_USER_MAX);
    if (owned.length >= PLAYLISTS_PER_USER_MAX) {
      throw new DomainError(
        "PLAYLIST_LIMIT",
        `An account can have at most ${PLAYLISTS_PER_USER_MAX} playlists.`,
      );
    }
    const now = Date.now();
    const [row] = await this.db
      .insert(playlists)
      .values({
        id: newId("pl"),
        ownerId: viewer.id,
        title: input.title,
        description: input.description ?? "",
        visibility: input.visibility ?? "private",
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!row) throw new Error("playlist insert returned nothing");
    return toPlaylistView(row);
  }

  /** A user's playlists, newest first: all of them for the owner, public ones for others. */
  async listOf(
    viewer: Viewer | null,
    userId: string,
    page: PageQuery,
  ): Promise<Page<PlaylistView>> {
    const user = await this.db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.id, userId))
      .get();
    if (!user) throw notFound("The user");
    const { where, orderBy } = keyset(
      playlists.createdAt,
      "desc",
      playlists.id,
      decodeCursor(page.cursor),
    );
    const rows = await this.db
      .select()
      .from(playlists)
      .where(
        and(
          eq(playlists.ownerId, userId),
          viewer?.id === userId ? undefined : eq(playlists.visibility, "public"),
          where,
        ),
      )
      .orderBy(...orderBy)
      .limit(page.limit + 1);
    return toPage(rows, page.limit, (p) => [p.createdAt, p.id], toPlaylistView);
  }

  /** A playlist with its entries; each says whether the viewer can play it where they are. */
  async get(
    viewer: Viewer | null,
    id: string,
    territory: string | null,
  ): Promise<PlaylistView & { items: PlaylistItemView[] }> {
    const playlist = await this.visible(viewer, id);
    const now = Date.now();
    const [entries, rows, licensed] = await Promise.all([
      this.db
        .select()
        .from(playlistItems)
        .where(eq(playlistItems.playlistId, id))
        .orderBy(asc(playlistItems.position)),
      selectTracks(this.db)
        .innerJoin(playlistItems, eq(playlistItems.trackId, tracks.id))
        .where(eq(playlistItems.playlistId, id)),
      this.db
        .selectDistinct({ trackId: trackRights.trackId })
        .from(trackRights)
        .innerJoin(playlistItems, eq(playlistItems.trackId, trackRights.trackId))
        .where(and(eq(playlistItems.playlistId, id), rightInForce("stream", territory, now))),
    ]);
    const byId = new Map(rows.map((r) => [r.track.id, r]));
    const streamable = new Set(licensed.map((l) => l.trackId));
    const items = entries.map((entry): PlaylistItemView => {
      const row = byId.get(entry.trackId);
      const base = { id: entry.id, position: entry.position, addedAt: iso(entry.addedAt) };
      if (!row || !isTrackReadable(viewer, row.track)) {
        return { ...base, track: null, available: false, unavailableReason: "NOT_VISIBLE" };
      }
      // The same rules as a playback grant: ready, and a public track needs a stream right here.
      const reason: UnavailableReason | null =
        row.track.status !== "ready"
          ? "NOT_READY"
          : row.track.visibility === "public" && !streamable.has(row.track.id)
            ? "NOT_AVAILABLE_IN_TERRITORY"
            : null;
      return { ...base, track: toTrackView(row), available: !reason, unavailableReason: reason };
    });
    return { ...toPlaylistView(playlist), items };
  }

  async update(
    viewer: Viewer,
    id: string,
    patch: {
      title?: string | undefined;
      description?: string | undefined;
      visibility?: PlaylistVisibility | undefined;
    },
    ifMatch: number | null,
  ): Promise<PlaylistView> {
    const playlist = await this.owned(viewer, id);
    const set: string[] = [];
    const values: unknown[] = [];
    for (const [column, value] of [
      ["title", patch.title],
      ["description", patch.description],
      ["visibility", patch.visibility],
    ] as const) {
      if (value !== undefined) {
        set.push(`${column} = ?`);
        values.push(value);
      }
    }
    return toPlaylistView(await this.change(playlist, ifMatch, { set: set.join(", "), values }));
  }

  async remove(viewer: Viewer, id: string, ifMatch: number | null): Promise<void> {
    const playlist = await this.owned(viewer, id);
    const gone = await this.d1
      .prepare("DELETE FROM playlists WHERE id = ? AND revision = ?")
      .bind(id, ifMatch ?? playlist.revision)
      .run();
    if (!gone.meta.changes) throw conflict();
  }

  /** Inserts tracks at `position` (default: the end), in the order given. */
  async addTracks(
    viewer: Viewer,
    id: string,
    trackIds: string[],
    position: number | undefined,
    ifMatch: number | null,
  ): Promise<PlaylistView> {
    const playlist = await this.owned(viewer, id);
    const at = position ?? playlist.itemCount;
    if (at > playlist.itemCount) throw badPosition(playlist.itemCount);
    if (playlist.itemCount + trackIds.length > PLAYLIST_ITEMS_MAX) {
      throw new DomainError(
        "PLAYLIST_FULL",
        `A playlist holds at most ${PLAYLIST_ITEMS_MAX} tracks; this one has ${playlist.itemCount}.`,
      );
    }
    const unique = [...new Set(trackIds)];
    const found = await this.db
      .select({ id: tracks.id })
      .from(tracks)
      .where(and(inArray(tracks.id, unique), trackReadable(viewer)));
    const missing = unique.filter((t) => !found.some((f) => f.id === t));
    if (missing.length) throw notFound(`The track ${missing.join(", ")}`);
    const entries = trackIds.map((t) => ({ id: newId("pli"), t }));
    const token = crypto.randomUUID();
    const updated = await this.change(playlist, ifMatch, { token, countDelta: trackIds.length }, [
      this.d1
        .prepare(
          `UPDATE playlist_items SET position = position + ? WHERE playlist_id = ? AND position >= ? AND ${IF_WON}`,
        )
        .bind(trackIds.length, id, at, id, token),
      this.d1
        .prepare(
          `INSERT INTO playlist_items (id, playlist_id, track_id, position, added_at)
           SELECT json_extract(j.value, '$.id'), ?, json_extract(j.value, '$.t'), ? + j.key, ?
           FROM json_each(?) AS j WHERE ${IF_WON}`,
        )
        .bind(id, at, Date.now(), JSON.stringify(entries), id, token),
    ]);
    return toPlaylistView(updated);
  }

  async removeItem(
    viewer: Viewer,
    id: string,
    itemId: string,
    ifMatch: number | null,
  ): Promise<PlaylistView> {
    const playlist = await this.owned(viewer, id);
    const item = await this.item(id, itemId);
    const token = crypto.randomUUID();
    const updated = await this.change(playlist, ifMatch, { token, countDelta: -1 }, [
      this.d1
        .prepare(`DELETE FROM playlist_items WHERE id = ? AND ${IF_WON}`)
        .bind(itemId, id, token),
      this.d1
        .prepare(
          `UPDATE playlist_items SET position = position - 1 WHERE playlist_id = ? AND position > ? AND ${IF_WON}`,
        )
        .bind(id, item.position, id, token),
    ]);
    return toPlaylistView(updated);
  }

  /** Moves one entry to `to`; the entries between shift by one to make room. */
  async moveItem(
    viewer: Viewer,
    id: string,
    itemId: string,
    to: number,
    ifMatch: number | null,
  ): Promise<PlaylistView> {
    const playlist = await this.owned(viewer, id);
    const item = await this.item(id, itemId);
    if (to >= playlist.itemCount) throw badPosition(playlist.itemCount - 1);
    const from = item.position;
    const token = crypto.randomUUID();
    const shift =
      to > from
        ? this.d1
            .prepare(
              `UPDATE playlist_items SET position = position - 1 WHERE playlist_id = ? AND position > ? AND position <= ? AND ${IF_WON}`,
            )
            .bind(id, from, to, id, token)
        : this.d1
            .prepare(
              `UPDATE playlist_items SET position = position + 1 WHERE playlist_id = ? AND position >= ? AND position < ? AND ${IF_WON}`,
            )
            .bind(id, to, from, id, token);
    const updated = await this.change(playlist, ifMatch, { token }, [
      shift,
      this.d1
        .prepare(`UPDATE playlist_items SET position = ? WHERE id = ? AND ${IF_WON}`)
        .bind(to, itemId, id, token),
    ]);
    return toPlaylistView(updated);
  }

  /**
   * Runs one change: bump the revision (and item count, and `set`) where it is still the
   * expected one, then `statements`, which check the write token; 409 if the bump missed.
   * Returns the playlist as the bump left it.
   */
  private async change(
    playlist: PlaylistRow,
    ifMatch: number | null,
    bumpWith: { token?: string; countDelta?: number; set?: string; values?: unknown[] },
    statements: D1PreparedStatement[] = [],
  ): Promise<PlaylistColumns> {
    const { token = crypto.randomUUID(), countDelta = 0, set = "", values = [] } = bumpWith;
    if (ifMatch !== null && ifMatch !== playlist.revision) throw conflict();
    const bump = this.d1
      .prepare(
        `UPDATE playlists SET revision = revision + 1, write_token = ?, item_count = item_count + ?, updated_at = ?${set ? `, ${set}` : ""}
         WHERE id = ? AND revision = ?
         RETURNING ${PLAYLIST_COLUMNS}`,
      )
      .bind(token, countDelta, Date.now(), ...values, playlist.id, playlist.revision);
    const [first] = await this.d1.batch([bump, ...statements]);
    const updated = (first?.results as PlaylistColumns[] | undefined)?.[0];
    if (!updated) throw conflict();
    return updated;
  }

  /** The playlist if the viewer may see it (public, or theirs); else 404. */
  private async visible(viewer: Viewer | null, id: string): Promise<PlaylistRow> {
    const row = await this.db.select().from(playlists).where(eq(playlists.id, id)).get();
    if (!row || !playlistVisible(viewer, row)) {
      throw notFound("The playlist");
    }
    return row;
  }

  /** The viewer's own playlist; someone else's public one is 403, a private one 404. */
  private async owned(viewer: Viewer, id: string): Promise<PlaylistRow> {
    const row = await this.visible(viewer, id);
    if (row.ownerId !== viewer.id) {
      throw new DomainError("NOT_PLAYLIST_OWNER", "Only its owner can change a playlist.");
    }
    return row;
  }

  private async item(playlistId: string, itemId: string) {
    const item = await this.db
      .select()
      .from(playlistItems)
      .where(and(eq(playlistItems.id, itemId), eq(playlistItems.playlistId, playlistId)))
      .get();
    if (!item) throw notFound("The playlist entry");
    return item;
  }
}

const conflict = () =>
  new DomainError(
    "REVISION_CONFLICT",
    "The playlist changed since you read it; load it again and retry.",
  );

const badPosition = (max: number) =>
  new DomainError("INVALID_POSITION", `position must be between 0 and ${Math.max(0, max)}.`);

/**
 * Own playlists and their items are exported (not the write token). Other people's playlists
 * lose the account's tracks in an erasure and stay dense, counted and revised.
 */
export const PLAYLIST_PERSONAL_DATA: PersonalData = {
  export: [
    { name: "playlists", sql: rowsOf("playlists", "owner_id"), omit: ["write_token"] },
    {
      name: "playlistItems",
      sql: `SELECT i.rowid AS _rowid, i.* FROM playlist_items i JOIN playlists p ON p.id = i.playlist_id
          WHERE p.owner_id = ?1 AND i.rowid > ?2 ORDER BY i.rowid LIMIT ?3`,
    },
  ],
  erase: [
    `UPDATE playlists SET revision = revision + 1, updated_at = ${NOW_MS_SQL}, item_count = (
       SELECT count(*) FROM playlist_items i WHERE i.playlist_id = playlists.id
          AND i.track_id NOT IN (${OWN_TRACKS}))
     WHERE owner_id <> ?1 AND id IN (SELECT playlist_id FROM playlist_items
          WHERE track_id IN (${OWN_TRACKS}))`,
    // New positions come from one ranking of the remaining items, computed before any changes.
    `UPDATE playlist_items SET position = ranked.position FROM (
       SELECT id, row_number() OVER (PARTITION BY playlist_id ORDER BY position) - 1 AS position
         FROM playlist_items
        WHERE track_id NOT IN (${OWN_TRACKS})
          AND playlist_id IN (SELECT playlist_id FROM playlist_items
                WHERE track_id IN (${OWN_TRACKS}))) AS ranked
     WHERE playlist_items.id = ranked.id`,
    `DELETE FROM playlist_items WHERE track_id IN (${OWN_TRACKS})`,
  ],
};
