import { beforeAll, describe, expect, it } from "vitest";
import { addHolder, addRight, createArtist, createTrack, makeReady } from "./catalog-fixtures";
import { accountWithRole, call, callJson, type Account } from "./helpers";

/**
 * Another account's ids, tried on every endpoint that takes one: what the caller may not see
 * is 404 (a public thing they may see but not change is 403), and nothing changes.
 */
type Who = "anonymous" | "stranger" | "otherArtist" | "owner";
const WHO: Who[] = ["anonymous", "stranger", "otherArtist", "owner"];

describe("other accounts' ids", () => {
  const accounts = {} as Record<Who, Account | undefined>;
  let privateTrack: string;
  let publicTrack: string;
  let privatePlaylist: string;
  let publicPlaylist: string;
  let itemId: string;

  beforeAll(async () => {
    accounts.anonymous = undefined;
    accounts.stranger = await accountWithRole("listener");
    accounts.otherArtist = await accountWithRole("artist");
    const owner = await accountWithRole("artist");
    accounts.owner = owner;
    const artistId = (await createArtist(owner, "Idor Band")).id;
    privateTrack = (await createTrack(owner, artistId, { visibility: "private" })).id;
    publicTrack = (await createTrack(owner, artistId, { title: "Out There" })).id;
    for (const t of [privateTrack, publicTrack]) await makeReady(t);
    await addHolder(`rh_idor_${owner.id}`, owner.id);
    await addRight(publicTrack, "WW", `rh_idor_${owner.id}`, 1);
    await addRight(privateTrack, "WW", `rh_idor_${owner.id}`, 1);
    privatePlaylist = (
      await callJson<{ id: string }>("POST", "/v1/playlists", 201, {
        token: owner.accessToken,
        body: { title: "Secret mix" },
      })
    ).id;
    publicPlaylist = (
      await callJson<{ id: string }>("POST", "/v1/playlists", 201, {
        token: owner.accessToken,
        body: { title: "Shared mix", visibility: "public" },
      })
    ).id;
    await callJson("POST", `/v1/playlists/${privatePlaylist}/tracks`, 200, {
      token: owner.accessToken,
      body: { trackIds: [publicTrack] },
    });
    const added = await callJson<{ items: { id: string }[] }>(
      "GET",
      `/v1/playlists/${privatePlaylist}`,
      200,
      { token: owner.accessToken },
    );
    itemId = added.items[0]?.id ?? "";
  });

  const matrix: {
    name: string;
    expected: Record<Who, number>;
    request: () => [string, string, unknown?];
  }[] = [
    {
      name: "read a private playlist",
      expected: { anonymous: 404, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => ["GET", `/v1/playlists/${privatePlaylist}`],
    },
    {
      name: "rename a private playlist",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => ["PATCH", `/v1/playlists/${privatePlaylist}`, { title: "Mine now" }],
    },
    {
      name: "add to a private playlist",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => [
        "POST",
        `/v1/playlists/${privatePlaylist}/tracks`,
        { trackIds: [publicTrack] },
      ],
    },
    {
      name: "move an entry of a private playlist",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => [
        "PATCH",
        `/v1/playlists/${privatePlaylist}/tracks/${itemId}`,
        { position: 0 },
      ],
    },
    {
      name: "change a public playlist",
      expected: { anonymous: 401, stranger: 403, otherArtist: 403, owner: 200 },
      request: () => ["PATCH", `/v1/playlists/${publicPlaylist}`, { description: "hijacked?" }],
    },
    {
      name: "read a private track's stats",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => ["GET", `/v1/tracks/${privateTrack}/stats`],
    },
    {
      name: "read a public track's stats",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => ["GET", `/v1/tracks/${publicTrack}/stats`],
    },
    {
      name: "read a private track's rights",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => ["GET", `/v1/tracks/${privateTrack}/rights`],
    },
    {
      name: "replace a public track's rights",
      expected: { anonymous: 401, stranger: 403, otherArtist: 403, owner: 200 },
      request: () => [
        "PUT",
        `/v1/tracks/${publicTrack}/rights`,
        {
          rights: [
            {
              territory: "WW",
              type: "stream",
              holderId: `rh_idor_${accounts.owner?.id}`,
              share: 1,
            },
          ],
        },
      ],
    },
    {
      name: "read the owner's royalty report",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => ["GET", `/v1/royalties/report?holder=rh_idor_${accounts.owner?.id}`],
    },
    {
      name: "take a grant of a private track",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => ["POST", `/v1/tracks/${privateTrack}/playback`, {}],
    },
    {
      name: "ask for tracks similar to a private track",
      expected: { anonymous: 404, stranger: 404, otherArtist: 404, owner: 200 },
      request: () => ["GET", `/v1/tracks/${privateTrack}/similar`],
    },
    {
      name: "like a private track",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 204 },
      request: () => ["PUT", `/v1/me/likes/track/${privateTrack}`],
    },
    {
      name: "like a private playlist",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 204 },
      request: () => ["PUT", `/v1/me/likes/playlist/${privatePlaylist}`],
    },
    {
      name: "set the owner's plan",
      expected: { anonymous: 401, stranger: 403, otherArtist: 403, owner: 403 },
      request: () => ["PUT", `/v1/users/${accounts.owner?.id}/plan`, { plan: "premium" }],
    },
    {
      name: "delete a private playlist",
      expected: { anonymous: 401, stranger: 404, otherArtist: 404, owner: 204 },
      request: () => ["DELETE", `/v1/playlists/${privatePlaylist}`],
    },
  ];

  // In order: the owner's own call comes last in each row, so a refusal never sees a change.
  describe.each(matrix)("$name", ({ expected, request }) => {
    it.each(WHO)("as %s", async (who) => {
      const [method, path, body] = request();
      const token = accounts[who]?.accessToken;
      const res = await call(method, path, {
        ...(token ? { token } : {}),
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status, await res.clone().text()).toBe(expected[who]);
    });
  });

  it("lists only public playlists of another account", async () => {
    const listed = await callJson<{ items: { id: string }[] }>(
      "GET",
      `/v1/users/${accounts.owner?.id}/playlists`,
      200,
      { token: accounts.stranger?.accessToken ?? "" },
    );
    expect(listed.items.map((p) => p.id)).toEqual([publicPlaylist]);
  });
});
