import { and, asc, between, desc, eq, gt, gte, inArray, sql, type SQL } from "drizzle-orm";
import {
  artists,
  playbacks,
  rightsHolders,
  royaltyRollups,
  trackRights,
  tracks,
} from "@edge-music/core/db/schema";
import { EXCLUSIONS, dayOf, type Exclusion } from "@edge-music/core/play-events";
import type { Viewer } from "../../app-env";
import type { Config } from "../../lib/config";
import type { Db } from "../../lib/db";
import { notFound } from "../../lib/problem";
import type { PlayCounters } from "./play-counters";
import type { TrackService } from "../catalog/tracks";
import { WORLDWIDE } from "./rights";
import { selectTracks, toTrackView } from "../catalog/track-view";
import { trackListed } from "../catalog/visibility";
import { DAY_MS } from "../../lib/time";

/** Days "top tracks" looks back over. */
export const TOP_TRACKS_WINDOW_DAYS = 28;

export type DayRange = { from: string; to: string };

/** Counted streams that bear no royalty, by reason (every reason present, 0 when none). */
export type ExcludedStreams = Record<Exclusion, number>;

export type ReportRow = {
  trackId: string;
  title: string;
  isrc: string | null;
  territory: string;
  /** Royalty-bearing streams and their seconds; `amount` is for these. */
  streams: number;
  seconds: number;
  share: number;
  amount: number;
  /** Streams counted but excluded from royalties, by reason: beside the ones paid for. */
  excluded: ExcludedStreams;
};

const noExclusions = (): ExcludedStreams => ({ SELF_PLAY: 0, REPEAT_CAP: 0 });

/** Rollup rows that bear royalties. */
const ROYALTY_BEARING = eq(royaltyRollups.exclusion, "");

/** Adds `streams` of rollups excluded for `exclusion` to `into` (royalty-bearing ones: nothing). */
function addExcluded(into: ExcludedStreams, exclusion: string, streams: number) {
  for (const reason of EXCLUSIONS) if (reason === exclusion) into[reason] += streams;
}

/**
 * Tracks matching `where`, most counted streams first over the top-tracks window (in one
 * territory when given), then by popularity and title.
 */
export function mostStreamed(
  db: Db,
  where: SQL | undefined,
  limit: number,
  options: { territory?: string | null; now?: number } = {},
) {
  const since = dayOf((options.now ?? Date.now()) - (TOP_TRACKS_WINDOW_DAYS - 1) * DAY_MS);
  const streams = sql<number>`coalesce(sum(${royaltyRollups.streams}), 0)`;
  return db
    .select({ id: tracks.id, streams })
    .from(tracks)
    .leftJoin(
      royaltyRollups,
      and(
        eq(royaltyRollups.trackId, tracks.id),
        ROYALTY_BEARING,
        gte(royaltyRollups.day, since),
        options.territory ? eq(royaltyRollups.territory, options.territory) : undefined,
      ),
    )
    .where(where)
    .groupBy(tracks.id)
    .orderBy(desc(streams), desc(tracks.popularity), asc(tracks.title), asc(tracks.id))
    .limit(limit);
}

/** Streams and seconds from the counters' rollups: track stats, top tracks, royalty reports. */
export class RoyaltyService {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly counters: PlayCounters,
  ) {}

  /** Streams and seconds by day and territory; for the track's artist account and admins. */
  async trackStats(viewer: Viewer, trackId: string, range: DayRange) {
    const track = await this.db
      .select({ id: tracks.id, ownerId: tracks.ownerId, artistOwner: artists.ownerId })
      .from(tracks)
      .innerJoin(artists, eq(artists.id, tracks.artistId))
      .where(eq(tracks.id, trackId))
      .get();
    const manages =
      track &&
      (viewer.role === "admin" || track.ownerId === viewer.id || track.artistOwner === viewer.id);
    if (!manages) throw notFound("The track");
    // The counters hold the last few seconds of plays; have those with live grants (the
    // others flushed long ago) write it all first.
    const live = await this.db
      .selectDistinct({ shard: playbacks.shard })
      .from(playbacks)
      .where(eq(playbacks.trackId, trackId));
    await this.counters.flush(
      trackId,
      live.map((p) => p.shard),
    );
    const rows = await this.db
      .select({
        day: royaltyRollups.day,
        territory: royaltyRollups.territory,
        exclusion: royaltyRollups.exclusion,
        streams: sql<number>`sum(${royaltyRollups.streams})`,
        playedMs: sql<number>`sum(${royaltyRollups.playedMs})`,
      })
      .from(royaltyRollups)
      .where(
        and(eq(royaltyRollups.trackId, trackId), between(royaltyRollups.day, range.from, range.to)),
      )
      .groupBy(royaltyRollups.day, royaltyRollups.territory, royaltyRollups.exclusion)
      .orderBy(asc(royaltyRollups.day), asc(royaltyRollups.territory));
    // Streams and seconds are the royalty-bearing ones; excluded streams are counted beside.
    const excluded = noExclusions();
    const days = new Map<string, { day: string; territory: string; streams: number; ms: number }>();
    for (const r of rows) {
      const key = `${r.day}|${r.territory}`;
      const row = days.get(key) ?? { day: r.day, territory: r.territory, streams: 0, ms: 0 };
      if (r.exclusion === "") {
        row.streams += r.streams;
        row.ms += r.playedMs;
        days.set(key, row);
      } else addExcluded(excluded, r.exclusion, r.streams);
    }
    const list = [...days.values()];
    return {
      trackId,
      ...range,
      totals: {
        streams: list.reduce((n, r) => n + r.streams, 0),
        seconds: toSeconds(list.reduce((n, r) => n + r.ms, 0)),
        excluded,
      },
      days: list.map((r) => ({
        day: r.day,
        territory: r.territory,
        streams: r.streams,
        seconds: toSeconds(r.ms),
      })),
    };
  }

  /** An artist's tracks the viewer can see, by counted streams over the last 28 days. */
  async topTracks(viewer: Viewer | null, artistId: string, limit: number, now = Date.now()) {
    const artist = await this.db
      .select({ id: artists.id })
      .from(artists)
      .where(eq(artists.id, artistId))
      .get();
    if (!artist) throw notFound("The artist");
    const ranked = await mostStreamed(
      this.db,
      and(eq(tracks.artistId, artistId), trackListed(viewer)),
      limit,
      { now },
    );
    const rows = ranked.length
      ? await selectTracks(this.db).where(
          inArray(
            tracks.id,
            ranked.map((r) => r.id),
          ),
        )
      : [];
    const views = new Map(rows.map((row) => [row.track.id, toTrackView(row)]));
    return {
      windowDays: TOP_TRACKS_WINDOW_DAYS,
      items: ranked.flatMap((r) => {
        const view = views.get(r.id);
        return view ? [{ ...view, streams: r.streams }] : [];
      }),
    };
  }

  /**
   * Sets the popularity (streams over the last 28 days) of every track whose rollups changed
   * since `changedSince`; search ranks by it. Returns how many tracks were updated.
   */
  async refreshPopularity(
    trackService: TrackService,
    changedSince: number,
    now = Date.now(),
  ): Promise<number> {
    const since = dayOf(now - (TOP_TRACKS_WINDOW_DAYS - 1) * DAY_MS);
    const changed = this.db
      .selectDistinct({ trackId: royaltyRollups.trackId })
      .from(royaltyRollups)
      .where(gt(royaltyRollups.updatedAt, changedSince));
    const rows = await this.db
      .select({
        trackId: royaltyRollups.trackId,
        streams: sql<number>`sum(CASE WHEN ${royaltyRollups.day} >= ${since} THEN ${royaltyRollups.streams} ELSE 0 END)`,
      })
      .from(royaltyRollups)
      .where(and(inArray(royaltyRollups.trackId, changed), ROYALTY_BEARING))
      .groupBy(royaltyRollups.trackId);
    for (const row of rows) await trackService.setPopularity(row.trackId, row.streams);
    return rows.length;
  }

  /**
   * A holder's royalties: for each of its tracks and territories, the streams, the holder's
   * share of the stream right there (a territory's own rights take precedence over worldwide
   * ones; each day uses the rights in force that day) and the amount at the configured rate.
   */
  async report(viewer: Viewer, holderId: string, range: DayRange) {
    const holder = await this.db
      .select()
      .from(rightsHolders)
      .where(eq(rightsHolders.id, holderId))
      .get();
    if (!holder || !(viewer.role === "admin" || holder.userId === viewer.id)) {
      throw notFound("The rights holder");
    }
    const holderTracks = this.db
      .selectDistinct({ trackId: trackRights.trackId })
      .from(trackRights)
      .where(eq(trackRights.holderId, holderId));
    const rights = await this.db
      .select()
      .from(trackRights)
      .where(and(eq(trackRights.rightType, "stream"), inArray(trackRights.trackId, holderTracks)));
    const rollups = await this.db
      .select({
        trackId: royaltyRollups.trackId,
        title: tracks.title,
        isrc: tracks.isrc,
        day: royaltyRollups.day,
        territory: royaltyRollups.territory,
        exclusion: royaltyRollups.exclusion,
        streams: sql<number>`sum(${royaltyRollups.streams})`,
        playedMs: sql<number>`sum(${royaltyRollups.playedMs})`,
      })
      .from(royaltyRollups)
      .innerJoin(tracks, eq(tracks.id, royaltyRollups.trackId))
      .where(
        and(
          inArray(royaltyRollups.trackId, holderTracks),
          between(royaltyRollups.day, range.from, range.to),
        ),
      )
      .groupBy(
        royaltyRollups.trackId,
        royaltyRollups.day,
        royaltyRollups.territory,
        royaltyRollups.exclusion,
      );

    const rate = this.config.plays.ratePerStream;
    const rows = new Map<string, ReportRow & { playedMs: number }>();
    for (const r of rollups) {
      const share = holderShare(rights, holderId, r.trackId, r.territory, r.day);
      if (share <= 0) continue;
      const key = `${r.trackId}/${r.territory}/${share}`;
      const row = rows.get(key) ?? {
        trackId: r.trackId,
        title: r.title,
        isrc: r.isrc,
        territory: r.territory,
        streams: 0,
        seconds: 0,
        playedMs: 0,
        share,
        amount: 0,
        excluded: noExclusions(),
      };
      if (r.exclusion === "") {
        row.streams += r.streams;
        row.playedMs += r.playedMs;
      } else addExcluded(row.excluded, r.exclusion, r.streams);
      rows.set(key, row);
    }
    const items: ReportRow[] = [...rows.values()]
      .map(({ playedMs, ...row }) => ({
        ...row,
        seconds: toSeconds(playedMs),
        amount: roundMoney(row.streams * rate * row.share),
      }))
      .sort((a, b) => a.title.localeCompare(b.title) || a.territory.localeCompare(b.territory));
    const excluded = noExclusions();
    for (const row of items) {
      for (const reason of EXCLUSIONS) excluded[reason] += row.excluded[reason];
    }
    return {
      holder: { id: holder.id, name: holder.name },
      ...range,
      currency: this.config.plays.currency,
      ratePerStream: rate,
      rows: items,
      totals: {
        streams: items.reduce((n, r) => n + r.streams, 0),
        seconds: items.reduce((n, r) => n + r.seconds, 0),
        amount: roundMoney(items.reduce((n, r) => n + r.amount, 0)),
        excluded,
      },
    };
  }
}

type Right = typeof trackRights.$inferSelect;

/** The holder's share of streams of a track in a territory on a day. */
export function holderShare(
  rights: Right[],
  holderId: string,
  trackId: string,
  territory: string,
  day: string,
): number {
  const noon = Date.parse(`${day}T12:00:00Z`);
  const inForce = rights.filter(
    (r) =>
      r.trackId === trackId &&
      (r.startsAt === null || r.startsAt <= noon) &&
      (r.expiresAt === null || r.expiresAt > noon),
  );
  const local = inForce.filter((r) => r.territory === territory);
  const applicable = local.length ? local : inForce.filter((r) => r.territory === WORLDWIDE);
  return applicable.filter((r) => r.holderId === holderId).reduce((n, r) => n + r.share, 0);
}

const toSeconds = (ms: number) => Math.round(ms / 1000);
/** Amounts to a millionth of the currency unit (per-stream rates are fractions of a cent). */
const roundMoney = (amount: number) => Math.round(amount * 1e6) / 1e6;

/** The last `days` days up to today, unless the caller names them. */
export function dayRange(
  from: string | undefined,
  to: string | undefined,
  days: number,
  now = Date.now(),
): DayRange {
  const end = to ?? dayOf(now);
  return { from: from ?? dayOf(Date.parse(`${end}T00:00:00Z`) - (days - 1) * DAY_MS), to: end };
}
