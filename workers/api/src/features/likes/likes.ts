import { and, desc, eq, inArray, sql } from "drizzle-orm";
import {
  albums,
  artists,
  likes,
  playlists,
  tracks,
  type LikeKind,
} from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import type { Db } from "../../lib/db";
import { decodeCursor, keyset, toPage, type Page, type PageQuery } from "../../lib/pagination";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import { selectAlbums, toAlbumView, type AlbumView } from "../catalog/album-view";
import { toArtistView, type ArtistView } from "../catalog/artists";
import { iso } from "../catalog/catalog-access";
import { playlistVisible, toPlaylistView, type PlaylistView } from "../playlists/playlists";
import { selectTracks, toTrackView, type TrackView } from "../catalog/track-view";
import { isTrackReadable } from "../catalog/visibility";
import { OWN_TRACKS, rowsOf, type PersonalData } from "../privacy/personal-data";

/** Likes one account may hold, all kinds together. */
export const LIKES_PER_USER_MAX = 10_000;

/** What a like of each kind shows of the liked thing. */
type ViewOf = { track: TrackView; album: AlbumView; artist: ArtistView; playlist: PlaylistView };
export type LikedItem = ViewOf[LikeKind];
export type LikeView<I extends LikedItem = LikedItem> = {
  type: LikeKind;
  id: string;
  likedAt: string;
  /** null when the viewer can no longer see it (it stays in the list). */
  item: I | null;
};

/** Likes of tracks, albums, artists and playlists, and the library built on them. */
export class LikeService {
  constructor(private readonly db: Db) {}

  /** Idempotent; only what the viewer can see may be liked (anything else is 404). */
  async like(viewer: Viewer, kind: LikeKind, id: string): Promise<void> {
    const item = (await this.views(viewer, kind, [id])).get(id);
    if (!item) throw notFound(`The ${kind}`);
    const count = await this.db
      .select({ n: sql<number>`count(*)` })
      .from(likes)
      .where(eq(likes.userId, viewer.id))
      .get();
    if ((count?.n ?? 0) >= LIKES_PER_USER_MAX) {
      throw new DomainError("LIKE_LIMIT", `An account can hold ${LIKES_PER_USER_MAX} likes.`);
    }
    await this.db
      .insert(likes)
      .values({ userId: viewer.id, kind, refId: id, createdAt: Date.now() })
      .onConflictDoNothing();
  }

  async unlike(viewer: Viewer, kind: LikeKind, id: string): Promise<void> {
    await this.db
      .delete(likes)
      .where(and(eq(likes.userId, viewer.id), eq(likes.kind, kind), eq(likes.refId, id)));
  }

  /** The viewer's likes of one kind, newest first. */
  async list<K extends LikeKind>(
    viewer: Viewer,
    kind: K,
    page: PageQuery,
  ): Promise<Page<LikeView<ViewOf[K]>>> {
    const { where, orderBy } = keyset(
      likes.createdAt,
      "desc",
      likes.refId,
      decodeCursor(page.cursor),
    );
    const rows = await this.db
      .select()
      .from(likes)
      .where(and(eq(likes.userId, viewer.id), eq(likes.kind, kind), where))
      .orderBy(...orderBy)
      .limit(page.limit + 1);
    const views = await this.views(
      viewer,
      kind,
      rows.slice(0, page.limit).map((r) => r.refId),
    );
    return toPage(
      rows,
      page.limit,
      (r) => [r.createdAt, r.refId],
      (r) => ({
        type: kind,
        id: r.refId,
        likedAt: iso(r.createdAt),
        item: views.get(r.refId) ?? null,
      }),
    );
  }

  /**
   * The library at a glance: the newest few of each kind of like, the caller's own uploads
   * and playlists, with how many there are of each (the full lists page from their endpoints).
   */
  async library(viewer: Viewer, perSection: number) {
    const first = { limit: perSection };
    const [liked, counts, uploads, uploadCount, ownPlaylists, playlistCount] = await Promise.all([
      Promise.all([
        this.list(viewer, "track", first),
        this.list(viewer, "album", first),
        this.list(viewer, "artist", first),
        this.list(viewer, "playlist", first),
      ]),
      this.db
        .select({ kind: likes.kind, n: sql<number>`count(*)` })
        .from(likes)
        .where(eq(likes.userId, viewer.id))
        .groupBy(likes.kind),
      selectTracks(this.db)
        .where(eq(tracks.ownerId, viewer.id))
        .orderBy(desc(tracks.createdAt), desc(tracks.id))
        .limit(perSection),
      this.db
        .select({ n: sql<number>`count(*)` })
        .from(tracks)
        .where(eq(tracks.ownerId, viewer.id))
        .get(),
      this.db
        .select()
        .from(playlists)
        .where(eq(playlists.ownerId, viewer.id))
        .orderBy(desc(playlists.createdAt), desc(playlists.id))
        .limit(perSection),
      this.db
        .select({ n: sql<number>`count(*)` })
        .from(playlists)
        .where(eq(playlists.ownerId, viewer.id))
        .get(),
    ]);
    const countOf = (kind: LikeKind) => counts.find((c) => c.kind === kind)?.n ?? 0;
    const section = <T>(items: T[], total: number) => ({ total, items });
    const [likedTracks, likedAlbums, likedArtists, likedPlaylists] = liked;
    return {
      likedTracks: section(likedTracks.items, countOf("track")),
      likedAlbums: section(likedAlbums.items, countOf("album")),
      likedArtists: section(likedArtists.items, countOf("artist")),
      likedPlaylists: section(likedPlaylists.items, countOf("playlist")),
      uploads: section(uploads.map(toTrackView), uploadCount?.n ?? 0),
      playlists: section(ownPlaylists.map(toPlaylistView), playlistCount?.n ?? 0),
    };
  }

  /** Views of the given ids the viewer may see, by id (at most a page of ids). */
  private async views<K extends LikeKind>(
    viewer: Viewer,
    kind: K,
    ids: string[],
  ): Promise<Map<string, ViewOf[K]>> {
    // Each case below makes the view of its own kind; TypeScript cannot follow K into it.
    return (await this.viewsOfKind(viewer, kind, ids)) as Map<string, ViewOf[K]>;
  }

  private async viewsOfKind(
    viewer: Viewer,
    kind: LikeKind,
    ids: string[],
  ): Promise<Map<string, LikedItem>> {
    if (!ids.length) return new Map();
    switch (kind) {
      case "track": {
        const rows = await selectTracks(this.db).where(inArray(tracks.id, ids));
        return new Map(
          rows
            .filter((r) => isTrackReadable(viewer, r.track))
            .map((r) => [r.track.id, toTrackView(r)]),
        );
      }
      case "album": {
        const rows = await selectAlbums(this.db).where(inArray(albums.id, ids));
        return new Map(
          rows.map((r) => [r.album.id, toAlbumView(r.album, r.artistName, r.genreName)]),
        );
      }
      case "artist": {
        const rows = await this.db.select().from(artists).where(inArray(artists.id, ids));
        return new Map(rows.map((a) => [a.id, toArtistView(a)]));
      }
      case "playlist": {
        const rows = await this.db.select().from(playlists).where(inArray(playlists.id, ids));
        return new Map(
          rows.filter((p) => playlistVisible(viewer, p)).map((p) => [p.id, toPlaylistView(p)]),
        );
      }
    }
  }
}

/** The account's likes are exported; an erasure removes other people's likes of its things. */
export const LIKE_PERSONAL_DATA: PersonalData = {
  export: [{ name: "likes", sql: rowsOf("likes", "user_id") }],
  erase: [
    `DELETE FROM likes WHERE (kind = 'track' AND ref_id IN (${OWN_TRACKS}))
     OR (kind = 'playlist' AND ref_id IN (SELECT id FROM playlists WHERE owner_id = ?1))`,
  ],
};
