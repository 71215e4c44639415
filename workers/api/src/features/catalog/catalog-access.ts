import type { Viewer } from "../../app-env";
import { DomainError } from "@edge-music/core/api-errors";

/** Only artists and admins edit the catalog; anonymous callers must sign in first. */
export function requireCatalogEditor(viewer: Viewer | null): Viewer {
  if (!viewer) throw new DomainError("UNAUTHENTICATED", "Sign in to change the catalog.");
  if (viewer.role === "listener") {
    throw new DomainError("FORBIDDEN", "Only artist and admin accounts can change the catalog.");
  }
  return viewer;
}

/** Admins manage every artist; an artist account only the artists it owns. */
export function requireArtistManager(viewer: Viewer, artist: { ownerId: string | null }): void {
  if (viewer.role === "admin" || artist.ownerId === viewer.id) return;
  throw new DomainError("NOT_ARTIST_OWNER", "You can only change artists your account manages.");
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `Hip-Hop / Rap` → `hip-hop-rap`: the id of a genre named freely by uploaders. */
export function genreSlug(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
}
