import { DurableObject } from "cloudflare:workers";
import {
  PLAY_EVENT_MAX_AGE_MS,
  PLAYED_TOLERANCE_MS,
  StreamAdmissionSchema,
} from "@edge-music/core/play-events";

/** Intervals are kept as long as an event covering them can still arrive, plus an hour. */
const RETENTION_MS = PLAY_EVENT_MAX_AGE_MS + 3600_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS intervals (
  event_id TEXT PRIMARY KEY,
  playback_id TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS intervals_end ON intervals (end_ms);
`;

type Interval = { playback_id: string; start_ms: number; end_ms: number };

/**
 * Most playbacks (other than the one asking) playing at any one moment of `[from, to]`. Each
 * playback's intervals are merged first, so one playback counts once however it reported.
 */
function busiestMoment(intervals: Interval[], from: number, to: number): number {
  const byPlayback = new Map<string, [number, number][]>();
  for (const i of intervals) {
    const span: [number, number] = [Math.max(i.start_ms, from), Math.min(i.end_ms, to)];
    if (span[1] <= span[0]) continue;
    byPlayback.set(i.playback_id, [...(byPlayback.get(i.playback_id) ?? []), span]);
  }
  const edges: [at: number, change: number][] = [];
  for (const spans of byPlayback.values()) {
    spans.sort((a, b) => a[0] - b[0]);
    let [start, end] = spans[0] ?? [0, 0];
    for (const [s, e] of spans.slice(1)) {
      if (s <= end) end = Math.max(end, e);
      else {
        edges.push([start, 1], [end, -1]);
        [start, end] = [s, e];
      }
    }
    edges.push([start, 1], [end, -1]);
  }
  // Ends before starts at the same instant: back-to-back playbacks do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, change] of edges) {
    now += change;
    most = Math.max(most, now);
  }
  return most;
}

/**
 * One per account: when each of its playbacks accumulated played time (the listener's clock)
 * over the last day. A person hears one thing at a time, so at most `limit` playbacks may
 * accumulate counted time at any moment; an event whose time would make one more is refused.
 * Everything lives in the object's SQLite storage; `forget` empties it.
 */
export class ListenerStreams extends DurableObject<Env> {
  #sql: SqlStorage;
  /** Whether this instance has made sure an alarm will purge old intervals. */
  #alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(SCHEMA);
  }

  /**
   * The event ids whose time may not accumulate; the others are recorded. Three statements
   * whatever the batch holds: the ids already known, the intervals the batch's span overlaps,
   * and one insert of what was admitted (decided in memory, in order of end time).
   */
  async admit(input: unknown): Promise<string[]> {
    const { limit, events } = StreamAdmissionSchema.parse(input);
    if (events.length === 0) return [];
    const refused = this.ctx.storage.transactionSync(() => {
      const known = new Set(
        this.#sql
          .exec<{ event_id: string }>(
            "SELECT event_id FROM intervals WHERE event_id IN (SELECT value FROM json_each(?))",
            JSON.stringify(events.map((e) => e.eventId)),
          )
          .toArray()
          .map((r) => r.event_id),
      );
      // A second copy of an event in the batch is the first one again.
      const fresh: typeof events = [];
      for (const e of events) {
        if (known.has(e.eventId)) continue;
        known.add(e.eventId);
        fresh.push(e);
      }
      fresh.sort((a, b) => a.endMs - b.endMs);
      if (fresh.length === 0) return [];
      const span = [
        Math.min(...fresh.map((e) => e.startMs)),
        Math.max(...fresh.map((e) => e.endMs)),
      ] as const;
      const held = this.#sql
        .exec<Interval>(
          "SELECT playback_id, start_ms, end_ms FROM intervals WHERE end_ms > ? AND start_ms < ?",
          span[0],
          span[1],
        )
        .toArray();
      const out: string[] = [];
      const admitted: (Interval & { event_id: string })[] = [];
      for (const e of fresh) {
        // A second of slack each side: players' timers jitter, and tracks follow each other.
        const from = e.startMs + PLAYED_TOLERANCE_MS;
        const to = e.endMs - PLAYED_TOLERANCE_MS;
        const others = held.filter(
          (i) => i.playback_id !== e.playbackId && i.end_ms > from && i.start_ms < to,
        );
        if (to > from && busiestMoment(others, from, to) >= limit) {
          out.push(e.eventId);
          continue;
        }
        const interval = { playback_id: e.playbackId, start_ms: e.startMs, end_ms: e.endMs };
        held.push(interval);
        admitted.push({ ...interval, event_id: e.eventId });
      }
      if (admitted.length) {
        this.#sql.exec(
          `INSERT OR IGNORE INTO intervals (event_id, playback_id, start_ms, end_ms)
           SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`,
          JSON.stringify(admitted.map((i) => [i.event_id, i.playback_id, i.start_ms, i.end_ms])),
        );
      }
      return out;
    });
    if (!this.#alarmSet) {
      if ((await this.ctx.storage.getAlarm()) === null) {
        await this.ctx.storage.setAlarm(Date.now() + RETENTION_MS);
      }
      this.#alarmSet = true;
    }
    return refused;
  }

  /** Gives back the time of events that were admitted here but refused by their counter. */
  async release(eventIds: string[]): Promise<void> {
    this.#sql.exec(
      "DELETE FROM intervals WHERE event_id IN (SELECT value FROM json_each(?))",
      JSON.stringify(eventIds.slice(0, 1000)),
    );
  }

  /** An erased account: nothing of it stays. */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    this.#alarmSet = false;
    const now = Date.now();
    this.#sql.exec("DELETE FROM intervals WHERE end_ms < ?", now - RETENTION_MS);
    const oldest = this.#sql
      .exec<{ at: number | null }>("SELECT min(end_ms) AS at FROM intervals")
      .one().at;
    if (oldest !== null)
      await this.ctx.storage.setAlarm(Math.max(oldest + RETENTION_MS, now + 60_000));
  }
}
