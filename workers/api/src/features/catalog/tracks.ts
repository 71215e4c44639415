import { and, eq, ne } from "drizzle-orm";
import { albums, artists, tracks, type Visibility } from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import { newId } from "../../lib/crypto";
import { runBatch, type Db } from "../../lib/db";
import type { Patch } from "../../lib/pagination";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import { requireArtistManager, requireCatalogEditor } from "./catalog-access";
import type { GenreService } from "./genres";
import { indexQueries, popularityQueries, trackDoc } from "../search/search-index";
import { selectTracks, toTrackView, type TrackView } from "./track-view";
import { trackReadable } from "./visibility";
import { ALBUM_TRACKS_MAX } from "./albums";
import { rowsOf, type PersonalData } from "../privacy/personal-data";

export type TrackInput = {
  title: string;
  artistId: string;
  albumId?: string | null | undefined;
  trackNumber?: number | null | undefined;
  durationMs?: number | null | undefined;
  genre?: string | null | undefined;
  isrc?: string | null | undefined;
  releaseDate?: string | null | undefined;
  explicit?: boolean | undefined;
  visibility?: Visibility | undefined;
};

export type TrackPatch = Patch<Omit<TrackInput, "artistId">>;

type TrackRow = typeof tracks.$inferSelect;

/** Tracks: private ones exist only for their owner; everyone else gets 404. */
export class TrackService {
  constructor(
    private readonly db: Db,
    private readonly genres: GenreService,
  ) {}

  async get(viewer: Viewer | null, id: string): Promise<TrackView> {
    const row = await selectTracks(this.db)
      .where(and(eq(tracks.id, id), trackReadable(viewer)))
      .get();
    if (!row) throw notFound("The track");
    return toTrackView(row);
  }

  async create(viewer: Viewer | null, input: TrackInput): Promise<TrackView> {
    const editor = requireCatalogEditor(viewer);
    const artist = await this.db.select().from(artists).where(eq(artists.id, input.artistId)).get();
    if (!artist) throw notFound("The artist");
    requireArtistManager(editor, artist);
    const now = Date.now();
    const row: TrackRow = {
      id: newId("trk"),
      title: input.title,
      artistId: artist.id,
      albumId: null,
      trackNumber: input.trackNumber ?? null,
      durationMs: input.durationMs ?? null,
      genreId: null,
      isrc: input.isrc ?? null,
      releaseDate: input.releaseDate ?? null,
      explicit: input.explicit ?? false,
      visibility: input.visibility ?? "public",
      // The artist's account owns the track even when an admin files it.
      ownerId: artist.ownerId ?? editor.id,
      status: "pending",
      assetVersionId: null,
      fingerprint: null,
      popularity: 0,
      createdAt: now,
      updatedAt: now,
    };
    await this.write(row, input, artist.name, true);
    return this.get(editor, row.id);
  }

  async update(viewer: Viewer | null, id: string, patch: TrackPatch): Promise<TrackView> {
    const editor = requireCatalogEditor(viewer);
    const current = await this.db
      .select()
      .from(tracks)
      .where(and(eq(tracks.id, id), trackReadable(editor)))
      .get();
    if (!current) throw notFound("The track");
    const artist = await this.db
      .select()
      .from(artists)
      .where(eq(artists.id, current.artistId))
      .get();
    if (!artist) throw notFound("The artist");
    if (current.ownerId !== editor.id) requireArtistManager(editor, artist);
    const next: TrackRow = {
      ...current,
      title: patch.title ?? current.title,
      trackNumber: patch.trackNumber === undefined ? current.trackNumber : patch.trackNumber,
      durationMs: patch.durationMs === undefined ? current.durationMs : patch.durationMs,
      isrc: patch.isrc === undefined ? current.isrc : patch.isrc,
      releaseDate: patch.releaseDate === undefined ? current.releaseDate : patch.releaseDate,
      explicit: patch.explicit ?? current.explicit,
      visibility: patch.visibility ?? current.visibility,
      updatedAt: Date.now(),
    };
    await this.write(next, { ...patch, artistId: current.artistId }, artist.name, false);
    return this.get(editor, id);
  }

  /**
   * Sets a track's counted streams, in the catalog and in the search index. The plays
   * pipeline calls this when it rolls streams up.
   */
  async setPopularity(trackId: string, popularity: number): Promise<void> {
    await runBatch(this.db, [
      this.db.update(tracks).set({ popularity }).where(eq(tracks.id, trackId)),
      ...popularityQueries(this.db, "track", trackId, popularity),
    ]);
  }

  /** Validates references, then writes the row, its genre and its search entry in one batch. */
  private async write(
    row: TrackRow,
    input: Patch<TrackInput>,
    artistName: string,
    isNew: boolean,
  ): Promise<void> {
    let albumTitle: string | null = null;
    if (input.albumId !== undefined) row.albumId = input.albumId;
    if (row.albumId) {
      const album = await this.db.select().from(albums).where(eq(albums.id, row.albumId)).get();
      if (!album) throw notFound("The album");
      if (album.artistId !== row.artistId) {
        throw new DomainError("ALBUM_ARTIST_MISMATCH", "The album belongs to another artist.");
      }
      albumTitle = album.title;
      await this.checkAlbumRoom(row.albumId, row.id);
    }
    if (row.isrc) await this.checkIsrcFree(row.isrc, row.id);
    const genre = input.genre ? this.genres.upsert(input.genre) : null;
    if (input.genre !== undefined) row.genreId = genre?.id ?? null;
    await runBatch(this.db, [
      ...(genre ? [genre.query] : []),
      isNew
        ? this.db.insert(tracks).values(row)
        : this.db.update(tracks).set(row).where(eq(tracks.id, row.id)),
      ...indexQueries(this.db, trackDoc(row, artistName, albumTitle)),
    ]);
  }

  private async checkIsrcFree(isrc: string, trackId: string): Promise<void> {
    const taken = await this.db
      .select({ id: tracks.id })
      .from(tracks)
      .where(and(eq(tracks.isrc, isrc), ne(tracks.id, trackId)))
      .get();
    if (taken) throw new DomainError("ISRC_TAKEN", `Another track already has ISRC ${isrc}.`);
  }

  private async checkAlbumRoom(albumId: string, trackId: string): Promise<void> {
    const count = await this.db.$count(
      tracks,
      and(eq(tracks.albumId, albumId), ne(tracks.id, trackId)),
    );
    if (count >= ALBUM_TRACKS_MAX) {
      throw new DomainError("ALBUM_FULL", `An album holds at most ${ALBUM_TRACKS_MAX} tracks.`);
    }
  }
}

export const TRACK_PERSONAL_DATA: PersonalData = {
  export: [{ name: "tracks", sql: rowsOf("tracks", "owner_id") }],
  erase: ["DELETE FROM tracks WHERE owner_id = ?1"],
};
