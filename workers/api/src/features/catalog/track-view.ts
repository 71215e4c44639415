import {
  albums,
  artists,
  genres,
  tracks,
  type TrackStatus,
  type Visibility,
} from "@edge-music/core/db/schema";
import { eq } from "drizzle-orm";
import type { Db } from "../../lib/db";
import { iso } from "./catalog-access";

/** The columns every track listing selects, joined to its artist, album and genre. */
const trackColumns = {
  track: tracks,
  artistName: artists.name,
  albumTitle: albums.title,
  genreName: genres.name,
};

/** A track query with its artist, album and genre joined; add `.where(...)` and order. */
export function selectTracks(db: Db) {
  return db
    .select(trackColumns)
    .from(tracks)
    .innerJoin(artists, eq(artists.id, tracks.artistId))
    .leftJoin(albums, eq(albums.id, tracks.albumId))
    .leftJoin(genres, eq(genres.id, tracks.genreId));
}

export type TrackRow = {
  track: typeof tracks.$inferSelect;
  artistName: string;
  albumTitle: string | null;
  genreName: string | null;
};

export type TrackView = {
  id: string;
  title: string;
  artist: { id: string; name: string };
  album: { id: string; title: string } | null;
  trackNumber: number | null;
  durationMs: number | null;
  genre: { id: string; name: string } | null;
  isrc: string | null;
  releaseDate: string | null;
  explicit: boolean;
  visibility: Visibility;
  status: TrackStatus;
  ownerId: string;
  createdAt: string;
  updatedAt: string;
};

export function toTrackView(row: TrackRow): TrackView {
  const t = row.track;
  return {
    id: t.id,
    title: t.title,
    artist: { id: t.artistId, name: row.artistName },
    album: t.albumId && row.albumTitle !== null ? { id: t.albumId, title: row.albumTitle } : null,
    trackNumber: t.trackNumber,
    durationMs: t.durationMs,
    genre: t.genreId && row.genreName !== null ? { id: t.genreId, name: row.genreName } : null,
    isrc: t.isrc,
    releaseDate: t.releaseDate,
    explicit: t.explicit,
    visibility: t.visibility,
    status: t.status,
    ownerId: t.ownerId,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
  };
}
