import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyPlaybackToken } from "@edge-music/core/playback-token";
import { createArtist, createTrack } from "./catalog-fixtures";
import {
  accountWithRole,
  adminAccount,
  call,
  callJson,
  expectProblem,
  type Account,
} from "./helpers";

const KEYS = JSON.parse(env.PLAYBACK_KEYS) as Record<string, string>;
const RENDITIONS = [
  { id: "aac_64", bandwidth: 70000, averageBandwidth: 66000, codecs: "mp4a.40.2" },
  { id: "aac_128", bandwidth: 140000, averageBandwidth: 130000, codecs: "mp4a.40.2" },
  { id: "aac_256", bandwidth: 280000, averageBandwidth: 260000, codecs: "mp4a.40.2" },
  { id: "flac", bandwidth: 900000, averageBandwidth: 800000, codecs: "fLaC" },
];

/** Marks a track ready with an asset version, as a finished ingest would. */
async function makeReady(trackId: string, durationMs = 180_000) {
  const av = `av_${trackId}`;
  await env.DB.prepare(
    `INSERT INTO asset_versions (id, track_id, upload_id, duration_ms, integrated_lufs, loudness_range_lu, true_peak_dbfs, gain_db, fingerprint, renditions, files, waveform_samples_per_pixel)
     VALUES (?, ?, ?, ?, -9.5, 6, -0.4, -4.5, 'fp', ?, '[]', 2205)`,
  )
    .bind(av, trackId, `upl_${trackId}`, durationMs, JSON.stringify(RENDITIONS))
    .run();
  await env.DB.prepare("UPDATE tracks SET status = 'ready', asset_version_id = ? WHERE id = ?")
    .bind(av, trackId)
    .run();
  return av;
}

describe("playback grants", () => {
  let artist: Account;
  let listener: Account;
  let ready: string;
  let pending: string;
  let hidden: string;

  beforeAll(async () => {
    artist = await accountWithRole("artist");
    listener = await accountWithRole("listener");
    const a = await createArtist(artist, "Grant Band");
    ready = (await createTrack(artist, a.id, { title: "Playable" })).id;
    await makeReady(ready);
    pending = (await createTrack(artist, a.id, { title: "Not yet" })).id;
    hidden = (await createTrack(artist, a.id, { title: "Mine only", visibility: "private" })).id;
    await makeReady(hidden);
  });

  it("gives a free listener a token capped at AAC 128k, with gate URLs and loudness", async () => {
    const grant = await callJson<Record<string, unknown>>(
      "POST",
      `/v1/tracks/${ready}/playback`,
      200,
      { token: listener.accessToken, body: {} },
    );
    expect((grant["renditions"] as { id: string }[]).map((r) => r.id)).toEqual([
      "aac_64",
      "aac_128",
    ]);
    expect(grant["hls"]).toBe(`https://gate.test/p/${grant["token"]}/master.m3u8`);
    expect(grant["dash"]).toBe(`https://gate.test/p/${grant["token"]}/manifest.mpd`);
    expect(grant["progressive"]).toBe(`https://gate.test/p/${grant["token"]}/aac_128/media.mp4`);
    expect(grant["loudness"]).toEqual({ integratedLufs: -9.5, gainDb: -4.5 });
    const verified = await verifyPlaybackToken(String(grant["token"]), KEYS);
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    expect(verified.claims).toMatchObject({
      sub: listener.id,
      trk: ready,
      av: `av_${ready}`,
      max: 2,
    });
    // Valid for the whole track plus slack, not just the start.
    expect(verified.claims.exp - Date.now() / 1000).toBeGreaterThan(180 + 3600);
  });

  it("gives premium accounts every rendition, lossless included", async () => {
    const admin = await adminAccount();
    const premium = await accountWithRole("listener");
    await callJson("PUT", `/v1/users/${premium.id}/plan`, 200, {
      token: admin.accessToken,
      body: { plan: "premium" },
    });
    const grant = await callJson<{ renditions: { id: string }[]; token: string }>(
      "POST",
      `/v1/tracks/${ready}/playback`,
      200,
      { token: premium.accessToken },
    );
    expect(grant.renditions.map((r) => r.id)).toEqual(["aac_64", "aac_128", "aac_256", "flac"]);
    const verified = await verifyPlaybackToken(grant.token, KEYS);
    expect(verified.ok && verified.claims.max).toBe(4);
    await expectProblem(
      await call("PUT", `/v1/users/${premium.id}/plan`, {
        token: listener.accessToken,
        body: { plan: "premium" },
      }),
      403,
    );
  });

  it("refuses without sign-in, for others' private tracks, and while not ready", async () => {
    await expectProblem(await call("POST", `/v1/tracks/${ready}/playback`), 401, "UNAUTHENTICATED");
    await expectProblem(
      await call("POST", `/v1/tracks/${hidden}/playback`, { token: listener.accessToken }),
      404,
      "NOT_FOUND",
    );
    await callJson("POST", `/v1/tracks/${hidden}/playback`, 200, { token: artist.accessToken });
    await expectProblem(
      await call("POST", `/v1/tracks/${pending}/playback`, { token: listener.accessToken }),
      409,
      "TRACK_NOT_READY",
    );
    await expectProblem(
      await call("POST", `/v1/tracks/trk_nope/playback`, { token: listener.accessToken }),
      404,
    );
  });
});
