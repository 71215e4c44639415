import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { parseKeyRing } from "@edge-music/core/key-ring";
import { signPlaybackId, verifyPlaybackId } from "@edge-music/core/play-events";
import { verifyPlaybackToken } from "@edge-music/core/playback-token";
import { planMaxRank, renditionById } from "@edge-music/core/renditions";
import {
  isRevoked,
  tokenRevocationKey,
  TokenRevocationSchema,
} from "@edge-music/core/token-revocation";
import {
  addHolder,
  addRight,
  createArtist,
  createTrack,
  makeReady,
  playableTrack,
} from "./catalog-fixtures";
import { accountWithRole, callJson, type Account } from "./helpers";
import {
  NONE_EXCLUDED,
  Player,
  grantPlayback,
  sendEvents,
  statsOf,
  type Outcome,
} from "./play-fixtures";

const KEYS = parseKeyRing(env.PLAYBACK_KEYS, "PLAYBACK_KEYS");
const encoder = new TextEncoder();
let artist: Account;
let artistId: string;

const newTrack = (title = "Guarded") => playableTrack(artist, artistId, title);

const codes = (outcome: Outcome) => outcome.results.map((r) => r.code ?? r.status);

/** One whole 31 s playback ending now-ish, granted `ageMs` ago. */
async function playOnce(who: Account, trackId: string, ageMs = 40_000, country = "US") {
  const { playbackId, grantedAt } = await grantPlayback(who, trackId, { ageMs, country });
  const player = new Player(playbackId, trackId, grantedAt + 1000);
  return sendEvents(who, [player.event("start", 0), player.event("end", 31_000)]);
}

beforeAll(async () => {
  artist = await accountWithRole("artist");
  artistId = (await createArtist(artist, "Guarded Band")).id;
});

describe("forged playback ids", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])(
    "with the inherited key id %s are no grant, and count nothing",
    async (kid) => {
      const trackId = await newTrack();
      const fan = await accountWithRole("listener");
      const claims = {
        sub: fan.id,
        trk: trackId,
        ter: "US",
        pln: "premium",
        shd: 0,
        iat: Date.now() - 60_000,
        exp: Date.now() + 3_600_000,
        n: "forged-nonce",
      };
      const b64 = (bytes: Uint8Array) =>
        btoa(String.fromCharCode(...bytes))
          .replaceAll("+", "-")
          .replaceAll("/", "_")
          .replace(/=+$/, "");
      const body = `pb2.${kid}.${b64(encoder.encode(JSON.stringify(claims)))}`;
      const key = await crypto.subtle.importKey(
        "raw",
        encoder.encode(String(Reflect.get({}, kid))),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
      const forged = `${body}.${b64(mac)}`;
      const player = new Player(forged, trackId, Date.now() - 40_000);
      const outcome = await sendEvents(fan, [
        player.event("start", 0),
        player.event("end", 35_000),
      ]);
      expect(codes(outcome)).toEqual(["NO_GRANT", "NO_GRANT"]);
      expect((await statsOf(artist, trackId)).totals.streams).toBe(0);
    },
  );

  it("that expired are refused, whatever else they say", async () => {
    const trackId = await newTrack();
    const fan = await accountWithRole("listener");
    const { playbackId, grantedAt } = await grantPlayback(fan, trackId, { ageMs: 60_000 });
    const claims = await verifyPlaybackId(playbackId, KEYS);
    if (!claims) throw new Error("grant does not verify");
    const spent = await signPlaybackId({ ...claims, exp: grantedAt + 20_000 }, "p1", KEYS);
    await env.DB.prepare("UPDATE playbacks SET id = ? WHERE id = ?").bind(spent, playbackId).run();
    const player = new Player(spent, trackId, grantedAt + 1000);
    const outcome = await sendEvents(fan, [
      player.event("start", 0),
      player.event("progress", 15_000),
      player.event("end", 16_000),
    ]);
    // Events up to the expiry stand; after it the id is worth nothing.
    expect(codes(outcome)).toEqual(["accepted", "accepted", "GRANT_EXPIRED"]);
  });
});

describe("one account, many playbacks at once", () => {
  it("20 grants ending together count 2 streams (two devices), not 20", async () => {
    const trackId = await newTrack();
    const cheat = await accountWithRole("listener");
    const grants = [];
    for (let i = 0; i < 20; i++)
      grants.push(await grantPlayback(cheat, trackId, { ageMs: 31_500 }));
    const events = grants.flatMap(({ playbackId, grantedAt }) => {
      const player = new Player(playbackId, trackId, grantedAt);
      return [player.event("start", 0), player.event("end", 31_000)];
    });
    const outcome = await sendEvents(cheat, events);
    const ends = outcome.results.filter((_, i) => i % 2 === 1);
    expect(ends.filter((r) => r.status === "accepted")).toHaveLength(2);
    expect(ends.filter((r) => r.code === "TOO_MANY_STREAMS")).toHaveLength(18);
    expect((await statsOf(artist, trackId)).totals.streams).toBe(2);
  });

  it("spreading the 20 over invented times gains at most the clock-skew allowance", async () => {
    const trackId = await newTrack();
    const cheat = await accountWithRole("listener");
    const grantedAgo = 31_500;
    const grants = [];
    for (let i = 0; i < 20; i++)
      grants.push(await grantPlayback(cheat, trackId, { ageMs: grantedAgo }));
    // Each claims a different 30 s slice, reaching back as far as anything is accepted.
    const events = grants.flatMap(({ playbackId, grantedAt }, i) => {
      const end = grantedAt - 60_000 + 30_000 * (Math.floor(i / 2) + 1);
      return [
        {
          ...new Player(playbackId, trackId, end).event("end", 30_000, { gapMs: 0 }),
        },
      ];
    });
    const outcome = await sendEvents(cheat, events);
    const counted = (await statsOf(artist, trackId)).totals.streams;
    // Time granted: 31.5 s, plus 60 s of allowed clock skew before the grant; two at a time.
    expect(counted).toBeLessThanOrEqual(Math.floor((2 * (grantedAgo + 60_000)) / 30_000));
    expect(outcome.rejected).toBeGreaterThanOrEqual(14);
  });

  it("two devices at once both count, and an album played offline counts every track", async () => {
    const fan = await accountWithRole("listener");
    const a = await newTrack("Device A");
    const b = await newTrack("Device B");
    expect((await playOnce(fan, a)).accepted).toBe(2);
    expect((await playOnce(fan, b)).accepted).toBe(2);
    // Six tracks one after another, sent in one batch when the phone came back online.
    const album = await Promise.all(Array.from({ length: 6 }, (_, i) => newTrack(`Side ${i}`)));
    const events = [];
    for (const [i, trackId] of album.entries()) {
      const { playbackId, grantedAt } = await grantPlayback(fan, trackId, {
        ageMs: 600_000 - i * 40_000,
      });
      const player = new Player(playbackId, trackId, grantedAt + 1000);
      events.push(player.event("start", 0), player.event("end", 35_000));
    }
    expect((await sendEvents(fan, events)).accepted).toBe(12);
    for (const trackId of [a, b, ...album]) {
      expect((await statsOf(artist, trackId)).totals.streams).toBe(1);
    }
  });
});

describe("a track that stops being playable", () => {
  async function started(fan: Account, trackId: string, country = "DE") {
    const { playbackId, grantedAt } = await grantPlayback(fan, trackId, {
      ageMs: 120_000,
      country,
    });
    const player = new Player(playbackId, trackId, grantedAt + 1000);
    expect((await sendEvents(fan, [player.event("start", 0)])).accepted).toBe(1);
    return player;
  }

  it("counts nothing more once the owner makes it private, and the gate is told", async () => {
    const trackId = await newTrack();
    const fan = await accountWithRole("listener");
    const player = await started(fan, trackId);
    const grant = await callJson<{ token: string }>("POST", `/v1/tracks/${trackId}/playback`, 200, {
      token: fan.accessToken,
      body: {},
      headers: { "X-Dev-Country": "DE" },
    });
    await callJson("PATCH", `/v1/tracks/${trackId}`, 200, {
      token: artist.accessToken,
      body: { visibility: "private" },
    });
    expect(codes(await sendEvents(fan, [player.event("end", 40_000)]))).toEqual(["NOT_PLAYABLE"]);
    expect((await statsOf(artist, trackId)).totals.streams).toBe(0);
    // The record the gate reads voids the listener's token, not the owner's.
    const object = await env.MEDIA.get(tokenRevocationKey(trackId));
    const record = TokenRevocationSchema.parse(await object?.json());
    const token = await verifyPlaybackToken(grant.token, KEYS);
    if (!token.ok) throw new Error("token does not verify");
    expect(isRevoked(token.claims, record)).toBe(true);
    expect(isRevoked({ ...token.claims, sub: artist.id }, record)).toBe(false);
    // Made public again: the record goes, and so does the refusal.
    await callJson("PATCH", `/v1/tracks/${trackId}`, 200, {
      token: artist.accessToken,
      body: { visibility: "public" },
    });
    expect(await env.MEDIA.head(tokenRevocationKey(trackId))).toBeNull();
  });

  it("counts nothing more where its rights no longer reach, and elsewhere goes on", async () => {
    const trackId = await newTrack();
    const inGermany = await accountWithRole("listener");
    const inFrance = await accountWithRole("listener");
    const de = await started(inGermany, trackId, "DE");
    const fr = await started(inFrance, trackId, "FR");
    await addHolder("rh_fr_only");
    const admin = await accountWithRole("admin");
    await callJson("PUT", `/v1/tracks/${trackId}/rights`, 200, {
      token: admin.accessToken,
      body: { rights: [{ territory: "FR", type: "stream", holderId: "rh_fr_only", share: 1 }] },
    });
    expect(codes(await sendEvents(inGermany, [de.event("end", 40_000)]))).toEqual(["NOT_PLAYABLE"]);
    expect(codes(await sendEvents(inFrance, [fr.event("end", 40_000)]))).toEqual(["accepted"]);
    const record = TokenRevocationSchema.parse(
      await (await env.MEDIA.get(tokenRevocationKey(trackId)))?.json(),
    );
    expect(record.territories).toEqual(["FR"]);
  });

  it("counts nothing more once its right has expired: grants end with the right", async () => {
    const trackId = (await createTrack(artist, artistId, { title: "Expiring" })).id;
    await makeReady(trackId);
    await addHolder("rh_expiring");
    const endsAt = Date.now() + 3_000;
    await env.DB.prepare(
      "INSERT INTO track_rights (id, track_id, territory, right_type, holder_id, share, expires_at) VALUES (?, ?, 'WW', 'stream', 'rh_expiring', 1, ?)",
    )
      .bind(`rt_${crypto.randomUUID()}`, trackId, endsAt)
      .run();
    const fan = await accountWithRole("listener");
    const grant = await callJson<{ expiresAt: string; playbackId: string }>(
      "POST",
      `/v1/tracks/${trackId}/playback`,
      200,
      { token: fan.accessToken, body: {} },
    );
    // The token and the playback id end with the right, not two hours after the track.
    expect(Date.parse(grant.expiresAt)).toBeLessThanOrEqual(endsAt);
    expect((await verifyPlaybackId(grant.playbackId, KEYS))?.exp).toBeLessThanOrEqual(endsAt);
    const player = new Player(grant.playbackId, trackId, Date.now() - 40_000);
    expect(codes(await sendEvents(fan, [player.event("start", 0, { gapMs: 40_000 })]))).toEqual([
      "accepted",
    ]);
    await new Promise((r) => setTimeout(r, endsAt - Date.now() + 1100));
    const late = new Player(grant.playbackId, trackId, Date.now());
    expect(codes(await sendEvents(fan, [late.event("progress", 0)]))).toEqual(["GRANT_EXPIRED"]);
    await callJson("POST", `/v1/tracks/${trackId}/playback`, 451, {
      token: fan.accessToken,
      body: {},
    });
  });
});

describe("streams that bear no royalty", () => {
  it("the owner's own plays are counted as SELF_PLAY, beside the paid ones", async () => {
    const trackId = await newTrack("Mine");
    await addHolder("rh_self", artist.id);
    await addRight(trackId, "DE", "rh_self", 1);
    expect((await playOnce(artist, trackId)).accepted).toBe(2);
    const fan = await accountWithRole("listener");
    expect((await playOnce(fan, trackId)).accepted).toBe(2);
    expect((await statsOf(artist, trackId)).totals).toMatchObject({
      streams: 1,
      excluded: { ...NONE_EXCLUDED, SELF_PLAY: 1 },
    });
    // A holder's manager playing the tracks they are paid for is a self play too.
    const manager = await accountWithRole("listener");
    await addHolder("rh_managed", manager.id);
    await addRight(trackId, "FR", "rh_managed", 1);
    expect((await playOnce(manager, trackId, 40_000, "FR")).accepted).toBe(2);
    await statsOf(artist, trackId); // has the counters flush to the rollups the report reads
    const report = await callJson<{
      rows: { territory: string; streams: number; amount: number; excluded: unknown }[];
      totals: { excluded: unknown };
    }>("GET", "/v1/royalties/report?holder=rh_managed", 200, { token: manager.accessToken });
    expect(report.rows).toEqual([
      expect.objectContaining({
        territory: "FR",
        streams: 0,
        amount: 0,
        excluded: { SELF_PLAY: 1, REPEAT_CAP: 0 },
      }),
    ]);
    expect(report.totals.excluded).toEqual({ SELF_PLAY: 1, REPEAT_CAP: 0 });
  });

  it("a listener's repeats of one track past the daily cap are counted as REPEAT_CAP", async () => {
    const trackId = await newTrack("On Repeat");
    const fan = await accountWithRole("listener");
    const cap = Number(env.PLAY_REPEAT_DAILY_CAP ?? 10);
    const plays = cap + 3;
    // Every play on one UTC day, as the cap is per day: today's when it has room for them
    // (40 s apart), else all of yesterday's (this test once failed just after midnight).
    const spanMs = (plays + 1) * 40_000;
    const sinceMidnight = Date.now() % 86_400_000;
    const oldestAgeMs = sinceMidnight > spanMs + 5_000 ? spanMs : sinceMidnight + spanMs + 5_000;
    const events = [];
    for (let i = 0; i < plays; i++) {
      const { playbackId, grantedAt } = await grantPlayback(fan, trackId, {
        ageMs: oldestAgeMs - i * 40_000,
      });
      const player = new Player(playbackId, trackId, grantedAt + 1000);
      events.push(player.event("start", 0), player.event("end", 31_000));
    }
    expect((await sendEvents(fan, events)).accepted).toBe(plays * 2);
    expect((await statsOf(artist, trackId)).totals).toMatchObject({
      streams: cap,
      excluded: { ...NONE_EXCLUDED, REPEAT_CAP: 3 },
    });
    // Someone else's plays of the same track are theirs to count.
    expect((await playOnce(await accountWithRole("listener"), trackId)).accepted).toBe(2);
    expect((await statsOf(artist, trackId)).totals.streams).toBe(cap + 1);
  });
});

describe("names from the request", () => {
  it("an inherited name as rendition or event type is an invalid event, not a lookup", async () => {
    const trackId = await newTrack("Named");
    const fan = await accountWithRole("listener");
    const { playbackId, grantedAt } = await grantPlayback(fan, trackId);
    const base = new Player(playbackId, trackId, grantedAt + 1000).event("start", 0);
    const outcome = await sendEvents(
      fan,
      ["__proto__", "constructor", "toString"].flatMap((name) => [
        { ...base, eventId: crypto.randomUUID(), rendition: name },
        { ...base, eventId: crypto.randomUUID(), type: name },
      ]),
    );
    expect(codes(outcome)).toEqual(Array(6).fill("INVALID_EVENT"));
  });

  it("plans and renditions are looked up among our own entries only", () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(renditionById(name)).toBeUndefined();
      // A name that is not a plan plays as Free, never as more.
      expect(planMaxRank(name)).toBe(planMaxRank("free"));
    }
    expect(planMaxRank("premium")).toBeGreaterThan(planMaxRank("free"));
  });
});
