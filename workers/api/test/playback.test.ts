import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyPlaybackToken } from "@edge-music/core/playback-token";
import { createArtist, createTrack, makeReady } from "./catalog-fixtures";
import {
  accountWithRole,
  adminAccount,
  call,
  callJson,
  expectProblem,
  type Account,
} from "./helpers";
import { parseKeyRing } from "@edge-music/core/key-ring";

const KEYS = parseKeyRing(env.PLAYBACK_KEYS, "PLAYBACK_KEYS");

describe("playback grants", () => {
  const grantIn = (trackId: string, token: string, country?: string) =>
    call("POST", `/v1/tracks/${trackId}/playback`, {
      token,
      headers: country ? { "X-Dev-Country": country } : {},
    });

  let artist: Account;
  let listener: Account;
  let ready: string;
  let pending: string;
  let hidden: string;
  let holder: string;

  beforeAll(async () => {
    artist = await accountWithRole("artist");
    listener = await accountWithRole("listener");
    const a = await createArtist(artist, "Grant Band");
    ready = (await createTrack(artist, a.id, { title: "Playable" })).id;
    await makeReady(ready);
    const admin = await adminAccount();
    holder = (
      await callJson<{ id: string }>("POST", "/v1/rights-holders", 201, {
        token: admin.accessToken,
        body: { name: "Grant Label" },
      })
    ).id;
    await callJson("PUT", `/v1/tracks/${ready}/rights`, 200, {
      token: artist.accessToken,
      body: { rights: [{ territory: "WW", type: "stream", holderId: holder, share: 1 }] },
    });
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

  it("refuses public tracks without a current stream right in the listener's territory (451)", async () => {
    const a = await createArtist(artist, "Territorial");
    const track = (await createTrack(artist, a.id, { title: "Regional" })).id;
    await makeReady(track);
    const none = await expectProblem(
      await grantIn(track, listener.accessToken, "DE"),
      451,
      "NOT_AVAILABLE_IN_TERRITORY",
    );
    expect(none["territory"]).toBe("DE");
    const set = (rights: unknown[]) =>
      callJson("PUT", `/v1/tracks/${track}/rights`, 200, {
        token: artist.accessToken,
        body: { rights },
      });
    await set([
      { territory: "DE", type: "stream", holderId: holder, share: 0.6 },
      { territory: "DE", type: "stream", holderId: holder, share: 0.4 },
    ]);
    expect((await grantIn(track, listener.accessToken, "DE")).status).toBe(200);
    expect((await grantIn(track, listener.accessToken, "de")).status).toBe(200);
    await expectProblem(await grantIn(track, listener.accessToken, "FR"), 451);
    await expectProblem(await grantIn(track, listener.accessToken), 451);
    await set([{ territory: "DE", type: "download", holderId: holder, share: 1 }]);
    await expectProblem(await grantIn(track, listener.accessToken, "DE"), 451);
    const past = new Date(Date.now() - 86_400_000).toISOString();
    await set([{ territory: "WW", type: "stream", holderId: holder, share: 1, expiresAt: past }]);
    await expectProblem(await grantIn(track, listener.accessToken, "DE"), 451);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    await set([{ territory: "WW", type: "stream", holderId: holder, share: 1, startsAt: future }]);
    await expectProblem(await grantIn(track, listener.accessToken, "DE"), 451);
  });

  it("lets owners play their private uploads without catalog rights", async () => {
    expect((await grantIn(hidden, artist.accessToken, "FR")).status).toBe(200);
  });
});

describe("downloads", () => {
  it("are premium only, need a download right, and name one rendition", async () => {
    const admin = await adminAccount();
    const artist = await accountWithRole("artist");
    const a = await createArtist(artist, "Download Act");
    const track = (await createTrack(artist, a.id, { title: "Take Me Home" })).id;
    await makeReady(track);
    const holder = (
      await callJson<{ id: string }>("POST", "/v1/rights-holders", 201, {
        token: admin.accessToken,
        body: { name: "DL" },
      })
    ).id;
    await callJson("PUT", `/v1/tracks/${track}/rights`, 200, {
      token: artist.accessToken,
      body: { rights: [{ territory: "WW", type: "stream", holderId: holder, share: 1 }] },
    });
    const free = await accountWithRole("listener");
    const premium = await accountWithRole("listener");
    await callJson("PUT", `/v1/users/${premium.id}/plan`, 200, {
      token: admin.accessToken,
      body: { plan: "premium" },
    });
    await expectProblem(
      await call("POST", `/v1/tracks/${track}/download`, { token: free.accessToken }),
      402,
      "PLAN_REQUIRED",
    );
    await expectProblem(
      await call("POST", `/v1/tracks/${track}/download`, { token: premium.accessToken }),
      451,
      "NOT_AVAILABLE_IN_TERRITORY",
    );
    await callJson("PUT", `/v1/tracks/${track}/rights`, 200, {
      token: artist.accessToken,
      body: { rights: [{ territory: "WW", type: "download", holderId: holder, share: 1 }] },
    });
    const grant = await callJson<{ token: string; url: string }>(
      "POST",
      `/v1/tracks/${track}/download`,
      200,
      { token: premium.accessToken, body: { rendition: "flac" } },
    );
    expect(grant.url).toBe(`https://gate.test/p/${grant.token}/flac/media.mp4`);
    const verified = await verifyPlaybackToken(grant.token, KEYS);
    expect(verified.ok && verified.claims).toMatchObject({
      dl: "flac",
      fn: "Take Me Home",
      trk: track,
    });
  });
});

describe("rights management", () => {
  it("checks shares, holders and who may set them", async () => {
    const admin = await adminAccount();
    const owner = await accountWithRole("artist");
    const other = await accountWithRole("artist");
    const listener = await accountWithRole("listener");
    const a = await createArtist(owner, "Rights Act");
    const track = (await createTrack(owner, a.id)).id;
    const holder = (
      await callJson<{ id: string }>("POST", "/v1/rights-holders", 201, {
        token: admin.accessToken,
        body: { name: "Label" },
      })
    ).id;
    const put = (token: string, rights: unknown[]) =>
      call("PUT", `/v1/tracks/${track}/rights`, { token, body: { rights } });
    const ok = [{ territory: "WW", type: "stream", holderId: holder, share: 0.5 }];
    expect((await put(owner.accessToken, ok)).status).toBe(200);
    expect((await put(admin.accessToken, ok)).status).toBe(200);
    await expectProblem(await put(other.accessToken, ok), 403, "NOT_ARTIST_OWNER");
    await expectProblem(await put(listener.accessToken, ok), 403);
    await expectProblem(
      await put(owner.accessToken, [
        { ...ok[0], share: 0.7 },
        { ...ok[0], share: 0.4 },
      ]),
      422,
      "SHARES_EXCEED_100",
    );
    await expectProblem(
      await put(owner.accessToken, [{ ...ok[0], holderId: "rh_missing" }]),
      422,
      "UNKNOWN_RIGHTS_HOLDER",
    );
    await expectProblem(
      await put(owner.accessToken, [{ ...ok[0], territory: "Germany" }]),
      400,
      "VALIDATION_FAILED",
    );
    const listed = await callJson<{ rights: { territory: string }[] }>(
      "GET",
      `/v1/tracks/${track}/rights`,
      200,
      { token: owner.accessToken },
    );
    expect(listed.rights).toEqual([
      expect.objectContaining({ territory: "WW", type: "stream", share: 0.5 }),
    ]);
    await expectProblem(
      await call("POST", "/v1/rights-holders", { token: owner.accessToken, body: { name: "X" } }),
      403,
    );
    await expectProblem(
      await call("GET", "/v1/rights-holders", { token: listener.accessToken }),
      403,
    );
    const holders = await callJson<{ items: { id: string }[] }>("GET", "/v1/rights-holders", 200, {
      token: admin.accessToken,
    });
    expect(holders.items.map((h) => h.id)).toContain(holder);
  });
});
