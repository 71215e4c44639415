import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { LIKES_PER_USER_MAX } from "../src/features/likes/likes";
import { createAlbum, createArtist, createTrack } from "./catalog-fixtures";
import { accountWithRole, call, callJson, expectProblem, type Account } from "./helpers";

type LikePage = {
  items: { type: string; id: string; item: { id: string } | null }[];
  nextCursor: string | null;
};

let fan: Account;
let artist: Account;
let artistId: string;

const like = (type: string, id: string, who = fan) =>
  call("PUT", `/v1/me/likes/${type}/${id}`, { token: who.accessToken });

async function allLiked(type: string, limit: number, who = fan) {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: LikePage = await callJson<LikePage>(
      "GET",
      `/v1/me/likes?type=${type}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
      200,
      { token: who.accessToken },
    );
    ids.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

beforeAll(async () => {
  fan = await accountWithRole("listener");
  artist = await accountWithRole("artist");
  artistId = (await createArtist(artist, "Liked Band")).id;
});

describe("likes", () => {
  it("like every kind of thing once, newest first, paginated", async () => {
    const trackIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = (await createTrack(artist, artistId, { title: `Liked ${i}` })).id;
      expect((await like("track", id)).status).toBe(204);
      trackIds.push(id);
    }
    expect((await like("track", trackIds[0] ?? "")).status).toBe(204); // again: no change
    const album = await createAlbum(artist, artistId);
    const playlist = await callJson<{ id: string }>("POST", "/v1/playlists", 201, {
      token: artist.accessToken,
      body: { title: "Shared", visibility: "public" },
    });
    for (const [type, id] of [
      ["album", album.id],
      ["artist", artistId],
      ["playlist", playlist.id],
    ] as const) {
      expect((await like(type, id)).status).toBe(204);
      const page = await callJson<LikePage>("GET", `/v1/me/likes?type=${type}`, 200, {
        token: fan.accessToken,
      });
      expect(page.items).toEqual([
        expect.objectContaining({ type, id, item: expect.objectContaining({ id }) }),
      ]);
    }
    const listed = await allLiked("track", 2);
    expect(listed).toHaveLength(5);
    expect(new Set(listed)).toEqual(new Set(trackIds));
    const rows = await env.DB.prepare(
      "SELECT ref_id FROM likes WHERE user_id = ? AND kind = 'track' ORDER BY created_at DESC, ref_id ASC",
    )
      .bind(fan.id)
      .all<{ ref_id: string }>();
    expect(listed).toEqual(rows.results.map((r) => r.ref_id));
  });

  it("can be taken back, and keep what became hidden as null", async () => {
    const a = (await createTrack(artist, artistId, { title: "Fleeting" })).id;
    const b = (await createTrack(artist, artistId, { title: "Staying" })).id;
    const listener = await accountWithRole("listener");
    await like("track", a, listener);
    await like("track", b, listener);
    expect(
      (await call("DELETE", `/v1/me/likes/track/${a}`, { token: listener.accessToken })).status,
    ).toBe(204);
    expect(
      (await call("DELETE", `/v1/me/likes/track/${a}`, { token: listener.accessToken })).status,
    ).toBe(204);
    expect(await allLiked("track", 10, listener)).toEqual([b]);
    await env.DB.prepare("UPDATE tracks SET visibility = 'private' WHERE id = ?").bind(b).run();
    const page = await callJson<LikePage>("GET", "/v1/me/likes?type=track", 200, {
      token: listener.accessToken,
    });
    expect(page.items).toEqual([expect.objectContaining({ id: b, item: null })]);
  });

  it("refuse what the caller cannot see, unknown kinds, and strangers", async () => {
    const secret = (await createTrack(artist, artistId, { title: "Mine", visibility: "private" }))
      .id;
    await expectProblem(await like("track", secret), 404, "NOT_FOUND");
    expect((await like("track", secret, artist)).status).toBe(204);
    const hidden = await callJson<{ id: string }>("POST", "/v1/playlists", 201, {
      token: artist.accessToken,
      body: { title: "Private" },
    });
    await expectProblem(await like("playlist", hidden.id), 404);
    await expectProblem(await like("album", "alb_nope"), 404);
    await expectProblem(await like("song", "x"), 400, "VALIDATION_FAILED");
    await expectProblem(await call("PUT", `/v1/me/likes/artist/${artistId}`), 401);
    await expectProblem(
      await call("GET", "/v1/me/likes", { token: fan.accessToken }),
      400,
      "VALIDATION_FAILED",
    );
  });

  it("are limited per account", async () => {
    const hoarder = await accountWithRole("listener");
    await env.DB.prepare(
      "INSERT INTO likes (user_id, kind, ref_id, created_at) SELECT ?, 'track', 'trk_' || value, 0 FROM json_each(?)",
    )
      .bind(hoarder.id, JSON.stringify(Array.from({ length: LIKES_PER_USER_MAX }, (_, i) => i)))
      .run();
    await expectProblem(await like("artist", artistId, hoarder), 422, "LIKE_LIMIT");
  });
});

describe("the library", () => {
  it("combines likes with the caller's own uploads and playlists", async () => {
    const owner = await accountWithRole("artist");
    const ownArtist = (await createArtist(owner, "Own Band")).id;
    const mine = [];
    for (let i = 0; i < 3; i++)
      mine.push((await createTrack(owner, ownArtist, { title: `Own ${i}` })).id);
    await like("artist", artistId, owner);
    await callJson("POST", "/v1/playlists", 201, {
      token: owner.accessToken,
      body: { title: "Mix" },
    });
    const library = await callJson<Record<string, { total: number; items: { id: string }[] }>>(
      "GET",
      "/v1/me/library?limit=2",
      200,
      { token: owner.accessToken },
    );
    expect(library["uploads"]?.total).toBe(3);
    expect(library["uploads"]?.items.map((t) => t.id)).toEqual([mine[2], mine[1]]);
    expect(library["likedArtists"]).toEqual({
      total: 1,
      items: [expect.objectContaining({ id: artistId })],
    });
    expect(library["likedTracks"]).toEqual({ total: 0, items: [] });
    expect(library["playlists"]?.total).toBe(1);
    await expectProblem(await call("GET", "/v1/me/library"), 401);
  });
});
