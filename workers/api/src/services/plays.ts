import { and, eq, inArray, lt } from "drizzle-orm";
import { listeningHistory, playbacks, tracks } from "@edge-music/core/db/schema";
import {
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
import type { Viewer } from "../app-env";
import type { Db } from "../lib/db";
import { decodeCursor, keyset, toPage, type Page, type PageQuery } from "../lib/pagination";
import { iso } from "./catalog-access";
import type { PlayCounters } from "./play-counters";
import { selectTracks, toTrackView, type TrackView } from "./track-view";
import { isTrackReadable } from "./visibility";

type Grant = { trackId: string; territory: string; plan: string; shard: number; createdAt: number };

export type PlayEventsOutcome = {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: PlayEventResult[];
};

/**
 * Playback events: each is checked on its own against the listener's grant and the clock,
 * then handed to the counter of its track's shard. A bad event never sinks its batch.
 */
export class PlaysService {
  constructor(
    private readonly db: Db,
    private readonly counters: PlayCounters,
    private readonly keys: KeyRing,
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
    const batches = new Map<string, CounterBatch>();
    for (const { index, event } of parsed) {
      const grant = grants.get(event.playbackId);
      const refusal = checkAgainstGrant(event, grant, now);
      if (refusal || !grant) {
        results.push(refuse(index, event.eventId, ...(refusal ?? NO_GRANT)));
        continue;
      }
      const shard = grant.shard;
      const key = `${event.trackId}/${shard}`;
      const batch = batches.get(key) ?? { version: 1, trackId: event.trackId, shard, events: [] };
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
      });
      batches.set(key, batch);
    }
    const counted = await Promise.all([...batches.values()].map((b) => this.counters.record(b)));
    results.push(...counted.flat());
    results.sort((a, b) => a.index - b.index);
    return {
      accepted: results.filter((r) => r.status === "accepted").length,
      duplicates: results.filter((r) => r.status === "duplicate").length,
      rejected: results.filter((r) => r.status === "rejected").length,
      results,
    };
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

  /** Deletes grants whose events can no longer arrive (expired over a day ago). */
  async purgeGrants(now = Date.now()): Promise<number> {
    const gone = await this.db
      .delete(playbacks)
      .where(lt(playbacks.expiresAt, now - PLAY_EVENT_MAX_AGE_MS))
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

/** What the api can tell without the counter: grant, rendition, clock. */
function checkAgainstGrant(
  event: PlayEvent,
  grant: Grant | undefined,
  now: number,
): [PlayEventRefusal, string] | null {
  if (!grant || grant.trackId !== event.trackId) return NO_GRANT;
  if ((renditionById(event.rendition)?.rank ?? Infinity) > planMaxRank(grant.plan)) {
    return ["RENDITION_NOT_ALLOWED", `Rendition ${event.rendition} is above the grant's plan.`];
  }
  const at = Date.parse(event.occurredAt);
  if (at > now + PLAY_EVENT_MAX_FUTURE_MS) {
    return ["IN_FUTURE", "occurredAt is in the future; check the device clock."];
  }
  if (at < now - PLAY_EVENT_MAX_AGE_MS || at < grant.createdAt - PLAY_EVENT_MAX_FUTURE_MS) {
    return ["TOO_OLD", "occurredAt is before the grant or more than a day ago."];
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
