import { eq, inArray, sql } from "drizzle-orm";
import { artists, rightsHolders, trackRights, tracks } from "@edge-music/core/db/schema";
import { TtlCache } from "@edge-music/core/ttl-cache";
import type { Db } from "../../lib/db";
import { rightUntil, untilOf } from "../plays/rights";

export type StreamAccess = {
  /** The listener may stream it now in that territory, as a new grant would decide. */
  playable: boolean;
  /** The listener owns it, manages its artist, or manages a holder of its rights. */
  selfPlay: boolean;
};

/** What decides access to a track in one territory, whoever asks. */
type TrackFacts = {
  visibility: string;
  status: string;
  ownerId: string;
  artistOwner: string | null;
  /** Until when (epoch ms) a stream right covers the territory; 0 when none does. */
  licensedUntil: number;
  holderManagers: string[];
};

/**
 * How long an isolate reuses what it read about a track: events keep counting at most this
 * long after the track stopped being playable (the isolate that made the change forgets at
 * once). Every batch of events asks, so this saves a D1 query per batch of a busy track.
 */
export const STREAM_ACCESS_CACHE_MS = 10_000;
const cache = new TtlCache<TrackFacts>(10_000);

/** Drops what this isolate remembers about a track (after a change of who may play it). */
export function forgetStreamAccess(trackId: string): void {
  cache.forget((key) => key.endsWith(`|${trackId}`));
}

/**
 * For each of `trackIds`, whether `userId` may stream it now in `territory` (the grant's rule:
 * ready; public ones under a stream right there; private ones only for their owner) and
 * whether such a play would be the rights side playing its own track. At most one D1 query.
 */
export async function streamAccess(
  db: Db,
  userId: string,
  trackIds: string[],
  territory: string,
  now = Date.now(),
): Promise<Map<string, StreamAccess>> {
  const facts = new Map<string, TrackFacts>();
  const missing: string[] = [];
  for (const id of trackIds) {
    const hit = cache.get(`${territory}|${id}`, now);
    if (hit) facts.set(id, hit.value);
    else missing.push(id);
  }
  if (missing.length) {
    const rows = await db
      .select({
        id: tracks.id,
        visibility: tracks.visibility,
        status: tracks.status,
        ownerId: tracks.ownerId,
        artistOwner: artists.ownerId,
        licensedUntil: rightUntil("stream", territory, now),
        holderManagers: sql<string>`(select json_group_array(distinct ${rightsHolders.userId})
          from ${trackRights} join ${rightsHolders} on ${rightsHolders.id} = ${trackRights.holderId}
          where ${trackRights.trackId} = ${tracks.id} and ${rightsHolders.userId} is not null)`,
      })
      .from(tracks)
      .innerJoin(artists, eq(artists.id, tracks.artistId))
      .where(inArray(tracks.id, missing));
    for (const row of rows) {
      const read: TrackFacts = {
        visibility: row.visibility,
        status: row.status,
        ownerId: row.ownerId,
        artistOwner: row.artistOwner,
        licensedUntil: untilOf(row.licensedUntil) ?? 0,
        holderManagers: JSON.parse(row.holderManagers) as string[],
      };
      facts.set(row.id, read);
      cache.set(`${territory}|${row.id}`, read, STREAM_ACCESS_CACHE_MS, now);
    }
  }
  return new Map(
    [...facts].map(([id, t]) => {
      const own = t.ownerId === userId;
      const visible = t.visibility !== "private" || own;
      const licensed = t.visibility !== "public" || t.licensedUntil > now;
      return [
        id,
        {
          playable: t.status === "ready" && visible && licensed,
          selfPlay: own || t.artistOwner === userId || t.holderManagers.includes(userId),
        },
      ];
    }),
  );
}
