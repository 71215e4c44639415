import { and, eq, inArray, lt } from "drizzle-orm";
import { listeningHistory, playbacks, tracks } from "@edge-music/core/db/schema";
import {
  PLAYBACK_STATE_RETENTION_MS,
  PLAY_EVENT_MAX_AGE_MS,
  PLAY_EVENT_MAX_FUTURE_MS,
  PlayEventSchema,
  verifyPlaybackId,
  type CounterBatch,
  type PlayEvent,
  type PlayEventRefusal,
  type PlayEventResult,
} from "@edge-music/core/play-events";
import { planMaxRank, renditionById } from "@edge-music/core/renditions";
import type { KeyRing } from "@edge-music/core/key-ring";
import type { Viewer } from "../../app-env";
import type { Db } from "../../lib/db";
import { decodeCursor, keyset, toPage, type Page, type PageQuery } from "../../lib/pagination";
import { iso } from "../catalog/catalog-access";
import type { ListenerStreamLimits } from "../playback/listener-streams";
import type { PlayCounters } from "./play-counters";
import { streamAccess, type StreamAccess } from "../playback/stream-access";
import { selectTracks, toTrackView, type TrackView } from "../catalog/track-view";
import { isTrackReadable } from "../catalog/visibility";
import { rowsOf, type PersonalData } from "../privacy/personal-data";

type Grant = {
  trackId: string;
  territory: string;
  plan: string;
  shard: number;
  createdAt: number;
  expiresAt: number;
};

export type PlayEventsOutcome = {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: PlayEventResult[];
};

type Checked = { index: number; event: PlayEvent; grant: Grant };

/**
 * Playback events: each is checked on its own against the listener's grant, the clock, the
 * track being still playable for them, and the account's other playbacks, then handed to the
 * counter of its track's shard. A bad event never sinks its batch.
 */
export class PlaysService {
  constructor(
    private readonly db: Db,
    private readonly counters: PlayCounters,
    private readonly streams: ListenerStreamLimits,
    private readonly keys: KeyRing,
    private readonly limits: { concurrentStreams: number; repeatDailyCap: number },
  ) {}

  async record(viewer: Viewer, events: unknown[], now = Date.now()): Promise<PlayEventsOutcome> {
    const results: PlayEventResult[] = [];
    const parsed: { index: number; event: PlayEvent }[] = [];
    events.forEach((raw, index) => {
      const check = PlayEventSchema.safeParse(raw);
      if (check.success) {
        parsed.push({ index, event: check.data });
        return;
      }
      const issue = check.error.issues[0];
      const eventId =
        typeof raw === "object" &&
        raw !== null &&
        "eventId" in raw &&
        typeof raw.eventId === "string"
          ? raw.eventId.slice(0, 64)
          : null;
      results.push(
        refuse(
          index,
          eventId,
          "INVALID_EVENT",
          `${issue?.path.join(".") || "event"}: ${issue?.message ?? "invalid"}`,
        ),
      );
    });

    const grants = await this.#grants(
      viewer,
      parsed.map((p) => p.event.playbackId),
    );
    let checked: Checked[] = [];
    for (const { index, event } of parsed) {
      const grant = grants.get(event.playbackId);
      const refusal = checkAgainstGrant(event, grant, now);
      if (refusal || !grant) results.push(refuse(index, event.eventId, ...(refusal ?? NO_GRANT)));
      else checked.push({ index, event, grant });
    }

    // Still playable for this listener? (Made private, rights ended or narrowed since.)
    const access = await this.#access(viewer, checked, now);
    checked = checked.filter(({ index, event, grant }) => {
      if (access.get(`${grant.territory}|${grant.trackId}`)?.playable) return true;
      results.push(refuse(index, event.eventId, ...NOT_PLAYABLE));
      return false;
    });

    // One person, a few devices: time accumulates on at most `concurrentStreams` playbacks.
    const timed = checked.filter((c) => c.event.playedMs > 0);
    const crowded = new Set(
      timed.length
        ? await this.streams.admit(viewer.id, {
            version: 1,
            limit: this.limits.concurrentStreams,
            events: timed.map(({ event }) => {
              const endMs = Math.min(Date.parse(event.occurredAt), now);
              return {
                eventId: event.eventId,
                playbackId: event.playbackId,
                startMs: endMs - event.playedMs,
                endMs,
              };
            }),
          })
        : [],
    );
    checked = checked.filter(({ index, event }) => {
      if (!crowded.has(event.eventId)) return true;
      results.push(
        refuse(
          index,
          event.eventId,
          "TOO_MANY_STREAMS",
          `${this.limits.concurrentStreams} other playbacks of this account were playing at that time; this one's time is not counted.`,
        ),
      );
      return false;
    });

    const batches = new Map<string, CounterBatch>();
    for (const { index, event, grant } of checked) {
      const key = `${event.trackId}/${grant.shard}`;
      const batch = batches.get(key) ?? {
        version: 1,
        trackId: event.trackId,
        shard: grant.shard,
        repeatCap: this.limits.repeatDailyCap,
        events: [],
      };
      batch.events.push({
        index,
        eventId: event.eventId,
        playbackId: event.playbackId,
        type: event.type,
        playedMs: event.playedMs,
        rendition: event.rendition,
        occurredAt: Date.parse(event.occurredAt),
        userId: viewer.id,
        territory: grant.territory,
        plan: grant.plan,
        grantedAt: grant.createdAt,
        selfPlay: access.get(`${grant.territory}|${grant.trackId}`)?.selfPlay ?? false,
      });
      batches.set(key, batch);
    }
    const counted = (
      await Promise.all([...batches.values()].map((b) => this.counters.record(b)))
    ).flat();
    // Time the counter refused (out of order, more than the clock allows) is given back.
    const timedIds = new Set(timed.map((c) => c.event.eventId));
    await this.streams.release(
      viewer.id,
      counted.flatMap((r) =>
        r.status === "rejected" && r.eventId && timedIds.has(r.eventId) ? [r.eventId] : [],
      ),
    );
    results.push(...counted);
    results.sort((a, b) => a.index - b.index);
    return {
      accepted: results.filter((r) => r.status === "accepted").length,
      duplicates: results.filter((r) => r.status === "duplicate").length,
      rejected: results.filter((r) => r.status === "rejected").length,
      results,
    };
  }

  /** Playability of the batch's tracks for the viewer, by `<territory>|<trackId>`. */
  async #access(viewer: Viewer, checked: Checked[], now: number) {
    const byTerritory = new Map<string, Set<string>>();
    for (const { grant } of checked) {
      byTerritory.set(
        grant.territory,
        (byTerritory.get(grant.territory) ?? new Set()).add(grant.trackId),
      );
    }
    const access = new Map<string, StreamAccess>();
    for (const [territory, trackIds] of byTerritory) {
      const found = await streamAccess(this.db, viewer.id, [...trackIds], territory, now);
      for (const [trackId, a] of found) access.set(`${territory}|${trackId}`, a);
    }
    return access;
  }

  /**
   * The caller's counted streams, newest first. A track the caller can no longer open is
   * listed with `track: null` rather than left out.
   */
  async history(
    viewer: Viewer,
    page: PageQuery,
  ): Promise<Page<{ id: string; playedAt: string; trackId: string; track: TrackView | null }>> {
    const { where, orderBy } = keyset(
      listeningHistory.playedAt,
      "desc",
      listeningHistory.id,
      decodeCursor(page.cursor),
    );
    const rows = await this.db
      .select()
      .from(listeningHistory)
      .where(and(eq(listeningHistory.userId, viewer.id), where))
      .orderBy(...orderBy)
      .limit(page.limit + 1);
    const ids = [...new Set(rows.map((r) => r.trackId))];
    // At most a page of ids: D1's 100-parameter limit leaves no room for the visibility
    // filter's, so readability is checked here.
    const views = ids.length ? await selectTracks(this.db).where(inArray(tracks.id, ids)) : [];
    const byId = new Map(
      views
        .filter((v) => isTrackReadable(viewer, v.track))
        .map((v) => [v.track.id, toTrackView(v)]),
    );
    return toPage(
      rows,
      page.limit,
      (r) => [r.playedAt, r.id],
      (r) => ({
        id: r.id,
        playedAt: iso(r.playedAt),
        trackId: r.trackId,
        track: byId.get(r.trackId) ?? null,
      }),
    );
  }

  /**
   * Deletes grants no counter holds anything about any more (see PLAYBACK_STATE_RETENTION_MS):
   * until then erasure finds the counters of an account through them.
   */
  async purgeGrants(now = Date.now()): Promise<number> {
    const gone = await this.db
      .delete(playbacks)
      .where(lt(playbacks.expiresAt, now - PLAYBACK_STATE_RETENTION_MS))
      .returning({ id: playbacks.id });
    return gone.length;
  }

  /** The caller's own grants among these ids; anyone else's look like no grant at all. */
  async #grants(viewer: Viewer, ids: string[]): Promise<Map<string, Grant>> {
    const grants = new Map<string, Grant>();
    await Promise.all(
      [...new Set(ids)].map(async (id) => {
        const claims = await verifyPlaybackId(id, this.keys);
        if (claims?.sub !== viewer.id) return;
        grants.set(id, {
          trackId: claims.trk,
          territory: claims.ter,
          plan: claims.pln,
          shard: claims.shd,
          createdAt: claims.iat,
          expiresAt: claims.exp,
        });
      }),
    );
    return grants;
  }
}

const NO_GRANT: [PlayEventRefusal, string] = [
  "NO_GRANT",
  "No playback grant of yours with this playbackId for this track.",
];
const NOT_PLAYABLE: [PlayEventRefusal, string] = [
  "NOT_PLAYABLE",
  "This track is no longer available to you where the grant was made; nothing more is counted.",
];

/** What the api can tell without the counter: grant, rendition, clock. */
function checkAgainstGrant(
  event: PlayEvent,
  grant: Grant | undefined,
  now: number,
): [PlayEventRefusal, string] | null {
  if (!grant || grant.trackId !== event.trackId) return NO_GRANT;
  const at = Date.parse(event.occurredAt);
  // An id is worth nothing once its grant expired: no event after, nothing a day later.
  if (at > grant.expiresAt || now > grant.expiresAt + PLAY_EVENT_MAX_AGE_MS) {
    return ["GRANT_EXPIRED", "The playback grant has expired; ask for a new one."];
  }
  if ((renditionById(event.rendition)?.rank ?? Infinity) > planMaxRank(grant.plan)) {
    return ["RENDITION_NOT_ALLOWED", `Rendition ${event.rendition} is above the grant's plan.`];
  }
  if (at > now + PLAY_EVENT_MAX_FUTURE_MS) {
    return ["IN_FUTURE", "occurredAt is in the future; check the device clock."];
  }
  if (at < now - PLAY_EVENT_MAX_AGE_MS || at < grant.createdAt - PLAY_EVENT_MAX_FUTURE_MS) {
    return ["TOO_OLD", "occurredAt is before the grant or more than a day ago."];
  }
  // Played time lies before the event; it cannot start before the grant (clocks may differ
  // by as much as events may be early), so time cannot be placed where nothing was granted.
  if (Math.min(at, now) - event.playedMs < grant.createdAt - PLAY_EVENT_MAX_FUTURE_MS) {
    return ["PLAYED_EXCEEDS_WALL_TIME", `playedMs ${event.playedMs} starts before the grant.`];
  }
  return null;
}

function refuse(
  index: number,
  eventId: string | null,
  code: PlayEventRefusal,
  reason: string,
): PlayEventResult {
  return { index, eventId, status: "rejected", code, reason };
}

/**
 * Listening history is exported, and kept without the account in an erasure so royalty
 * rollups, which never named anyone, stay as they are.
 */
export const PLAYS_PERSONAL_DATA: PersonalData = {
  export: [{ name: "listeningHistory", sql: rowsOf("listening_history", "user_id") }],
  erase: ["UPDATE listening_history SET user_id = NULL WHERE user_id = ?1"],
};
