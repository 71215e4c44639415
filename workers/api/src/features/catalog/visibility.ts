import { eq, or, type SQL } from "drizzle-orm";
import { tracks } from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";

/** Tracks a viewer may open by id: anything but other people's private tracks. */
export function trackReadable(viewer: Viewer | null): SQL | undefined {
  return viewer
    ? or(
        eq(tracks.visibility, "public"),
        eq(tracks.visibility, "unlisted"),
        eq(tracks.ownerId, viewer.id),
      )
    : or(eq(tracks.visibility, "public"), eq(tracks.visibility, "unlisted"));
}

/** Tracks a viewer sees in lists and search: public ones, plus the viewer's own. */
export function trackListed(viewer: Viewer | null): SQL | undefined {
  return viewer
    ? or(eq(tracks.visibility, "public"), eq(tracks.ownerId, viewer.id))
    : eq(tracks.visibility, "public");
}

/** `trackReadable` for a row already loaded. */
export function isTrackReadable(
  viewer: Viewer | null,
  track: { visibility: string; ownerId: string },
): boolean {
  return track.visibility !== "private" || track.ownerId === viewer?.id;
}
