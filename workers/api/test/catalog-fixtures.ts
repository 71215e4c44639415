import { callJson, type Account, type Json } from "./helpers";

/** Creates an artist owned by `owner` (an artist account, or an admin for admin-managed ones). */
export async function createArtist(
  owner: Account,
  name = "Test Artist",
): Promise<Json & { id: string }> {
  return callJson("POST", "/v1/artists", 201, { token: owner.accessToken, body: { name } });
}

export async function createAlbum(owner: Account, artistId: string, extra: Json = {}) {
  return callJson<Json & { id: string }>("POST", "/v1/albums", 201, {
    token: owner.accessToken,
    body: { artistId, title: "Test Album", ...extra },
  });
}

export async function createTrack(owner: Account, artistId: string, extra: Json = {}) {
  return callJson<Json & { id: string }>("POST", "/v1/tracks", 201, {
    token: owner.accessToken,
    body: { artistId, title: "Test Track", ...extra },
  });
}
