import { and, asc, eq, sql } from "drizzle-orm";
import { albums, artists, tracks } from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import { newId } from "../../lib/crypto";
import { runBatch, type Db, type Query } from "../../lib/db";
import type { Patch } from "../../lib/pagination";
import { notFound } from "../../lib/problem";
import { selectAlbums, toAlbumView, type AlbumView } from "./album-view";
import { requireArtistManager, requireCatalogEditor } from "./catalog-access";
import type { GenreService } from "./genres";
import { albumDoc, indexQueries, trackDoc } from "../search/search-index";
import { selectTracks, toTrackView, type TrackView } from "./track-view";
import { trackListed } from "./visibility";

/** Tracks one album may hold; keeps the tracklist a single bounded read. */
export const ALBUM_TRACKS_MAX = 200;

export type AlbumInput = {
  artistId: string;
  title: string;
  releaseDate?: string | undefined;
  genre?: string | undefined;
};

export type AlbumWithTracks = AlbumView & { tracks: TrackView[] };

type AlbumRow = typeof albums.$inferSelect;

/** Albums: reads for everyone, writes for admins and the owning artist account. */
export class AlbumService {
  constructor(
    private readonly db: Db,
    private readonly genres: GenreService,
  ) {}

  /** The album with its tracklist in order, hiding tracks the viewer may not list. */
  async get(viewer: Viewer | null, id: string): Promise<AlbumWithTracks> {
    const row = await selectAlbums(this.db).where(eq(albums.id, id)).get();
    if (!row) throw notFound("The album");
    const trackRows = await selectTracks(this.db)
      .where(and(eq(tracks.albumId, id), trackListed(viewer)))
      .orderBy(sql`${tracks.trackNumber} IS NULL`, asc(tracks.trackNumber), asc(tracks.id))
      .limit(ALBUM_TRACKS_MAX);
    return {
      ...toAlbumView(row.album, row.artistName, row.genreName),
      tracks: trackRows.map(toTrackView),
    };
  }

  async create(viewer: Viewer | null, input: AlbumInput): Promise<AlbumWithTracks> {
    const editor = requireCatalogEditor(viewer);
    const artist = await this.artist(input.artistId);
    requireArtistManager(editor, artist);
    const genre = input.genre === undefined ? null : this.genres.upsert(input.genre);
    const now = Date.now();
    const row: AlbumRow = {
      id: newId("alb"),
      artistId: artist.id,
      title: input.title,
      releaseDate: input.releaseDate ?? null,
      genreId: genre?.id ?? null,
      popularity: 0,
      createdAt: now,
      updatedAt: now,
    };
    await runBatch(this.db, [
      ...(genre ? [genre.query] : []),
      this.db.insert(albums).values(row),
      ...indexQueries(this.db, albumDoc(row, artist.name)),
    ]);
    return this.get(editor, row.id);
  }

  async update(
    viewer: Viewer | null,
    id: string,
    patch: Patch<Omit<AlbumInput, "artistId">>,
  ): Promise<AlbumWithTracks> {
    const editor = requireCatalogEditor(viewer);
    const current = await this.db.select().from(albums).where(eq(albums.id, id)).get();
    if (!current) throw notFound("The album");
    const artist = await this.artist(current.artistId);
    requireArtistManager(editor, artist);
    const genre = patch.genre === undefined ? null : this.genres.upsert(patch.genre);
    const next: AlbumRow = {
      ...current,
      title: patch.title ?? current.title,
      releaseDate: patch.releaseDate ?? current.releaseDate,
      genreId: genre?.id ?? current.genreId,
      updatedAt: Date.now(),
    };
    const queries: Query[] = [
      ...(genre ? [genre.query] : []),
      this.db.update(albums).set(next).where(eq(albums.id, id)),
      ...indexQueries(this.db, albumDoc(next, artist.name)),
    ];
    if (next.title !== current.title) {
      queries.push(...(await this.reindexTracks(id, artist.name, next.title)));
    }
    await runBatch(this.db, queries);
    return this.get(editor, id);
  }

  private async artist(id: string) {
    const artist = await this.db.select().from(artists).where(eq(artists.id, id)).get();
    if (!artist) throw notFound("The artist");
    return artist;
  }

  /** An album's title is context in its tracks' search entries. */
  private async reindexTracks(albumId: string, artistName: string, albumTitle: string) {
    const rows = await this.db.select().from(tracks).where(eq(tracks.albumId, albumId));
    return rows.flatMap((t) => indexQueries(this.db, trackDoc(t, artistName, albumTitle)));
  }
}
