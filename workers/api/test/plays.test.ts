import {
  env,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PLAY_DEDUP_WINDOW_MS } from "@edge-music/core/play-events";
import { createArtist, playableTrack } from "./catalog-fixtures";
import { accountWithRole, call, callJson, expectProblem, type Account } from "./helpers";
import {
  NONE_EXCLUDED,
  Player,
  counterFor,
  grantPlayback,
  sendEvents,
  statsOf,
} from "./play-fixtures";

let artist: Account;
let listener: Account;
let artistId: string;

/** A fresh ready public track that anyone may stream everywhere. */
const newTrack = (title = "Counted") => playableTrack(artist, artistId, title);

beforeAll(async () => {
  artist = await accountWithRole("artist");
  artistId = (await createArtist(artist, "Play Band")).id;
});

// A listener per test: one person's playbacks may not overlap (two at a time), and tests here
// place their playbacks at the same backdated moments.
beforeEach(async () => {
  listener = await accountWithRole("listener");
});

describe("the 30-second threshold", () => {
  async function playFor(durations: number[]) {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    const events = [
      player.event("start", 0),
      ...durations.map((ms) => player.event("progress", ms)),
    ];
    const outcome = await sendEvents(listener, events);
    expect(outcome.accepted).toBe(events.length);
    return statsOf(artist, trackId);
  }

  it("does not count 29.9 seconds", async () => {
    const stats = await playFor([29_900]);
    expect(stats.totals).toEqual({ streams: 0, seconds: 30, excluded: NONE_EXCLUDED });
  });

  it("counts exactly 30 seconds as one stream", async () => {
    expect((await playFor([30_000])).totals.streams).toBe(1);
  });

  it("counts 30 seconds split over many progress events once, however long it plays on", async () => {
    const stats = await playFor([...Array(10).fill(3_000), ...Array(20).fill(5_000)]);
    expect(stats.totals).toEqual({ streams: 1, seconds: 130, excluded: NONE_EXCLUDED });
  });

  it("does not count a seek forward as played time", async () => {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    await sendEvents(listener, [
      player.event("start", 0),
      player.event("seek", 10_000, { positionMs: 150_000 }),
      player.event("progress", 15_000),
      player.event("end", 4_000, { positionMs: 180_000 }),
    ]);
    expect((await statsOf(artist, trackId)).totals).toEqual({
      streams: 0,
      seconds: 29,
      excluded: NONE_EXCLUDED,
    });
  });

  it("counts a replay after the end as a new playback", async () => {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    const outcome = await sendEvents(listener, [
      player.event("start", 0),
      player.event("end", 40_000),
      player.event("start", 0, { positionMs: 0 }),
      player.event("progress", 31_000),
      player.event("pause", 1_000),
    ]);
    expect(outcome.accepted).toBe(5);
    expect((await statsOf(artist, trackId)).totals).toEqual({
      streams: 2,
      seconds: 72,
      excluded: NONE_EXCLUDED,
    });
  });
});

describe("playback events", () => {
  it("answers a resent batch as duplicates and counts nothing twice", async () => {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    const batch = [
      player.event("start", 0),
      player.event("progress", 20_000),
      player.event("progress", 20_000),
    ];
    expect((await sendEvents(listener, batch)).accepted).toBe(3);
    const again = await sendEvents(listener, batch);
    expect(again).toMatchObject({ accepted: 0, duplicates: 3, rejected: 0 });
    // Half old, half new: only the new half counts.
    const mixed = await sendEvents(listener, [batch[2], player.event("progress", 5_000)]);
    expect(mixed).toMatchObject({ accepted: 1, duplicates: 1 });
    // The same event twice in one batch counts once.
    const twice = player.event("progress", 1_000);
    const doubled = await sendEvents(listener, [twice, twice]);
    expect(doubled.results.map((r) => r.status)).toEqual(["accepted", "duplicate"]);
    expect((await statsOf(artist, trackId)).totals).toEqual({
      streams: 1,
      seconds: 46,
      excluded: NONE_EXCLUDED,
    });
  });

  it("refuses bad events one by one and takes the rest of the batch", async () => {
    const trackId = await newTrack();
    const otherTrack = await newTrack("Other");
    const stranger = await accountWithRole("listener");
    const mine = await grantPlayback(listener, trackId);
    const theirs = await grantPlayback(stranger, trackId);
    const fresh = await grantPlayback(listener, otherTrack, { ageMs: 0 });
    const now = Date.now();
    const good = new Player(mine.playbackId, trackId, mine.grantedAt + 1000);
    const wrongTrack = new Player(mine.playbackId, otherTrack, mine.grantedAt + 1000);
    const foreign = new Player(theirs.playbackId, trackId, theirs.grantedAt + 1000);
    const unknown = new Player("pb_nope", trackId, mine.grantedAt + 1000);
    // Someone else's grant with its claims rewritten to name this listener: the HMAC fails.
    const [tag, kid, payload, signature] = theirs.playbackId.split(".");
    const claims = JSON.parse(atob((payload ?? "").replaceAll("-", "+").replaceAll("_", "/")));
    const rewritten = btoa(JSON.stringify({ ...claims, sub: listener.id }))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
    const forged = new Player(
      [tag, kid, rewritten, signature].join("."),
      trackId,
      theirs.grantedAt + 1000,
    );
    const future = new Player(mine.playbackId, trackId, now + 5 * 60_000);
    const ancient = new Player(mine.playbackId, trackId, now - 2 * 24 * 3600_000);
    const lossless = new Player(mine.playbackId, trackId, mine.grantedAt + 1000, "flac");
    const instant = new Player(fresh.playbackId, otherTrack, fresh.grantedAt);
    const events: unknown[] = [
      good.event("start", 0),
      { ...good.event("progress", 1_000), type: "rewind" },
      "not an event",
      wrongTrack.event("start", 0),
      foreign.event("start", 0),
      unknown.event("start", 0),
      forged.event("start", 0),
      future.event("start", 0),
      ancient.event("start", 0),
      lossless.event("start", 0),
      instant.event("progress", 30_000),
      good.event("progress", 25_000),
      good.event("progress", 60_000, { gapMs: 10_000 }),
    ];
    const outcome = await sendEvents(listener, events);
    expect(outcome.results.map((r) => r.code ?? r.status)).toEqual([
      "accepted",
      "INVALID_EVENT",
      "INVALID_EVENT",
      "NO_GRANT",
      "NO_GRANT",
      "NO_GRANT",
      "NO_GRANT",
      "IN_FUTURE",
      "TOO_OLD",
      "RENDITION_NOT_ALLOWED",
      "PLAYED_EXCEEDS_WALL_TIME",
      "accepted",
      "PLAYED_EXCEEDS_WALL_TIME",
    ]);
    expect(outcome).toMatchObject({ accepted: 2, duplicates: 0, rejected: 11 });
    expect(outcome.results[1]?.eventId).toEqual(expect.any(String));
    expect((await statsOf(artist, trackId)).totals).toEqual({
      streams: 0,
      seconds: 25,
      excluded: NONE_EXCLUDED,
    });
  });

  it("refuses an event older than one already taken for its playback", async () => {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    const early = player.event("start", 0);
    const later = player.event("progress", 10_000);
    await sendEvents(listener, [later]);
    const outcome = await sendEvents(listener, [early]);
    expect(outcome.results[0]?.code).toBe("OUT_OF_ORDER");
  });

  it("refuses whole batches that are malformed, too big or unsigned", async () => {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    const tooMany = Array.from({ length: 101 }, () => player.event("progress", 0));
    await expectProblem(
      await call("POST", "/v1/playback-events", {
        token: listener.accessToken,
        body: { events: tooMany },
      }),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(
      await call("POST", "/v1/playback-events", {
        token: listener.accessToken,
        body: { events: [] },
      }),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(
      await call("POST", "/v1/playback-events", { body: { events: [player.event("start", 0)] } }),
      401,
    );
    const huge = { events: [{ ...player.event("start", 0), padding: "x".repeat(300 * 1024) }] };
    await expectProblem(
      await call("POST", "/v1/playback-events", { token: listener.accessToken, body: huge }),
      413,
      "BODY_TOO_LARGE",
    );
  });
});

describe("the PlayCounter Durable Object", () => {
  it("loses nothing when evicted and rebuilt mid-playback", async () => {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    await sendEvents(listener, [player.event("start", 0), player.event("progress", 20_000)]);
    const stub = await counterFor(trackId, playbackId);
    await evictDurableObject(stub);
    // A new instance over the same storage knows the playback's 20 s.
    const played = await runInDurableObject(
      stub,
      (_instance, state) =>
        state.storage.sql
          .exec<{ played_ms: number }>(
            "SELECT played_ms FROM sessions WHERE playback_id = ?",
            playbackId,
          )
          .one().played_ms,
    );
    expect(played).toBe(20_000);
    await sendEvents(listener, [player.event("progress", 10_000)]);
    expect((await statsOf(artist, trackId)).totals).toEqual({
      streams: 1,
      seconds: 30,
      excluded: NONE_EXCLUDED,
    });
  });

  it("flushes rollups and history from its alarm, and a re-flush never double counts", async () => {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    await sendEvents(listener, [player.event("start", 0), player.event("progress", 45_000)]);
    const stub = await counterFor(trackId, playbackId);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rollup = () =>
      env.DB.prepare(
        "SELECT sum(streams) AS streams, sum(played_ms) AS ms FROM royalty_rollups WHERE track_id = ?",
      )
        .bind(trackId)
        .first<{ streams: number; ms: number }>();
    expect(await rollup()).toEqual({ streams: 1, ms: 45_000 });
    const history = () =>
      env.DB.prepare("SELECT * FROM listening_history WHERE track_id = ?").bind(trackId).all();
    const written = (await history()).results;
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      user_id: listener.id,
      rendition: "aac_128",
      territory: "ZZ",
    });
    // Forget that D1 has it all (as if the flush's acknowledgement was lost), flush again.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE totals SET flushed_rev = 0");
      state.storage.sql.exec(
        "INSERT INTO pending_streams (id, user_id, played_at, territory, plan, rendition) VALUES (?, ?, ?, 'ZZ', 'free', 'aac_128')",
        `${playbackId}:0`,
        listener.id,
        written[0]?.["played_at"],
      );
    });
    const again = await stub.flush();
    expect(again).toEqual({ rollups: 1, streams: 1 });
    expect(await rollup()).toEqual({ streams: 1, ms: 45_000 });
    expect((await history()).results).toHaveLength(1);
    expect(await stub.flush()).toEqual({ rollups: 0, streams: 0 });
  });

  it("forgets event ids once they are too old to be resent, then sleeps", async () => {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    await sendEvents(listener, [player.event("start", 0), player.event("progress", 5_000)]);
    const stub = await counterFor(trackId, playbackId);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // Nothing is dirty; the next alarm is when the ids it remembers expire.
    const next = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(next).toBeGreaterThan(Date.now() + PLAY_DEDUP_WINDOW_MS - 60_000);
    const count = () =>
      runInDurableObject(
        stub,
        (_i, state) =>
          state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM seen_events").one().n,
      );
    expect(await count()).toBe(2);
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec(
        "UPDATE seen_events SET seen_at = seen_at - ?",
        PLAY_DEDUP_WINDOW_MS + 5_000,
      );
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await count()).toBe(0);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });
});

describe("analytics", () => {
  it("writes one Analytics Engine point per counted stream, with nothing personal", async () => {
    const trackId = await newTrack();
    const { playbackId, grantedAt } = await grantPlayback(listener, trackId, { country: "SE" });
    const stub = await counterFor(trackId, playbackId);
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    const events = [
      player.event("start", 0),
      player.event("progress", 20_000),
      player.event("progress", 20_000),
    ];
    // Analytics Engine cannot be read back offline: record what the counter sends it.
    const points = await runInDurableObject(stub, async (instance) => {
      const sent: AnalyticsEngineDataPoint[] = [];
      (instance as unknown as { env: Env }).env = {
        ...env,
        PLAYS_ANALYTICS: { writeDataPoint: (p?: AnalyticsEngineDataPoint) => p && sent.push(p) },
      };
      await instance.record({
        version: 1,
        trackId,
        shard: 0,
        repeatCap: 10,
        events: events.map((e, index) => ({
          index,
          eventId: e.eventId,
          playbackId,
          type: e.type,
          playedMs: e.playedMs,
          rendition: e.rendition,
          occurredAt: Date.parse(e.occurredAt),
          userId: listener.id,
          territory: "SE",
          plan: "free",
          grantedAt,
          selfPlay: false,
        })),
      });
      return sent;
    });
    expect(points).toEqual([
      {
        indexes: [trackId],
        blobs: [trackId, "SE", "free", "aac_128", ""],
        doubles: [1, expect.any(Number)],
      },
    ]);
    expect(JSON.stringify(points)).not.toContain(listener.id);
  });
});

describe("sharded counters", () => {
  it("spread a hot track's playbacks and merge to the same totals as one counter", async () => {
    // A hot track has many listeners; each account's playbacks stay on one counter.
    const listeners = await Promise.all(
      Array.from({ length: 24 }, () => accountWithRole("listener")),
    );
    const totalsOf = async (hot: boolean) => {
      const trackId = await newTrack(hot ? "Hot" : "Cold");
      if (hot) {
        await env.DB.prepare("UPDATE tracks SET popularity = ? WHERE id = ?")
          .bind(Number(env.PLAY_COUNTER_HOT_STREAMS), trackId)
          .run();
      }
      // 24 playbacks from three territories, 10 to 70 seconds each.
      for (const [i, fan] of listeners.entries()) {
        const country = ["DE", "FR", "JP"][i % 3] ?? "DE";
        const { playbackId, grantedAt } = await grantPlayback(fan, trackId, { country });
        const player = new Player(playbackId, trackId, grantedAt + 1000);
        const events = [player.event("start", 0)];
        for (let s = 0; s < 1 + (i % 7); s++) events.push(player.event("progress", 10_000));
        expect((await sendEvents(fan, events)).accepted).toBe(events.length);
      }
      await statsOf(artist, trackId);
      const shardsUsed = await env.DB.prepare(
        "SELECT count(DISTINCT shard) AS n FROM royalty_rollups WHERE track_id = ?",
      )
        .bind(trackId)
        .first<{ n: number }>();
      const rows = await env.DB.prepare(
        `SELECT day, territory, plan, rendition, sum(streams) AS streams, sum(played_ms) AS ms
         FROM royalty_rollups WHERE track_id = ? GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      )
        .bind(trackId)
        .all();
      return { shardsUsed: shardsUsed?.n, rows: rows.results };
    };
    const cold = await totalsOf(false);
    const hot = await totalsOf(true);
    expect(cold.shardsUsed).toBe(1);
    expect(hot.shardsUsed).toBeGreaterThan(1);
    expect(hot.rows).toEqual(cold.rows);
    // Playbacks with 3 or more progress events (16 of the 24) pass 30 s; every territory is there.
    expect(cold.rows.map((r) => r["territory"])).toEqual(["DE", "FR", "JP"]);
    expect(cold.rows.reduce((n, r) => n + Number(r["streams"]), 0)).toBe(16);
  });
});

describe("listening history", () => {
  it("lists the caller's counted streams, newest first, paginated, and no one else's", async () => {
    const fan = await accountWithRole("listener");
    const played: string[] = [];
    for (let i = 0; i < 3; i++) {
      const trackId = await newTrack(`History ${i}`);
      const { playbackId, grantedAt } = await grantPlayback(fan, trackId, {
        ageMs: 600_000 - i * 60_000,
      });
      const player = new Player(playbackId, trackId, grantedAt + 1000);
      await sendEvents(fan, [player.event("start", 0), player.event("progress", 35_000)]);
      await (await counterFor(trackId, playbackId)).flush();
      played.push(trackId);
    }
    const first = await callJson<{
      items: { trackId: string; track: { title: string } | null }[];
      nextCursor: string | null;
    }>("GET", "/v1/me/history?limit=2", 200, { token: fan.accessToken });
    expect(first.items.map((i) => i.trackId)).toEqual([played[2], played[1]]);
    expect(first.items[0]?.track?.title).toBe("History 2");
    const second = await callJson<{ items: { trackId: string }[]; nextCursor: string | null }>(
      "GET",
      `/v1/me/history?limit=2&cursor=${first.nextCursor ?? ""}`,
      200,
      { token: fan.accessToken },
    );
    expect(second.items.map((i) => i.trackId)).toEqual([played[0]]);
    expect(second.nextCursor).toBeNull();
    // A track made private since is still listed, without its details.
    await env.DB.prepare("UPDATE tracks SET visibility = 'private' WHERE id = ?")
      .bind(played[2])
      .run();
    const after = await callJson<{ items: { trackId: string; track: unknown }[] }>(
      "GET",
      "/v1/me/history",
      200,
      {
        token: fan.accessToken,
      },
    );
    expect(after.items[0]).toMatchObject({ trackId: played[2], track: null });
    const others = await callJson<{ items: unknown[] }>("GET", "/v1/me/history", 200, {
      token: (await accountWithRole("listener")).accessToken,
    });
    expect(others.items).toEqual([]);
    await expectProblem(await call("GET", "/v1/me/history"), 401);
  });
});
