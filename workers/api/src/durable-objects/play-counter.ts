import { DurableObject } from "cloudflare:workers";
import {
  CounterBatchSchema,
  CounterForgetSchema,
  PLAY_DEDUP_WINDOW_MS,
  PLAY_EVENT_MAX_AGE_MS,
  PLAYED_TOLERANCE_MS,
  STREAM_THRESHOLD_MS,
  dayOf,
  type CounterEvent,
  type Exclusion,
  type PlayEventResult,
} from "@edge-music/core/play-events";
import { migrateCounter, type SessionRow, type TotalsRow } from "./play-counter-schema";
import { flushCounter } from "./play-counter-flush";
import { readConfig } from "../lib/config";

/** A stream not yet written to D1's listening history. */
type PendingStream = [
  id: string,
  userId: string,
  playedAt: number,
  territory: string,
  plan: string,
  rendition: string,
  exclusion: Exclusion | "",
];

/**
 * What one batch changes, written at its end with one statement per table: the per-call
 * cost of a SQLite statement, not the rows, is what a batch of 50 events pays for.
 */
class BatchChanges {
  /**
   * `fresh`: the event ids this batch claimed first; `stored`: their playbacks as stored;
   * `days`: royalty-bearing streams so far per `<user>|<day>` of the batch's listeners.
   */
  constructor(
    readonly trackId: string,
    readonly fresh: Set<string>,
    readonly stored: Map<string, SessionRow>,
    readonly days: Map<string, number>,
  ) {}

  /** Playbacks changed by this batch. */
  readonly sessions = new Map<string, SessionRow>();
  readonly totals = new Map<string, Omit<TotalsRow, "rev">>();
  readonly streams: PendingStream[] = [];
  /** `<user>|<day>` counts this batch changed. */
  readonly changedDays = new Set<string>();

  add(e: CounterEvent, exclusion: string, streams: number) {
    if (e.playedMs === 0 && streams === 0) return;
    const day = dayOf(e.occurredAt);
    const key = `${day}|${e.territory}|${e.plan}|${e.rendition}|${exclusion}`;
    const row = this.totals.get(key) ?? {
      day,
      territory: e.territory,
      plan: e.plan,
      rendition: e.rendition,
      exclusion,
      streams: 0,
      played_ms: 0,
    };
    row.streams += streams;
    row.played_ms += e.playedMs;
    this.totals.set(key, row);
  }

  /**
   * Whether one more royalty-bearing stream by `userId` on `day` is within `cap`; if it is,
   * it is counted against the cap.
   */
  takeRoyaltyStream(userId: string, day: string, cap: number): boolean {
    const key = `${userId}|${day}`;
    const so = this.days.get(key) ?? 0;
    if (so >= cap) return false;
    this.days.set(key, so + 1);
    this.changedDays.add(key);
    return true;
  }
}

/** Counter rows for days this old are dropped once flushed: no accepted event can reach them. */
const TOTALS_RETENTION_MS = 3 * 24 * 3600 * 1000;

const newSession = (playbackId: string, now: number): SessionRow => ({
  playback_id: playbackId,
  seq: 0,
  played_ms: 0,
  total_ms: 0,
  counted: 0,
  ended: 0,
  last_at: null,
  updated_at: now,
  exclusion: "",
});

/**
 * Counts the plays of one shard of a track. Every piece of state (seen event ids, playbacks,
 * totals, streams not yet written to D1) lives in the object's SQLite storage, so eviction
 * loses nothing. An alarm flushes totals and counted streams to D1.
 */
export class PlayCounter extends DurableObject<Env> {
  #sql: SqlStorage;
  #alarmPending = false;
  #flushing: Promise<unknown> = Promise.resolve();
  /** Whether this instance has recorded its track and shard (the flush needs them). */
  #named = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    migrateCounter(this.#sql);
  }

  /** Applies events the api has checked against their grants; one result per event. */
  async record(input: unknown): Promise<PlayEventResult[]> {
    const batch = CounterBatchSchema.parse(input);
    const now = Date.now();
    // Within one playback, events apply in the order they happened.
    const ordered = [...batch.events].sort((a, b) => a.occurredAt - b.occurredAt);
    const { results, streams } = this.ctx.storage.transactionSync(() => {
      if (!this.#named) {
        this.#sql.exec(
          "INSERT OR IGNORE INTO meta (key, value) VALUES ('track', ?), ('shard', ?)",
          batch.trackId,
          String(batch.shard),
        );
      }
      // Claim every event id in one statement: what comes back is new, the rest are resends.
      const fresh = this.#sql
        .exec<{ event_id: string }>(
          "INSERT OR IGNORE INTO seen_events (event_id, seen_at) SELECT value, ? FROM json_each(?) RETURNING event_id",
          now,
          JSON.stringify(ordered.map((e) => e.eventId)),
        )
        .toArray();
      const claimed = new Set(fresh.map((r) => r.event_id));
      const playbackIds = new Set(
        ordered.filter((e) => claimed.has(e.eventId)).map((e) => e.playbackId),
      );
      const stored = this.#sql
        .exec<SessionRow>(
          "SELECT * FROM sessions WHERE playback_id IN (SELECT value FROM json_each(?))",
          JSON.stringify([...playbackIds]),
        )
        .toArray();
      const days = this.#sql
        .exec<{ user_id: string; day: string; streams: number }>(
          "SELECT user_id, day, streams FROM listener_days WHERE user_id IN (SELECT value FROM json_each(?))",
          JSON.stringify([...new Set(ordered.map((e) => e.userId))]),
        )
        .toArray();
      const changes = new BatchChanges(
        batch.trackId,
        claimed,
        new Map(stored.map((row) => [row.playback_id, row])),
        new Map(days.map((d) => [`${d.user_id}|${d.day}`, d.streams])),
      );
      const applied = ordered.map((event) => this.#apply(event, now, changes, batch.repeatCap));
      this.#write(changes);
      return { results: applied, streams: changes.streams };
    });
    this.#named = true;
    this.#reportStreams(batch.trackId, streams);
    if (results.some((r) => r.status === "accepted")) await this.#scheduleFlush(now);
    return results.sort((a, b) => a.index - b.index);
  }

  /**
   * An erased account: its counted streams go to D1 first (where the api then anonymises
   * them), then its playbacks' progress is dropped, so nothing here names the user.
   */
  async forget(input: unknown): Promise<void> {
    const { userId, playbackIds } = CounterForgetSchema.parse(input);
    const pending = () =>
      this.#sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM pending_streams WHERE user_id = ?", userId)
        .one().n;
    while (pending() > 0) await this.#flush();
    this.#sql.exec(
      "DELETE FROM sessions WHERE playback_id IN (SELECT value FROM json_each(?))",
      JSON.stringify(playbackIds),
    );
    this.#sql.exec("DELETE FROM listener_days WHERE user_id = ?", userId);
  }

  /** Writes what is not yet in D1 now (reads call this to see the latest totals). */
  async flush(): Promise<{ rollups: number; streams: number }> {
    return this.#flush();
  }

  override async alarm(): Promise<void> {
    this.#alarmPending = false;
    const now = Date.now();
    await this.#flush();
    this.#sql.exec("DELETE FROM seen_events WHERE seen_at < ?", now - PLAY_DEDUP_WINDOW_MS);
    this.#sql.exec("DELETE FROM sessions WHERE updated_at < ?", now - PLAY_DEDUP_WINDOW_MS);
    this.#sql.exec(
      "DELETE FROM totals WHERE day < ? AND rev = flushed_rev",
      dayOf(now - TOTALS_RETENTION_MS),
    );
    // A day's repeat counts matter while its events can arrive (a day), no longer.
    this.#sql.exec("DELETE FROM listener_days WHERE day < ?", dayOf(now - PLAY_EVENT_MAX_AGE_MS));
    // Events that arrived while the flush was writing wait for the next alarm.
    const dirty = this.#sql
      .exec<{ n: number }>(
        "SELECT (SELECT count(*) FROM totals WHERE rev > flushed_rev) + (SELECT count(*) FROM pending_streams) AS n",
      )
      .one().n;
    if (dirty > 0) {
      await this.#scheduleFlush(now);
      return;
    }
    // Idle: wake once more when the remembered event ids are due to go.
    const oldest = this.#sql
      .exec<{ at: number | null }>("SELECT min(seen_at) AS at FROM seen_events")
      .one().at;
    if (oldest !== null) await this.ctx.storage.setAlarm(oldest + PLAY_DEDUP_WINDOW_MS + 1000);
  }

  /**
   * One flush at a time: two overlapping flushes could land in D1 out of order and leave an
   * older total there while this object believes the newer one was written.
   */
  #flush(): Promise<{ rollups: number; streams: number }> {
    const run = this.#flushing.then(() => flushCounter(this.#sql, this.env, Date.now()));
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  #apply(e: CounterEvent, now: number, changes: BatchChanges, repeatCap: number): PlayEventResult {
    const base = { index: e.index, eventId: e.eventId };
    // Claimed for this batch (a second copy in the same batch is a duplicate too); a refused
    // event gives its claim back.
    if (!changes.fresh.delete(e.eventId)) return { ...base, status: "duplicate" };
    const refuse = (code: "OUT_OF_ORDER" | "PLAYED_EXCEEDS_WALL_TIME", reason: string) => {
      this.#sql.exec("DELETE FROM seen_events WHERE event_id = ?", e.eventId);
      return { ...base, status: "rejected" as const, code, reason };
    };
    let s =
      changes.sessions.get(e.playbackId) ??
      changes.stored.get(e.playbackId) ??
      newSession(e.playbackId, now);
    // Playing again after the end is a new playback of the same grant.
    if (s.ended) s = { ...s, seq: s.seq + 1, played_ms: 0, counted: 0, ended: 0, exclusion: "" };
    if (s.last_at !== null && e.occurredAt < s.last_at) {
      return refuse("OUT_OF_ORDER", "Older than an event already taken for this playback.");
    }
    // Played time can exceed neither the time since the previous event nor, over the whole
    // playback, the server's time since the grant (so invented timestamps gain nothing).
    const sincePrevious = s.last_at === null ? now - e.grantedAt : e.occurredAt - s.last_at;
    if (
      e.playedMs > sincePrevious + PLAYED_TOLERANCE_MS ||
      s.total_ms + e.playedMs > now - e.grantedAt + PLAYED_TOLERANCE_MS
    ) {
      return refuse(
        "PLAYED_EXCEEDS_WALL_TIME",
        `playedMs ${e.playedMs} is more than the time that passed.`,
      );
    }
    // Own plays are recorded but bear no royalty, from the playback's first second.
    if (e.selfPlay) s = { ...s, exclusion: "SELF_PLAY" };
    s = {
      ...s,
      played_ms: s.played_ms + e.playedMs,
      total_ms: s.total_ms + e.playedMs,
      last_at: e.occurredAt,
      updated_at: now,
      ended: e.type === "end" || e.type === "skip" ? 1 : 0,
    };
    const counts = !s.counted && s.played_ms >= STREAM_THRESHOLD_MS;
    if (counts) {
      s.counted = 1;
      // Past the listener's daily cap for this track, a stream is counted but bears nothing.
      if (!s.exclusion && !changes.takeRoyaltyStream(e.userId, dayOf(e.occurredAt), repeatCap)) {
        s.exclusion = "REPEAT_CAP";
      }
    }
    changes.sessions.set(e.playbackId, s);
    changes.add(e, s.exclusion, counts ? 1 : 0);
    if (counts) {
      changes.streams.push([
        `${e.playbackId}:${s.seq}`,
        e.userId,
        e.occurredAt,
        e.territory,
        e.plan,
        e.rendition,
        s.exclusion as Exclusion | "",
      ]);
    }
    return { ...base, status: "accepted" };
  }

  /** One statement per table for everything the batch changed. */
  #write(changes: BatchChanges) {
    if (changes.sessions.size > 0) {
      this.#sql.exec(
        `INSERT OR REPLACE INTO sessions (playback_id, seq, played_ms, total_ms, counted, ended, last_at, updated_at, exclusion)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8
         FROM json_each(?)`,
        JSON.stringify(
          [...changes.sessions.values()].map((s) => [
            s.playback_id,
            s.seq,
            s.played_ms,
            s.total_ms,
            s.counted,
            s.ended,
            s.last_at,
            s.updated_at,
            s.exclusion,
          ]),
        ),
      );
    }
    if (changes.totals.size > 0) {
      // `WHERE true`: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON.
      this.#sql.exec(
        `INSERT INTO totals (day, territory, plan, rendition, exclusion, streams, played_ms, rev, flushed_rev)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, 1, 0
         FROM json_each(?) WHERE true
         ON CONFLICT (day, territory, plan, rendition, exclusion) DO UPDATE SET
           streams = streams + excluded.streams, played_ms = played_ms + excluded.played_ms, rev = rev + 1`,
        JSON.stringify(
          [...changes.totals.values()].map((t) => [
            t.day,
            t.territory,
            t.plan,
            t.rendition,
            t.exclusion,
            t.streams,
            t.played_ms,
          ]),
        ),
      );
    }
    if (changes.streams.length > 0) {
      this.#sql.exec(
        `INSERT OR IGNORE INTO pending_streams (id, user_id, played_at, territory, plan, rendition, exclusion)
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
         FROM json_each(?)`,
        JSON.stringify(changes.streams),
      );
    }
    if (changes.changedDays.size > 0) {
      this.#sql.exec(
        `INSERT OR REPLACE INTO listener_days (user_id, day, streams)
         SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)`,
        JSON.stringify(
          [...changes.changedDays].map((key) => {
            const [userId, day] = key.split("|");
            return [userId, day, changes.days.get(key) ?? 0];
          }),
        ),
      );
    }
  }

  /** Analytics Engine points for the streams a committed batch counted; nothing personal. */
  #reportStreams(trackId: string, streams: PendingStream[]) {
    for (const [, , playedAt, territory, plan, rendition, exclusion] of streams) {
      this.env.PLAYS_ANALYTICS?.writeDataPoint({
        indexes: [trackId],
        blobs: [trackId, territory, plan, rendition, exclusion],
        doubles: [1, playedAt],
      });
    }
  }

  async #scheduleFlush(now: number) {
    if (this.#alarmPending) return;
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(now + readConfig(this.env).plays.flushSeconds * 1000);
    }
    this.#alarmPending = true;
  }
}
