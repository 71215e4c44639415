/** Neighbours kept per track. */
export const NEIGHBOURS_PER_TRACK = 20;
/** A pair needs this many listeners in common: one person's habits never become a neighbour. */
export const NEIGHBOUR_MIN_CO_LISTENERS = 2;
/** Listening older than this does not count towards neighbours (likes always do). */
export const NEIGHBOUR_HISTORY_WINDOW_MS = 90 * 24 * 3600 * 1000;
/** Each listener contributes at most their most recent tracks, bounding the pair count. */
export const NEIGHBOUR_SIGNAL_PER_USER = 200;
/** Tracks whose neighbours one D1 batch computes and swaps in. */
const NEIGHBOUR_CHUNK_TRACKS = 200;

const SIGNAL = `
INSERT INTO recommendation_signal (user_id, track_id, at)
SELECT user_id, track_id, at FROM (
  SELECT s.user_id, s.track_id, max(s.at) AS at,
         row_number() OVER (PARTITION BY s.user_id ORDER BY max(s.at) DESC, s.track_id) AS r
  FROM (
    SELECT user_id, track_id, played_at AS at FROM listening_history
     WHERE user_id IS NOT NULL AND played_at >= ?1
    UNION ALL
    SELECT user_id, ref_id, created_at FROM likes WHERE kind = 'track'
  ) s
  JOIN users u ON u.id = s.user_id
  JOIN tracks t ON t.id = s.track_id AND t.visibility = 'public'
  GROUP BY s.user_id, s.track_id
) WHERE r <= ?2`;

const LISTENERS = `
INSERT INTO track_listeners (track_id, listeners)
SELECT track_id, count(*) FROM recommendation_signal GROUP BY track_id HAVING count(*) >= ?1`;

// Squared cosine of the listener sets: the same order as cosine, without needing sqrt in D1.
const NEIGHBOURS = `
INSERT INTO track_neighbors (track_id, neighbor_id, score, co_listeners, computed_at)
SELECT track_id, neighbor_id, score, co, ?5 FROM (
  SELECT a.track_id, b.track_id AS neighbor_id, count(*) AS co,
         count(*) * count(*) * 1.0 / (la.listeners * lb.listeners) AS score,
         row_number() OVER (
           PARTITION BY a.track_id
           ORDER BY count(*) * count(*) * 1.0 / (la.listeners * lb.listeners) DESC, b.track_id
         ) AS r
  FROM recommendation_signal a
  JOIN track_listeners la ON la.track_id = a.track_id
  JOIN recommendation_signal b ON b.user_id = a.user_id AND b.track_id <> a.track_id
  JOIN track_listeners lb ON lb.track_id = b.track_id
  WHERE a.track_id >= ?1 AND a.track_id <= ?2
  GROUP BY a.track_id, b.track_id
  HAVING count(*) >= ?3
) WHERE r <= ?4`;

/**
 * Recomputes every track's neighbours from co-listening (counted streams and likes), in
 * chunks of tracks so no statement grows with the catalog; each chunk's lists are swapped in
 * one batch, so a reader sees a track's old list or its new one, never half. Cron only.
 */
export async function computeTrackNeighbours(
  d1: D1Database,
  now = Date.now(),
): Promise<{ tracks: number; pairs: number }> {
  const clear = [
    d1.prepare("DELETE FROM recommendation_signal"),
    d1.prepare("DELETE FROM track_listeners"),
  ];
  await d1.batch([
    ...clear,
    d1.prepare(SIGNAL).bind(now - NEIGHBOUR_HISTORY_WINDOW_MS, NEIGHBOUR_SIGNAL_PER_USER),
    d1.prepare(LISTENERS).bind(NEIGHBOUR_MIN_CO_LISTENERS),
  ]);
  let after = "";
  let tracks = 0;
  let pairs = 0;
  for (;;) {
    const chunk = await d1
      .prepare("SELECT track_id FROM track_listeners WHERE track_id > ? ORDER BY track_id LIMIT ?")
      .bind(after, NEIGHBOUR_CHUNK_TRACKS)
      .all<{ track_id: string }>();
    const first = chunk.results[0]?.track_id;
    const last = chunk.results.at(-1)?.track_id;
    if (first === undefined || last === undefined) break;
    const [, inserted] = await d1.batch([
      d1
        .prepare("DELETE FROM track_neighbors WHERE track_id >= ? AND track_id <= ?")
        .bind(first, last),
      d1
        .prepare(NEIGHBOURS)
        .bind(first, last, NEIGHBOUR_MIN_CO_LISTENERS, NEIGHBOURS_PER_TRACK, now),
    ]);
    tracks += chunk.results.length;
    pairs += inserted?.meta.changes ?? 0;
    after = last;
  }
  // Tracks that lost all their signal since the last run keep no stale neighbours.
  await d1.batch([
    d1.prepare("DELETE FROM track_neighbors WHERE computed_at < ?").bind(now),
    ...clear,
  ]);
  return { tracks, pairs };
}
