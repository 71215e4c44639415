import { beforeAll, describe, expect, it } from "vitest";
import { createAlbum, createArtist, createTrack } from "./catalog-fixtures";
import { accountWithRole, adminAccount, call, callJson, type Account } from "./helpers";

type Role = "anonymous" | "listener" | "owner" | "otherArtist" | "admin";
const ROLES: Role[] = ["anonymous", "listener", "owner", "otherArtist", "admin"];

describe("catalog authorization", () => {
  const accounts = {} as Record<Role, Account | undefined>;
  let artistId: string;
  let albumId: string;
  let publicTrack: string;
  let privateTrack: string;
  let unlistedTrack: string;

  beforeAll(async () => {
    accounts.anonymous = undefined;
    accounts.listener = await accountWithRole("listener");
    accounts.owner = await accountWithRole("artist");
    accounts.otherArtist = await accountWithRole("artist");
    accounts.admin = await adminAccount();
    const owner = accounts.owner;
    artistId = (await createArtist(owner, "Matrix Act")).id;
    albumId = (await createAlbum(owner, artistId)).id;
    publicTrack = (await createTrack(owner, artistId, { albumId, trackNumber: 1 })).id;
    privateTrack = (
      await createTrack(owner, artistId, { albumId, trackNumber: 2, visibility: "private" })
    ).id;
    unlistedTrack = (
      await createTrack(owner, artistId, { albumId, trackNumber: 3, visibility: "unlisted" })
    ).id;
  });

  const as = (role: Role) => {
    const token = accounts[role]?.accessToken;
    return token ? { token } : {};
  };

  const matrix: {
    name: string;
    expected: Record<Role, number>;
    request: () => [string, string, unknown?];
  }[] = [
    {
      name: "create an artist",
      expected: { anonymous: 401, listener: 403, owner: 201, otherArtist: 201, admin: 201 },
      request: () => ["POST", "/v1/artists", { name: "New" }],
    },
    {
      name: "edit the artist",
      expected: { anonymous: 401, listener: 403, owner: 200, otherArtist: 403, admin: 200 },
      request: () => ["PATCH", `/v1/artists/${artistId}`, { bio: "edited" }],
    },
    {
      name: "add an album to the artist",
      expected: { anonymous: 401, listener: 403, owner: 201, otherArtist: 403, admin: 201 },
      request: () => ["POST", "/v1/albums", { artistId, title: "More" }],
    },
    {
      name: "edit the album",
      expected: { anonymous: 401, listener: 403, owner: 200, otherArtist: 403, admin: 200 },
      request: () => ["PATCH", `/v1/albums/${albumId}`, { releaseDate: "2024" }],
    },
    {
      name: "add a track to the artist",
      expected: { anonymous: 401, listener: 403, owner: 201, otherArtist: 403, admin: 201 },
      request: () => ["POST", "/v1/tracks", { artistId, title: "More" }],
    },
    {
      name: "edit a public track",
      expected: { anonymous: 401, listener: 403, owner: 200, otherArtist: 403, admin: 200 },
      request: () => ["PATCH", `/v1/tracks/${publicTrack}`, { explicit: true }],
    },
    {
      name: "read a private track",
      expected: { anonymous: 404, listener: 404, owner: 200, otherArtist: 404, admin: 404 },
      request: () => ["GET", `/v1/tracks/${privateTrack}`],
    },
    {
      name: "edit a private track",
      expected: { anonymous: 401, listener: 403, owner: 200, otherArtist: 404, admin: 404 },
      request: () => ["PATCH", `/v1/tracks/${privateTrack}`, { title: "Secret" }],
    },
    {
      name: "read an unlisted track by its id",
      expected: { anonymous: 200, listener: 200, owner: 200, otherArtist: 200, admin: 200 },
      request: () => ["GET", `/v1/tracks/${unlistedTrack}`],
    },
    {
      name: "set someone's role",
      expected: { anonymous: 401, listener: 403, owner: 403, otherArtist: 403, admin: 200 },
      request: () => ["PUT", `/v1/users/${accounts.listener?.id}/role`, { role: "listener" }],
    },
  ];

  describe.each(matrix)("$name", ({ expected, request }) => {
    it.each(ROLES)("as %s", async (role) => {
      const [method, path, body] = request();
      const res = await call(method, path, {
        ...as(role),
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status, await res.clone().text()).toBe(expected[role]);
    });
  });

  it.each(ROLES)(
    "album tracklist as %s shows the private track only to its owner, unlisted never",
    async (role) => {
      const album = await callJson<{ tracks: { id: string }[] }>(
        "GET",
        `/v1/albums/${albumId}`,
        200,
        as(role),
      );
      const ids = album.tracks.map((t) => t.id);
      expect(ids).toContain(publicTrack);
      expect(ids.includes(privateTrack)).toBe(role === "owner");
      expect(ids.includes(unlistedTrack)).toBe(role === "owner");
    },
  );

  it.each(ROLES)("artist top tracks as %s hide others' private tracks", async (role) => {
    const page = await callJson<{ items: { id: string }[] }>(
      "GET",
      `/v1/artists/${artistId}/top-tracks`,
      200,
      as(role),
    );
    expect(page.items.map((t) => t.id).includes(privateTrack)).toBe(role === "owner");
  });
});
