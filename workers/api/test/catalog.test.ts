import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createAlbum, createArtist, createTrack } from "./catalog-fixtures";
import {
  accountWithRole,
  adminAccount,
  call,
  callJson,
  expectProblem,
  type Account,
  type Json,
} from "./helpers";

type Page = { items: (Json & { id: string })[]; nextCursor: string | null };

/** Follows nextCursor to the end, collecting ids in order. */
async function collect(path: string, limit: number, token?: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const query = `${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page: Page = await callJson<Page>("GET", `${path}${query}`, 200, token ? { token } : {});
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

describe("catalog", () => {
  let artist: Account;

  beforeAll(async () => {
    artist = await accountWithRole("artist");
  });

  it("an artist account creates its artist, an album and tracks, read back by anyone", async () => {
    const a = await createArtist(artist, "Beyoncé");
    expect(a).toMatchObject({ name: "Beyoncé", ownerId: artist.id });
    const album = await createAlbum(artist, a.id, {
      title: "Lemonade",
      releaseDate: "2016-04-23",
      genre: "R&B / Soul",
    });
    expect(album).toMatchObject({
      title: "Lemonade",
      artist: { id: a.id, name: "Beyoncé" },
      genre: { id: "r-b-soul" },
    });
    const track = await createTrack(artist, a.id, {
      title: "Formation",
      albumId: album.id,
      trackNumber: 12,
      durationMs: 206_000,
      genre: "R&B / Soul",
      isrc: "us-sm1-16-00001",
      releaseDate: "2016-02-06",
      explicit: true,
    });
    expect(track).toMatchObject({
      title: "Formation",
      artist: { id: a.id, name: "Beyoncé" },
      album: { id: album.id, title: "Lemonade" },
      trackNumber: 12,
      durationMs: 206_000,
      isrc: "USSM11600001",
      explicit: true,
      visibility: "public",
      status: "pending",
      ownerId: artist.id,
    });
    expect(await callJson("GET", `/v1/tracks/${track.id}`, 200)).toEqual(track);
    expect(await callJson("GET", `/v1/artists/${a.id}`, 200)).toEqual(a);
  });

  it("returns an album's tracklist in track-number order, unnumbered last", async () => {
    const a = await createArtist(artist);
    const album = await createAlbum(artist, a.id);
    for (const n of [3, null, 1, 2]) {
      await createTrack(artist, a.id, {
        albumId: album.id,
        trackNumber: n,
        title: `Track ${n ?? "bonus"}`,
      });
    }
    const full = await callJson<{ tracks: { title: string }[] }>(
      "GET",
      `/v1/albums/${album.id}`,
      200,
    );
    expect(full.tracks.map((t) => t.title)).toEqual([
      "Track 1",
      "Track 2",
      "Track 3",
      "Track bonus",
    ]);
  });

  it("paginates an artist's albums newest first without gaps or repeats", async () => {
    const a = await createArtist(artist);
    const dates = ["2001", "2019-06-01", "2010-01-01", "2019-06-01", "2005-05"];
    const made: string[] = [];
    for (const releaseDate of dates)
      made.push((await createAlbum(artist, a.id, { releaseDate })).id);
    const ids = await collect(`/v1/artists/${a.id}/albums`, 2);
    expect(new Set(ids)).toEqual(new Set(made));
    expect(ids).toHaveLength(5);
    const page = await callJson<{ items: { releaseDate: string }[] }>(
      "GET",
      `/v1/artists/${a.id}/albums`,
      200,
    );
    expect(page.items.map((x) => x.releaseDate)).toEqual([
      "2019-06-01",
      "2019-06-01",
      "2010-01-01",
      "2005-05",
      "2001",
    ]);
  });

  it("ranks top tracks by counted streams over the last 28 days", async () => {
    const a = await createArtist(artist);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await createTrack(artist, a.id, { title: `Song ${i}` })).id);
    const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
    // [track, days ago, streams, shard]: shards add up; plays older than 28 days do not count.
    const rollups: [number, number, number, number][] = [
      [0, 1, 10, 0],
      [1, 3, 300, 0],
      [1, 20, 200, 1],
      [3, 0, 400, 2],
      [3, 40, 9_000, 0],
      [4, 27, 42, 0],
      [2, 28, 1_000, 0],
    ];
    for (const [i, ago, streams, shard] of rollups) {
      await env.DB.prepare(
        `INSERT INTO royalty_rollups (track_id, day, territory, plan, rendition, shard, streams, played_ms, updated_at)
         VALUES (?, ?, 'DE', 'free', 'aac_128', ?, ?, 0, 0)`,
      )
        .bind(ids[i], day(ago), shard, streams)
        .run();
    }
    const top = await callJson<{ windowDays: number; items: { id: string; streams: number }[] }>(
      "GET",
      `/v1/artists/${a.id}/top-tracks?limit=4`,
      200,
    );
    expect(top.windowDays).toBe(28);
    expect(top.items.map((t) => [t.id, t.streams])).toEqual([
      [ids[1], 500],
      [ids[3], 400],
      [ids[4], 42],
      [ids[0], 10],
    ]);
  });

  it("lists genres and a genre's tracks", async () => {
    const a = await createArtist(artist);
    const t1 = await createTrack(artist, a.id, { genre: "Drum & Bass" });
    const t2 = await createTrack(artist, a.id, { genre: "drum & bass" });
    await createTrack(artist, a.id, { genre: "Ambient" });
    const genreIds = await collect("/v1/genres", 1);
    expect(genreIds).toEqual(expect.arrayContaining(["ambient", "drum-bass"]));
    expect(genreIds).toEqual([...genreIds].sort());
    const tracks = await collect("/v1/genres/drum-bass/tracks", 10);
    expect(new Set(tracks)).toEqual(new Set([t1.id, t2.id]));
    await expectProblem(await call("GET", "/v1/genres/no-such-genre/tracks"), 404, "NOT_FOUND");
  });

  it("edits artists, albums and tracks, keeping fields not sent", async () => {
    const a = await createArtist(artist, "Old Name");
    const renamed = await callJson("PATCH", `/v1/artists/${a.id}`, 200, {
      token: artist.accessToken,
      body: { name: "New Name" },
    });
    expect(renamed).toMatchObject({ name: "New Name", bio: "" });
    const album = await createAlbum(artist, a.id, { releaseDate: "2020" });
    const editedAlbum = await callJson("PATCH", `/v1/albums/${album.id}`, 200, {
      token: artist.accessToken,
      body: { title: "Renamed" },
    });
    expect(editedAlbum).toMatchObject({ title: "Renamed", releaseDate: "2020" });
    const track = await createTrack(artist, a.id, { durationMs: 1000, isrc: "GBAAA2400001" });
    const editedTrack = await callJson("PATCH", `/v1/tracks/${track.id}`, 200, {
      token: artist.accessToken,
      body: { visibility: "unlisted", isrc: null, albumId: album.id },
    });
    expect(editedTrack).toMatchObject({
      visibility: "unlisted",
      isrc: null,
      durationMs: 1000,
      album: { id: album.id },
    });
  });

  describe("refuses bad input with a problem and writes nothing", () => {
    it("unknown artist, album of another artist, taken ISRC, bad ISRC, unknown fields", async () => {
      const a = await createArtist(artist);
      const b = await createArtist(artist);
      const bAlbum = await createAlbum(artist, b.id);
      await createTrack(artist, a.id, { isrc: "USRC17607839" });
      const before = await env.DB.prepare("SELECT count(*) AS n FROM tracks").first<{
        n: number;
      }>();
      const post = (body: Json) => call("POST", "/v1/tracks", { token: artist.accessToken, body });
      await expectProblem(await post({ artistId: "art_nope", title: "X" }), 404, "NOT_FOUND");
      await expectProblem(
        await post({ artistId: a.id, title: "X", albumId: bAlbum.id }),
        422,
        "ALBUM_ARTIST_MISMATCH",
      );
      await expectProblem(
        await post({ artistId: a.id, title: "X", isrc: "US-RC1-76-07839" }),
        409,
        "ISRC_TAKEN",
      );
      await expectProblem(
        await post({ artistId: a.id, title: "X", isrc: "nope" }),
        400,
        "VALIDATION_FAILED",
      );
      await expectProblem(
        await post({ artistId: a.id, title: "X", status: "ready" }),
        400,
        "VALIDATION_FAILED",
      );
      await expectProblem(await post({ artistId: a.id, title: "" }), 400, "VALIDATION_FAILED");
      await expectProblem(
        await post({ artistId: a.id, title: "X", releaseDate: "17/05/2024" }),
        400,
        "VALIDATION_FAILED",
      );
      const after = await env.DB.prepare("SELECT count(*) AS n FROM tracks").first<{ n: number }>();
      expect(after?.n).toBe(before?.n);
    });

    it("a cursor that was not handed out", async () => {
      const a = await createArtist(artist);
      await expectProblem(
        await call("GET", `/v1/artists/${a.id}/albums?cursor=bm9wZQ`),
        400,
        "INVALID_CURSOR",
      );
      await expectProblem(
        await call("GET", `/v1/artists/${a.id}/albums?limit=1000`),
        400,
        "VALIDATION_FAILED",
      );
    });

    it("ids that do not exist are 404", async () => {
      for (const path of [
        "/v1/artists/art_x",
        "/v1/artists/art_x/albums",
        "/v1/artists/art_x/top-tracks",
        "/v1/albums/alb_x",
        "/v1/tracks/trk_x",
      ]) {
        await expectProblem(await call("GET", path), 404, "NOT_FOUND");
      }
    });
  });

  it("lets an admin file an artist for an artist account, which then manages it", async () => {
    const admin = await adminAccount();
    const a = await callJson<{ id: string; ownerId: string }>("POST", "/v1/artists", 201, {
      token: admin.accessToken,
      body: { name: "Signed Act", ownerId: artist.id },
    });
    expect(a.ownerId).toBe(artist.id);
    const track = await createTrack(admin, a.id);
    expect(track["ownerId"]).toBe(artist.id);
    await callJson("PATCH", `/v1/artists/${a.id}`, 200, {
      token: artist.accessToken,
      body: { bio: "Hi" },
    });
    const listener = await accountWithRole("listener");
    await expectProblem(
      await call("POST", "/v1/artists", {
        token: admin.accessToken,
        body: { name: "X", ownerId: listener.id },
      }),
      422,
      "INVALID_OWNER",
    );
  });
});
