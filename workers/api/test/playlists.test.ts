import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { PLAYLIST_ITEMS_MAX, PLAYLISTS_PER_USER_MAX } from "../src/features/playlists/playlists";
import {
  addHolder,
  addRight,
  createArtist,
  createTrack,
  makeReady,
  openWorldwide,
} from "./catalog-fixtures";
import { accountWithRole, call, callJson, expectProblem, type Account } from "./helpers";

type Playlist = { id: string; revision: number; itemCount: number; visibility: string };
type Item = {
  id: string;
  position: number;
  track: { id: string; title: string } | null;
  available: boolean;
  unavailableReason: string | null;
};

let owner: Account;
let other: Account;
let artist: Account;
let artistId: string;
const tracks: string[] = [];

async function newPlaylist(who = owner, body: Record<string, unknown> = {}) {
  return callJson<Playlist>("POST", "/v1/playlists", 201, {
    token: who.accessToken,
    body: { title: "Road trip", ...body },
  });
}

async function items(id: string, who: Account | null = owner, country?: string) {
  return callJson<Playlist & { items: Item[] }>("GET", `/v1/playlists/${id}`, 200, {
    ...(who ? { token: who.accessToken } : {}),
    headers: country ? { "X-Dev-Country": country } : {},
  });
}

const order = async (id: string) => (await items(id)).items.map((i) => i.track?.id);

async function add(id: string, trackIds: string[], position?: number, revision?: number) {
  return call("POST", `/v1/playlists/${id}/tracks`, {
    token: owner.accessToken,
    body: { trackIds, ...(position === undefined ? {} : { position }) },
    headers: revision === undefined ? {} : { "If-Match": `"${revision}"` },
  });
}

beforeAll(async () => {
  owner = await accountWithRole("listener");
  other = await accountWithRole("listener");
  artist = await accountWithRole("artist");
  artistId = (await createArtist(artist, "List Band")).id;
  for (let i = 0; i < 6; i++) {
    const id = (await createTrack(artist, artistId, { title: `Song ${i}` })).id;
    await makeReady(id);
    await openWorldwide(id);
    tracks.push(id);
  }
});

describe("playlists", () => {
  it("are created private, listed for their owner, and 404 to everyone else", async () => {
    const p = await newPlaylist();
    expect(p).toMatchObject({ visibility: "private", revision: 1, itemCount: 0 });
    const res = await call("GET", `/v1/playlists/${p.id}`, { token: owner.accessToken });
    expect(res.headers.get("ETag")).toBe('"1"');
    for (const who of [other, null]) {
      await expectProblem(
        await call("GET", `/v1/playlists/${p.id}`, who ? { token: who.accessToken } : {}),
        404,
        "NOT_FOUND",
      );
    }
    const mine = await callJson<{ items: Playlist[] }>("GET", "/v1/playlists", 200, {
      token: owner.accessToken,
    });
    expect(mine.items.map((x) => x.id)).toContain(p.id);
  });

  it("show others only the public ones of a user", async () => {
    const user = await accountWithRole("listener");
    const open = await newPlaylist(user, { title: "Open", visibility: "public" });
    const closed = await newPlaylist(user, { title: "Closed" });
    const seen = async (who: Account | null) =>
      (
        await callJson<{ items: Playlist[] }>("GET", `/v1/users/${user.id}/playlists`, 200, {
          ...(who ? { token: who.accessToken } : {}),
        })
      ).items.map((x) => x.id);
    expect(await seen(user)).toEqual([closed.id, open.id]);
    expect(await seen(other)).toEqual([open.id]);
    expect(await seen(null)).toEqual([open.id]);
    expect((await items(open.id, null)).visibility).toBe("public");
    await expectProblem(await call("GET", "/v1/users/usr_nope/playlists"), 404);
  });

  it("append, insert at a position, move and remove entries in the right order", async () => {
    const p = await newPlaylist();
    const [a, b, c, d, e] = tracks as [string, string, string, string, string];
    expect((await add(p.id, [a, b])).status).toBe(200);
    expect((await add(p.id, [c, d], 1)).status).toBe(200);
    expect(await order(p.id)).toEqual([a, c, d, b]);
    expect((await add(p.id, [e, a], 0)).status).toBe(200);
    expect(await order(p.id)).toEqual([e, a, a, c, d, b]);
    const list = await items(p.id);
    expect(list.items.map((i) => i.position)).toEqual([0, 1, 2, 3, 4, 5]);
    const move = (itemId: string, position: number) =>
      callJson<Playlist>("PATCH", `/v1/playlists/${p.id}/tracks/${itemId}`, 200, {
        token: owner.accessToken,
        body: { position },
      });
    await move(list.items[0]?.id ?? "", 4);
    expect(await order(p.id)).toEqual([a, a, c, d, e, b]);
    await move(list.items[5]?.id ?? "", 0);
    expect(await order(p.id)).toEqual([b, a, a, c, d, e]);
    const removed = await callJson<Playlist>(
      "DELETE",
      `/v1/playlists/${p.id}/tracks/${list.items[3]?.id ?? ""}`,
      200,
      { token: owner.accessToken },
    );
    expect(removed.itemCount).toBe(5);
    const after = await items(p.id);
    expect(after.items.map((i) => i.track?.id)).toEqual([b, a, a, d, e]);
    expect(after.items.map((i) => i.position)).toEqual([0, 1, 2, 3, 4]);
  });

  it("keep their order through a long random run of edits", async () => {
    const p = await newPlaylist();
    const model: string[] = [];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 30; step++) {
      const op = model.length < 3 ? 0 : rand(3);
      if (op === 0) {
        const track = tracks[rand(tracks.length)] ?? "";
        const at = rand(model.length + 1);
        expect((await add(p.id, [track], at)).status).toBe(200);
        model.splice(at, 0, track);
      } else {
        const current = await items(p.id);
        const from = rand(model.length);
        const entry = current.items[from]?.id ?? "";
        if (op === 1) {
          const to = rand(model.length);
          await callJson("PATCH", `/v1/playlists/${p.id}/tracks/${entry}`, 200, {
            token: owner.accessToken,
            body: { position: to },
          });
          model.splice(to, 0, ...model.splice(from, 1));
        } else {
          await callJson("DELETE", `/v1/playlists/${p.id}/tracks/${entry}`, 200, {
            token: owner.accessToken,
          });
          model.splice(from, 1);
        }
      }
    }
    const final = await items(p.id);
    expect(final.items.map((i) => i.track?.id)).toEqual(model);
    expect(final.items.map((i) => i.position)).toEqual(model.map((_, i) => i));
    expect(final.itemCount).toBe(model.length);
  });

  it("refuse a stale revision with 409 and lose nothing", async () => {
    const p = await newPlaylist();
    const [a, b, c] = tracks as [string, string, string];
    await add(p.id, [a, b]);
    const seen = await items(p.id); // both devices read revision 2
    expect(seen.revision).toBe(2);
    const phone = await add(p.id, [c], undefined, seen.revision);
    expect(phone.status).toBe(200);
    expect(phone.headers.get("ETag")).toBe('"3"');
    const laptop = await call("PATCH", `/v1/playlists/${p.id}/tracks/${seen.items[0]?.id ?? ""}`, {
      token: owner.accessToken,
      body: { position: 1 },
      headers: { "If-Match": `"${seen.revision}"` },
    });
    await expectProblem(laptop, 409, "REVISION_CONFLICT");
    expect(await order(p.id)).toEqual([a, b, c]);
    // At the same moment, from the same revision: exactly one wins.
    const now = (await items(p.id)).revision;
    const raced = await Promise.all([add(p.id, [a], 0, now), add(p.id, [b], 0, now)]);
    expect(raced.map((r) => r.status).sort()).toEqual([200, 409]);
    const final = await items(p.id);
    expect(final.itemCount).toBe(4);
    expect(final.items).toHaveLength(4);
    await expectProblem(
      await call("DELETE", `/v1/playlists/${p.id}`, {
        token: owner.accessToken,
        headers: { "If-Match": '"1"' },
      }),
      409,
      "REVISION_CONFLICT",
    );
    await expectProblem(
      await call("PATCH", `/v1/playlists/${p.id}`, {
        token: owner.accessToken,
        body: { title: "x" },
        headers: { "If-Match": "yesterday" },
      }),
      400,
      "INVALID_IF_MATCH",
    );
  });

  it("mark entries the viewer can no longer play instead of hiding them", async () => {
    const p = await newPlaylist(owner, { visibility: "public" });
    const gone = (await createTrack(artist, artistId, { title: "Hidden later" })).id;
    await makeReady(gone);
    await openWorldwide(gone);
    const local = (await createTrack(artist, artistId, { title: "German only" })).id;
    await makeReady(local);
    await addHolder("rh_de");
    await addRight(local, "DE", "rh_de", 1);
    const [fine] = tracks as [string];
    await add(p.id, [fine, gone, local]);
    await env.DB.prepare("UPDATE tracks SET visibility = 'private' WHERE id = ?").bind(gone).run();
    const inFrance = await items(p.id, other, "FR");
    expect(
      inFrance.items.map((i) => [i.track?.id ?? null, i.available, i.unavailableReason]),
    ).toEqual([
      [fine, true, null],
      [null, false, "NOT_VISIBLE"],
      [local, false, "NOT_AVAILABLE_IN_TERRITORY"],
    ]);
    const inGermany = await items(p.id, other, "DE");
    expect(inGermany.items[2]).toMatchObject({ available: true });
    await env.DB.prepare("UPDATE tracks SET status = 'processing' WHERE id = ?").bind(fine).run();
    expect((await items(p.id, other, "DE")).items[0]).toMatchObject({
      available: false,
      unavailableReason: "NOT_READY",
    });
    await env.DB.prepare("UPDATE tracks SET status = 'ready' WHERE id = ?").bind(fine).run();
  });

  it("enforce their limits", async () => {
    const p = await newPlaylist();
    const [a] = tracks as [string];
    // Fill it to one below the limit directly, then the api takes one and refuses the next.
    const fill = Array.from({ length: PLAYLIST_ITEMS_MAX - 1 }, (_, i) => i);
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO playlist_items (id, playlist_id, track_id, position)
         SELECT 'pli_fill_' || value, ?, ?, value FROM json_each(?)`,
      ).bind(p.id, a, JSON.stringify(fill)),
      env.DB.prepare("UPDATE playlists SET item_count = ? WHERE id = ?").bind(fill.length, p.id),
    ]);
    expect((await add(p.id, [a])).status).toBe(200);
    await expectProblem(await add(p.id, [a]), 422, "PLAYLIST_FULL");
    await expectProblem(
      await call("POST", `/v1/playlists/${p.id}/tracks`, {
        token: owner.accessToken,
        body: { trackIds: Array(101).fill(a) },
      }),
      400,
      "VALIDATION_FAILED",
    );

    const collector = await accountWithRole("listener");
    await env.DB.prepare(
      `INSERT INTO playlists (id, owner_id, title) SELECT 'pl_fill_' || ? || value, ?, 'x' FROM json_each(?)`,
    )
      .bind(
        collector.id,
        collector.id,
        JSON.stringify(Array.from({ length: PLAYLISTS_PER_USER_MAX }, (_, i) => i)),
      )
      .run();
    await expectProblem(
      await call("POST", "/v1/playlists", {
        token: collector.accessToken,
        body: { title: "one more" },
      }),
      422,
      "PLAYLIST_LIMIT",
    );
  });

  it("refuse bad positions, unknown or hidden tracks, and other people's edits", async () => {
    const p = await newPlaylist(owner, { visibility: "public" });
    const [a] = tracks as [string];
    await add(p.id, [a]);
    await expectProblem(await add(p.id, [a], 5), 400, "INVALID_POSITION");
    await expectProblem(await add(p.id, ["trk_nope"]), 404, "NOT_FOUND");
    const secret = (await createTrack(artist, artistId, { title: "Secret", visibility: "private" }))
      .id;
    await expectProblem(await add(p.id, [secret]), 404, "NOT_FOUND");
    const entry = (await items(p.id)).items[0]?.id ?? "";
    await expectProblem(
      await call("PATCH", `/v1/playlists/${p.id}/tracks/${entry}`, {
        token: owner.accessToken,
        body: { position: 1 },
      }),
      400,
      "INVALID_POSITION",
    );
    await expectProblem(
      await call("PATCH", `/v1/playlists/${p.id}`, { token: owner.accessToken, body: {} }),
      400,
      "VALIDATION_FAILED",
    );
    // Someone else: a public playlist is 403 to change, a private one does not exist.
    await expectProblem(
      await call("PATCH", `/v1/playlists/${p.id}`, {
        token: other.accessToken,
        body: { title: "mine" },
      }),
      403,
      "NOT_PLAYLIST_OWNER",
    );
    await expectProblem(
      await call("DELETE", `/v1/playlists/${p.id}/tracks/${entry}`, { token: other.accessToken }),
      403,
    );
    const hidden = await newPlaylist();
    await expectProblem(
      await call("DELETE", `/v1/playlists/${hidden.id}`, { token: other.accessToken }),
      404,
    );
    await expectProblem(await call("POST", "/v1/playlists", { body: { title: "anon" } }), 401);
    // The owner deletes it; it is gone for everyone.
    const deleted = await call("DELETE", `/v1/playlists/${p.id}`, { token: owner.accessToken });
    expect(deleted.status).toBe(204);
    await expectProblem(await call("GET", `/v1/playlists/${p.id}`), 404);
    const orphans = await env.DB.prepare(
      "SELECT count(*) AS n FROM playlist_items WHERE playlist_id = ?",
    )
      .bind(p.id)
      .first<{ n: number }>();
    expect(orphans?.n).toBe(0);
  });
});
