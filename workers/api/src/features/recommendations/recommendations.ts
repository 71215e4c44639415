import {
  and,
  desc,
  eq,
  gte,
  inArray,
  notInArray,
  sql,
  type SQL,
  type SQLWrapper,
} from "drizzle-orm";
import {
  artists,
  genres,
  likes,
  listeningHistory,
  trackNeighbors,
  tracks,
} from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import type { Db } from "../../lib/db";
import { notFound } from "../../lib/problem";
import { mostStreamed } from "../plays/royalties";
import { streamableIn } from "../plays/rights";
import { selectTracks, toTrackView, type TrackRow, type TrackView } from "../catalog/track-view";
import { trackReadable } from "../catalog/visibility";
import { DAY_MS } from "../../lib/time";
import { OWN_TRACKS, type PersonalData } from "../privacy/personal-data";

/** What was played this recently is never recommended. */
export const RECENTLY_PLAYED_MS = DAY_MS;
/** Plays this recent, and the newest likes, are the seeds of "for you". */
const SEED_WINDOW_MS = 30 * DAY_MS;
const SEEDS_PER_KIND = 25;
/** The listener's most played artists and genres that get a slot of their own. */
const TOP_ARTISTS = 3;
const TOP_GENRES = 2;

/** Why an item is in a list, for the listener to read. */
export type Reason =
  | { kind: "played" | "liked" | "co_listened"; trackId: string; text: string }
  | { kind: "artist"; artistId: string; text: string }
  | { kind: "genre"; genreId: string; text: string }
  | { kind: "popular"; territory: string | null; text: string };

export type Recommendation = { track: TrackView; reason: Reason };
type Candidate = { trackId: string; reason: Reason };
type Seed = { trackId: string; kind: "played" | "liked"; at: number };

/**
 * "For you" and "similar": reads of the neighbours the cron computes (track-neighbours.ts),
 * mixed with the listener's artists and genres, filtered to what the listener may play.
 */
export class RecommendationService {
  constructor(private readonly db: Db) {}

  async forYou(
    viewer: Viewer,
    territory: string | null,
    limit: number,
    now = Date.now(),
  ): Promise<Recommendation[]> {
    const seeds = await this.seeds(viewer, now);
    const recent = this.db
      .select({ id: listeningHistory.trackId })
      .from(listeningHistory)
      .where(
        and(
          eq(listeningHistory.userId, viewer.id),
          gte(listeningHistory.playedAt, now - RECENTLY_PLAYED_MS),
        ),
      );
    // Discovery: nothing played in the last day, and no seed (the listener knows those).
    const known = seeds.map((s) => s.trackId);
    const fresh = and(
      streamableIn(territory, now),
      notInArray(tracks.id, recent),
      sql`not ${inJson(tracks.id, known)}`,
    );
    const [similar, mine] = await Promise.all([
      this.neighboursOf(seeds, fresh),
      this.fromArtistsAndGenres(known, fresh, limit),
    ]);
    const mixed = dedupe(interleave([similar, mine.artists, similar, mine.genres]));
    const popular = mixed.length < limit ? await this.popular(territory, fresh, limit, now) : [];
    // A track several sources picked keeps its place but gives the most personal reason.
    const reasons = new Map<string, Reason>();
    for (const c of [...popular, ...mine.genres, ...mine.artists, ...similar]) {
      reasons.set(c.trackId, c.reason);
    }
    const picked = dedupe([...mixed, ...popular]).slice(0, limit);
    return this.views(picked.map((c) => ({ ...c, reason: reasons.get(c.trackId) ?? c.reason })));
  }

  /** Tracks listened to by the same people as `trackId`, then the same artist and genre. */
  async similar(
    viewer: Viewer | null,
    trackId: string,
    territory: string | null,
    limit: number,
    now = Date.now(),
  ): Promise<Recommendation[]> {
    const seed = await this.db
      .select({
        id: tracks.id,
        title: tracks.title,
        artistId: tracks.artistId,
        genreId: tracks.genreId,
      })
      .from(tracks)
      .where(and(eq(tracks.id, trackId), trackReadable(viewer)))
      .get();
    if (!seed) throw notFound("The track");
    const playable = and(streamableIn(territory, now), sql`${tracks.id} <> ${trackId}`);
    const neighbours = await this.db
      .select({ id: trackNeighbors.neighborId })
      .from(trackNeighbors)
      .innerJoin(tracks, eq(tracks.id, trackNeighbors.neighborId))
      .where(and(eq(trackNeighbors.trackId, trackId), playable))
      .orderBy(desc(trackNeighbors.score), trackNeighbors.neighborId)
      .limit(limit);
    const text = `Listeners of ${seed.title} also played this`;
    const items: Candidate[] = neighbours.map((n) => ({
      trackId: n.id,
      reason: { kind: "co_listened", trackId, text },
    }));
    if (items.length < limit) {
      const names = await this.names([seed.artistId], seed.genreId ? [seed.genreId] : []);
      const [byArtist, byGenre] = await Promise.all([
        this.topBy(eq(tracks.artistId, seed.artistId), playable, limit),
        seed.genreId ? this.topBy(eq(tracks.genreId, seed.genreId), playable, limit) : [],
      ]);
      items.push(
        ...byArtist.map((id) => ({ trackId: id, reason: artistReason(seed.artistId, names) })),
        ...byGenre.map((id) => ({ trackId: id, reason: genreReason(seed.genreId ?? "", names) })),
      );
    }
    return this.views(dedupe(items).slice(0, limit));
  }

  /** The listener's recent distinct plays and newest liked tracks, newest first. */
  private async seeds(viewer: Viewer, now: number): Promise<Seed[]> {
    const lastPlayed = sql<number>`max(${listeningHistory.playedAt})`;
    const [played, liked] = await Promise.all([
      this.db
        .select({ trackId: listeningHistory.trackId, at: lastPlayed })
        .from(listeningHistory)
        .where(
          and(
            eq(listeningHistory.userId, viewer.id),
            gte(listeningHistory.playedAt, now - SEED_WINDOW_MS),
          ),
        )
        .groupBy(listeningHistory.trackId)
        .orderBy(desc(lastPlayed))
        .limit(SEEDS_PER_KIND),
      this.db
        .select({ trackId: likes.refId, at: likes.createdAt })
        .from(likes)
        .where(and(eq(likes.userId, viewer.id), eq(likes.kind, "track")))
        .orderBy(desc(likes.createdAt))
        .limit(SEEDS_PER_KIND),
    ]);
    return dedupeBy(
      [
        ...played.map((p) => ({ ...p, kind: "played" as const })),
        ...liked.map((l) => ({ ...l, kind: "liked" as const })),
      ].sort((a, b) => b.at - a.at),
      (s) => s.trackId,
    );
  }

  /**
   * Neighbours of the seeds, scored by the sum of their similarities; each names the seed
   * that contributed most.
   */
  private async neighboursOf(seeds: Seed[], where: SQL | undefined): Promise<Candidate[]> {
    if (!seeds.length) return [];
    const rows = await this.db
      .select({
        seedId: trackNeighbors.trackId,
        id: trackNeighbors.neighborId,
        score: trackNeighbors.score,
      })
      .from(trackNeighbors)
      .innerJoin(tracks, eq(tracks.id, trackNeighbors.neighborId))
      .where(
        and(
          inJson(
            trackNeighbors.trackId,
            seeds.map((s) => s.trackId),
          ),
          where,
        ),
      );
    const byId = new Map<string, { total: number; best: number; seedId: string }>();
    for (const r of rows) {
      const c = byId.get(r.id) ?? { total: 0, best: -1, seedId: r.seedId };
      c.total += r.score;
      if (r.score > c.best || (r.score === c.best && r.seedId < c.seedId)) {
        c.best = r.score;
        c.seedId = r.seedId;
      }
      byId.set(r.id, c);
    }
    const ranked = [...byId].sort(([a, x], [b, y]) => y.total - x.total || (a < b ? -1 : 1));
    const titles = await this.titles(ranked.map(([, c]) => c.seedId));
    const kindOf = new Map(seeds.map((s) => [s.trackId, s.kind]));
    return ranked.map(([id, c]) => {
      const kind = kindOf.get(c.seedId) ?? "played";
      const title = titles.get(c.seedId) ?? "a track";
      return {
        trackId: id,
        reason: { kind, trackId: c.seedId, text: `Because you ${kind} ${title}` },
      };
    });
  }

  /** The most streamed tracks of the seeds' most frequent artists and genres. */
  private async fromArtistsAndGenres(known: string[], where: SQL | undefined, limit: number) {
    if (!known.length) return { artists: [], genres: [] };
    const rows = await this.db
      .select({ artistId: tracks.artistId, genreId: tracks.genreId })
      .from(tracks)
      .where(inJson(tracks.id, known));
    const artistIds = mostFrequent(rows.map((r) => r.artistId)).slice(0, TOP_ARTISTS);
    const genreIds = mostFrequent(rows.flatMap((r) => (r.genreId ? [r.genreId] : []))).slice(
      0,
      TOP_GENRES,
    );
    const names = await this.names(artistIds, genreIds);
    const [byArtist, byGenre] = await Promise.all([
      Promise.all(artistIds.map((id) => this.topBy(eq(tracks.artistId, id), where, limit))),
      Promise.all(genreIds.map((id) => this.topBy(eq(tracks.genreId, id), where, limit))),
    ]);
    const tagged = (lists: string[][], reasonOf: (i: number) => Reason) =>
      interleave(lists.map((ids, i) => ids.map((trackId) => ({ trackId, reason: reasonOf(i) }))));
    return {
      artists: tagged(byArtist, (i) => artistReason(artistIds[i] ?? "", names)),
      genres: tagged(byGenre, (i) => genreReason(genreIds[i] ?? "", names)),
    };
  }

  /** The most streamed tracks in the territory over the top-tracks window, then by popularity. */
  private async popular(
    territory: string | null,
    where: SQL | undefined,
    limit: number,
    now: number,
  ): Promise<Candidate[]> {
    const rows = await mostStreamed(this.db, where, limit, { territory, now });
    const text = territory ? `Popular in ${territory}` : "Popular right now";
    return rows.map((r) => ({ trackId: r.id, reason: { kind: "popular", territory, text } }));
  }

  private async topBy(by: SQL, where: SQL | undefined, limit: number): Promise<string[]> {
    const rows = await this.db
      .select({ id: tracks.id })
      .from(tracks)
      .where(and(by, where))
      .orderBy(desc(tracks.popularity), tracks.id)
      .limit(limit);
    return rows.map((r) => r.id);
  }

  private async titles(ids: string[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids)];
    if (!unique.length) return new Map();
    const rows = await this.db
      .select({ id: tracks.id, title: tracks.title })
      .from(tracks)
      .where(inArray(tracks.id, unique));
    return new Map(rows.map((r) => [r.id, r.title]));
  }

  private async names(artistIds: string[], genreIds: string[]): Promise<Map<string, string>> {
    const [a, g] = await Promise.all([
      this.db
        .select({ id: artists.id, name: artists.name })
        .from(artists)
        .where(inJson(artists.id, artistIds)),
      this.db
        .select({ id: genres.id, name: genres.name })
        .from(genres)
        .where(inJson(genres.id, genreIds)),
    ]);
    return new Map([...a, ...g].map((r) => [r.id, r.name]));
  }

  private async views(items: Candidate[]): Promise<Recommendation[]> {
    if (!items.length) return [];
    const rows = await selectTracks(this.db).where(
      inArray(
        tracks.id,
        items.map((i) => i.trackId),
      ),
    );
    const byId = new Map<string, TrackRow>(rows.map((r) => [r.track.id, r]));
    return items.flatMap((i) => {
      const row = byId.get(i.trackId);
      return row ? [{ track: toTrackView(row), reason: i.reason }] : [];
    });
  }
}

const artistReason = (artistId: string, names: Map<string, string>): Reason => ({
  kind: "artist",
  artistId,
  text: `More from ${names.get(artistId) ?? "this artist"}`,
});

const genreReason = (genreId: string, names: Map<string, string>): Reason => ({
  kind: "genre",
  genreId,
  text: `Popular in ${names.get(genreId) ?? "this genre"}`,
});

/** Takes one from each list in turn; a list given twice gets two turns a round. */
function interleave<T>(lists: T[][]): T[] {
  const cursor = new Map<T[], number>();
  const out: T[] = [];
  for (let more = true; more;) {
    more = false;
    for (const list of lists) {
      const at = cursor.get(list) ?? 0;
      const item = list[at];
      if (item === undefined) continue;
      out.push(item);
      cursor.set(list, at + 1);
      more = true;
    }
  }
  return out;
}

function dedupeBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(key(item)) && !!seen.add(key(item)));
}

/** `column in ids` with one bound parameter however many ids (D1 allows 100 per query). */
const inJson = (column: SQLWrapper, ids: string[]): SQL =>
  sql`${column} in (select value from json_each(${JSON.stringify(ids)}))`;

const dedupe = (items: Candidate[]) => dedupeBy(items, (c) => c.trackId);

/** Distinct values, most frequent first (ties by first appearance). */
function mostFrequent(values: string[]): string[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([v]) => v);
}

/** An erasure takes the account's signal and its tracks' neighbours. */
export const RECOMMENDATION_PERSONAL_DATA: PersonalData = {
  erase: [
    `DELETE FROM track_neighbors WHERE track_id IN (${OWN_TRACKS})
     OR neighbor_id IN (${OWN_TRACKS})`,
    "DELETE FROM recommendation_signal WHERE user_id = ?1",
  ],
};
