import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { holderShare } from "../src/features/plays/royalties";
import { addHolder, addRight, createArtist, createTrack, makeReady } from "./catalog-fixtures";
import {
  accountWithRole,
  adminAccount,
  call,
  callJson,
  expectProblem,
  type Account,
} from "./helpers";
import { NONE_EXCLUDED, Player, counterFor, grantPlayback, sendEvents } from "./play-fixtures";

const RATE = Number(env.ROYALTY_RATE_PER_STREAM);
const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

let slot = 0;
/**
 * Plays a track for `seconds` (one playback) in a territory and has its counter flush. Each
 * play is granted 70 s after the one before (backdated): one listener plays one at a time.
 */
async function play(listener: Account, trackId: string, country: string, seconds: number) {
  const ageMs = 3_600_000 - slot++ * 70_000;
  const { playbackId, grantedAt } = await grantPlayback(listener, trackId, { country, ageMs });
  const player = new Player(playbackId, trackId, grantedAt + 1000);
  const outcome = await sendEvents(listener, [
    player.event("start", 0),
    player.event("progress", seconds * 1000),
    player.event("end", 0),
  ]);
  expect(outcome.accepted).toBe(3);
  await (await counterFor(trackId, playbackId)).flush();
}

type Report = {
  rows: {
    trackId: string;
    territory: string;
    streams: number;
    seconds: number;
    share: number;
    amount: number;
  }[];
  totals: { streams: number; seconds: number; amount: number };
  currency: string;
};

describe("royalty reports", () => {
  let labelOwner: Account;
  let artist: Account;
  let listener: Account;
  let t1: string;
  let t2: string;

  beforeAll(async () => {
    labelOwner = await accountWithRole("listener");
    artist = await accountWithRole("artist");
    listener = await accountWithRole("listener");
    await addHolder("rh_a", labelOwner.id);
    await addHolder("rh_b", null);
    await addHolder("rh_c", null);
    const artistId = (await createArtist(artist, "Royal Band")).id;
    t1 = (await createTrack(artist, artistId, { title: "First Hit" })).id;
    t2 = (await createTrack(artist, artistId, { title: '=HYPERLINK("x")' })).id;
    const t3 = (await createTrack(artist, artistId, { title: "Someone else's" })).id;
    for (const t of [t1, t2, t3]) await makeReady(t);
    // t1: worldwide 60/40 between A and B, but Germany is all A's. t2: half A's. t3: C's.
    await addRight(t1, "WW", "rh_a", 0.6);
    await addRight(t1, "WW", "rh_b", 0.4);
    await addRight(t1, "DE", "rh_a", 1);
    await addRight(t2, "WW", "rh_a", 0.5);
    await addRight(t3, "WW", "rh_c", 1);
    for (let i = 0; i < 3; i++) await play(listener, t1, "DE", 40);
    for (let i = 0; i < 2; i++) await play(listener, t1, "FR", 35);
    await play(listener, t1, "FR", 20);
    for (let i = 0; i < 2; i++) await play(listener, t2, "JP", 31);
    await play(listener, t3, "JP", 60);
  });

  it("adds up to the plays sent, split by the holder's share per territory", async () => {
    const report = await callJson<Report>("GET", "/v1/royalties/report?holder=rh_a", 200, {
      token: labelOwner.accessToken,
    });
    expect(report.currency).toBe("USD");
    const rows = report.rows.map(({ trackId, territory, streams, seconds, share, amount }) => ({
      trackId,
      territory,
      streams,
      seconds,
      share,
      amount,
    }));
    expect(rows).toEqual(
      expect.arrayContaining([
        { trackId: t1, territory: "DE", streams: 3, seconds: 120, share: 1, amount: 3 * RATE },
        {
          trackId: t1,
          territory: "FR",
          streams: 2,
          seconds: 90,
          share: 0.6,
          amount: 2 * RATE * 0.6,
        },
        {
          trackId: t2,
          territory: "JP",
          streams: 2,
          seconds: 62,
          share: 0.5,
          amount: 2 * RATE * 0.5,
        },
      ]),
    );
    expect(rows).toHaveLength(3);
    expect(report.totals.streams).toBe(7);
    expect(report.totals.amount).toBeCloseTo(RATE * (3 + 1.2 + 1), 9);

    const b = await callJson<Report>("GET", "/v1/royalties/report?holder=rh_b", 200, {
      token: (await adminAccount()).accessToken,
    });
    expect(b.rows.map((r) => [r.trackId, r.territory, r.streams, r.share])).toEqual([
      [t1, "FR", 2, 0.4],
    ]);
  });

  it("covers only the days asked for", async () => {
    await env.DB.prepare(
      `INSERT INTO royalty_rollups (track_id, day, territory, plan, rendition, shard, streams, played_ms, updated_at)
       VALUES (?, ?, 'DE', 'free', 'aac_128', 0, 100, 4000000, 0)`,
    )
      .bind(t1, daysAgo(40))
      .run();
    const recent = await callJson<Report>("GET", "/v1/royalties/report?holder=rh_a", 200, {
      token: labelOwner.accessToken,
    });
    expect(recent.totals.streams).toBe(7);
    const older = await callJson<Report>(
      "GET",
      `/v1/royalties/report?holder=rh_a&from=${daysAgo(60)}&to=${daysAgo(30)}`,
      200,
      { token: labelOwner.accessToken },
    );
    expect(older.rows).toEqual([
      expect.objectContaining({ trackId: t1, territory: "DE", streams: 100 }),
    ]);
    await expectProblem(
      await call("GET", `/v1/royalties/report?holder=rh_a&from=${today()}&to=${daysAgo(1)}`, {
        token: labelOwner.accessToken,
      }),
      400,
      "INVALID_RANGE",
    );
    await expectProblem(
      await call("GET", `/v1/royalties/report?holder=rh_a&from=2020-01-01&to=${today()}`, {
        token: labelOwner.accessToken,
      }),
      400,
      "INVALID_RANGE",
    );
  });

  it("comes as CSV on request, with formulas in titles defused", async () => {
    const res = await call("GET", "/v1/royalties/report?holder=rh_a", {
      token: labelOwner.accessToken,
      headers: { Accept: "text/csv" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("Content-Disposition")).toMatch(
      /^attachment; filename="royalties-rh_a-/,
    );
    const lines = (await res.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "track_id,title,isrc,territory,streams,seconds,share,amount,currency,excluded_self_play,excluded_repeat_cap",
    );
    expect(lines).toHaveLength(4);
    expect(lines).toContain(`${t2},"'=HYPERLINK(""x"")",,JP,2,62,0.5,${2 * RATE * 0.5},USD,0,0`);
  });

  it("is for the holder's account and admins only; anyone else gets 404", async () => {
    for (const who of [listener, artist]) {
      await expectProblem(
        await call("GET", "/v1/royalties/report?holder=rh_a", { token: who.accessToken }),
        404,
        "NOT_FOUND",
      );
    }
    await expectProblem(
      await call("GET", "/v1/royalties/report?holder=rh_nope", {
        token: (await adminAccount()).accessToken,
      }),
      404,
    );
    await expectProblem(await call("GET", "/v1/royalties/report?holder=rh_a"), 401);
    await expectProblem(
      await call("GET", "/v1/royalties/report", { token: labelOwner.accessToken }),
      400,
      "VALIDATION_FAILED",
    );
  });
});

describe("holder shares", () => {
  const right = (
    territory: string,
    holderId: string,
    share: number,
    startsAt: string | null,
    expiresAt: string | null,
  ) => ({
    id: crypto.randomUUID(),
    trackId: "t",
    territory,
    rightType: "stream" as const,
    holderId,
    share,
    startsAt: startsAt ? Date.parse(startsAt) : null,
    expiresAt: expiresAt ? Date.parse(expiresAt) : null,
  });

  it("use the rights in force on each day, a territory's own before worldwide ones", () => {
    const rights = [
      right("WW", "a", 0.5, null, null),
      right("WW", "b", 0.5, null, null),
      right("DE", "b", 1, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
    ];
    expect(holderShare(rights, "a", "t", "DE", "2026-02-28")).toBe(0.5);
    expect(holderShare(rights, "a", "t", "DE", "2026-03-15")).toBe(0);
    expect(holderShare(rights, "b", "t", "DE", "2026-03-15")).toBe(1);
    expect(holderShare(rights, "a", "t", "DE", "2026-04-01")).toBe(0.5);
    expect(holderShare(rights, "a", "other", "DE", "2026-04-01")).toBe(0);
  });
});

describe("track stats", () => {
  let owner: Account;
  let trackId: string;

  beforeAll(async () => {
    owner = await accountWithRole("artist");
    const artistId = (await createArtist(owner, "Stats Band")).id;
    trackId = (await createTrack(owner, artistId, { title: "Charted" })).id;
    await makeReady(trackId);
    await addHolder("rh_stats", null);
    await addRight(trackId, "WW", "rh_stats", 1);
    const fan = await accountWithRole("listener");
    // Counted but not yet flushed: the stats endpoint has the counters write first.
    for (const [i, [country, seconds]] of (
      [
        ["DE", 45],
        ["DE", 10],
        ["US", 31],
      ] as const
    ).entries()) {
      // One after another, as one person listens.
      const ageMs = 600_000 - i * 60_000;
      const { playbackId, grantedAt } = await grantPlayback(fan, trackId, { country, ageMs });
      const player = new Player(playbackId, trackId, grantedAt + 1000);
      await sendEvents(fan, [player.event("start", 0), player.event("progress", seconds * 1000)]);
    }
  });

  it("gives the owner streams and seconds by day and territory, up to the last event", async () => {
    const stats = await callJson<{ totals: unknown; days: unknown[]; from: string; to: string }>(
      "GET",
      `/v1/tracks/${trackId}/stats`,
      200,
      { token: owner.accessToken },
    );
    expect(stats.to).toBe(today());
    expect(stats.from).toBe(daysAgo(27));
    expect(stats.totals).toEqual({ streams: 2, seconds: 86, excluded: NONE_EXCLUDED });
    expect(stats.days).toEqual([
      { day: today(), territory: "DE", streams: 1, seconds: 55 },
      { day: today(), territory: "US", streams: 1, seconds: 31 },
    ]);
    const admin = await callJson<{ totals: unknown }>("GET", `/v1/tracks/${trackId}/stats`, 200, {
      token: (await adminAccount()).accessToken,
    });
    expect(admin.totals).toEqual(stats.totals);
  });

  it("is 404 for everyone else and for tracks that do not exist", async () => {
    for (const who of [await accountWithRole("listener"), await accountWithRole("artist")]) {
      await expectProblem(
        await call("GET", `/v1/tracks/${trackId}/stats`, { token: who.accessToken }),
        404,
      );
    }
    await expectProblem(
      await call("GET", "/v1/tracks/trk_nope/stats", { token: owner.accessToken }),
      404,
    );
    await expectProblem(await call("GET", `/v1/tracks/${trackId}/stats`), 401);
    await expectProblem(
      await call("GET", `/v1/tracks/${trackId}/stats?from=yesterday`, { token: owner.accessToken }),
      400,
      "VALIDATION_FAILED",
    );
  });
});
