import type { albums } from "@edge-music/core/db/schema";
import { iso } from "./catalog-access";

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
