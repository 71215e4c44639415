import { and, eq, inArray, sql } from "drizzle-orm";
import { artists, rightsHolders, trackRights, tracks } from "@edge-music/core/db/schema";
import type { Db } from "../lib/db";
import { rightInForce } from "./rights";

export type StreamAccess = {
  /** The listener may stream it now in that territory, as a new grant would decide. */
  playable: boolean;
  /** The listener owns it, manages its artist, or manages a holder of its rights. */
  selfPlay: boolean;
};

/**
 * For each of `trackIds`, whether `userId` may stream it now in `territory` (the grant's rule:
 * ready; public ones under a stream right there; private ones only for their owner) and
 * whether such a play would be the rights side playing its own track. One D1 query.
 */
export async function streamAccess(
  db: Db,
  userId: string,
  trackIds: string[],
  territory: string,
  now = Date.now(),
): Promise<Map<string, StreamAccess>> {
  if (trackIds.length === 0) return new Map();
  const rows = await db
    .select({
      id: tracks.id,
      visibility: tracks.visibility,
      status: tracks.status,
      ownerId: tracks.ownerId,
      artistOwner: artists.ownerId,
      licensed: sql<number>`exists (select 1 from ${trackRights}
        where ${trackRights.trackId} = ${tracks.id} and ${rightInForce("stream", territory, now)})`,
      managesHolder: sql<number>`exists (select 1 from ${trackRights}
        join ${rightsHolders} on ${rightsHolders.id} = ${trackRights.holderId}
        where ${trackRights.trackId} = ${tracks.id} and ${rightsHolders.userId} = ${userId})`,
    })
    .from(tracks)
    .innerJoin(artists, eq(artists.id, tracks.artistId))
    .where(and(inArray(tracks.id, trackIds)));
  return new Map(
    rows.map((t) => {
      const own = t.ownerId === userId;
      const visible = t.visibility !== "private" || own;
      const licensed = t.visibility !== "public" || t.licensed === 1;
      return [
        t.id,
        {
          playable: t.status === "ready" && visible && licensed,
          selfPlay: own || t.artistOwner === userId || t.managesHolder === 1,
        },
      ];
    }),
  );
}
