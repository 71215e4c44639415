import { eq } from "drizzle-orm";
import { albums, artists, genres } from "@edge-music/core/db/schema";
import type { Db } from "../../lib/db";
import { iso } from "./catalog-access";

/** An album query with its artist's name and genre joined; add `.where(...)`. */
export function selectAlbums(db: Db) {
  return db
    .select({ album: albums, artistName: artists.name, genreName: genres.name })
    .from(albums)
    .innerJoin(artists, eq(artists.id, albums.artistId))
    .leftJoin(genres, eq(genres.id, albums.genreId));
}

export type AlbumView = {
  id: string;
  title: string;
  artist: { id: string; name: string };
  releaseDate: string | null;
  genre: { id: string; name: string } | null;
  createdAt: string;
  updatedAt: string;
};

export function toAlbumView(
  album: typeof albums.$inferSelect,
  artistName: string,
  genreName: string | null,
): AlbumView {
  return {
    id: album.id,
    title: album.title,
    artist: { id: album.artistId, name: artistName },
    releaseDate: album.releaseDate,
    genre: album.genreId && genreName !== null ? { id: album.genreId, name: genreName } : null,
    createdAt: iso(album.createdAt),
    updatedAt: iso(album.updatedAt),
  };
}
