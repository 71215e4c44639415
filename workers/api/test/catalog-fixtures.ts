import { env } from "cloudflare:test";
import { parseKeyRing } from "@edge-music/core/key-ring";
import { newContentKey, wrapContentKey } from "../src/features/playback/content-keys";
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

/** The ladder a finished ingest records, with plausible measured bandwidths. */
export const TEST_RENDITIONS = [
  { id: "aac_64", bandwidth: 70000, averageBandwidth: 66000, codecs: "mp4a.40.2" },
  { id: "aac_128", bandwidth: 140000, averageBandwidth: 130000, codecs: "mp4a.40.2" },
  { id: "aac_256", bandwidth: 280000, averageBandwidth: 260000, codecs: "mp4a.40.2" },
  { id: "flac", bandwidth: 900000, averageBandwidth: 800000, codecs: "fLaC" },
];

/** Marks a track ready with an asset version, as a finished ingest would. */
export async function makeReady(trackId: string, durationMs = 180_000) {
  const av = `av_${trackId}`;
  await env.DB.prepare(
    `INSERT INTO asset_versions (id, track_id, upload_id, duration_ms, integrated_lufs, loudness_range_lu, true_peak_dbfs, gain_db, fingerprint, renditions, files, waveform_samples_per_pixel)
     VALUES (?, ?, ?, ?, -9.5, 6, -0.4, -4.5, 'fp', ?, '[]', 2205)`,
  )
    .bind(av, trackId, `upl_${trackId}`, durationMs, JSON.stringify(TEST_RENDITIONS))
    .run();
  await env.DB.prepare("UPDATE tracks SET status = 'ready', asset_version_id = ? WHERE id = ?")
    .bind(av, trackId)
    .run();
  return av;
}

/** A rights holder row (managed by `userId`'s account when given); no-op if it exists. */
export async function addHolder(id: string, userId: string | null = null) {
  await env.DB.prepare("INSERT OR IGNORE INTO rights_holders (id, name, user_id) VALUES (?, ?, ?)")
    .bind(id, `Holder ${id}`, userId)
    .run();
}

/** A current stream right for a track in a territory (`WW`: everywhere). */
export async function addRight(
  trackId: string,
  territory: string,
  holderId: string,
  share: number,
) {
  await env.DB.prepare(
    "INSERT INTO track_rights (id, track_id, territory, right_type, holder_id, share) VALUES (?, ?, ?, 'stream', ?, ?)",
  )
    .bind(`rt_${crypto.randomUUID()}`, trackId, territory, holderId, share)
    .run();
}

/** Gives a track a worldwide stream right, so anyone may play it. */
export async function openWorldwide(trackId: string, holderId = "rh_fixture") {
  await addHolder(holderId);
  await addRight(trackId, "WW", holderId, 1);
}

/** A ready public track of `artistId` that anyone may stream everywhere; its id. */
export async function playableTrack(owner: Account, artistId: string, title: string) {
  const id = (await createTrack(owner, artistId, { title })).id;
  await makeReady(id);
  await openWorldwide(id);
  return id;
}

/**
 * Gives a ready track's asset version a content key, stored wrapped as ingest stores it.
 * Returns the clear key (hex), for tests to compare licenses with.
 */
export async function protect(trackId: string, kekId = "kek1") {
  const key = newContentKey();
  const wrapped = await wrapContentKey(key, parseKeyRing(env.CONTENT_KEKS, "CONTENT_KEKS"), kekId);
  const av = `av_${trackId}`;
  await env.DB.batch([
    env.DB.prepare("UPDATE asset_versions SET key_id = ? WHERE id = ?").bind(key.keyId, av),
    env.DB.prepare(
      "INSERT INTO content_keys (key_id, asset_version_id, kek_id, wrapped_key) VALUES (?, ?, ?, ?)",
    ).bind(wrapped.keyId, av, wrapped.kekId, wrapped.wrappedKey),
  ]);
  return key;
}
