import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { toBase64Url, hexToBytes } from "@edge-music/core/bytes";
import { keyIdToBase64Url } from "@edge-music/core/content-protection";
import { parseKeyRing } from "@edge-music/core/key-ring";
import { signPlaybackToken } from "@edge-music/core/playback-token";
import { createArtist, createTrack, makeReady, openWorldwide, protect } from "./catalog-fixtures";
import {
  accountWithRole,
  adminAccount,
  call,
  callJson,
  expectProblem,
  type Account,
} from "./helpers";

const KEYS = parseKeyRing(env.PLAYBACK_KEYS, "PLAYBACK_KEYS");

type Grant = { token: string };
type License = { keys: { kty: string; kid: string; k: string }[]; type: string };

const grant = (trackId: string, account: Account, country?: string) =>
  callJson<Grant>("POST", `/v1/tracks/${trackId}/playback`, 200, {
    token: account.accessToken,
    body: {},
    headers: country ? { "X-Dev-Country": country } : {},
  });

const askLicense = (
  kids: string[],
  options: { token?: string; grant?: string; country?: string } = {},
) =>
  call("POST", "/v1/licenses/clearkey", {
    ...(options.token ? { token: options.token } : {}),
    body: { kids, type: "temporary" },
    headers: {
      ...(options.grant ? { "X-Playback-Token": options.grant } : {}),
      ...(options.country ? { "X-Dev-Country": options.country } : {}),
    },
  });

describe("the ClearKey license endpoint", () => {
  let artist: Account;
  let listener: Account;
  let other: Account;
  let trackId: string;
  let otherTrackId: string;
  let clearTrackId: string;
  let key: { keyId: string; key: string };
  let otherKey: { keyId: string; key: string };

  beforeAll(async () => {
    artist = await accountWithRole("artist");
    listener = await accountWithRole("listener");
    other = await accountWithRole("listener");
    const a = await createArtist(artist, "Locked Band");
    trackId = (await createTrack(artist, a.id, { title: "Locked" })).id;
    otherTrackId = (await createTrack(artist, a.id, { title: "Other locked" })).id;
    clearTrackId = (await createTrack(artist, a.id, { title: "Clear" })).id;
    for (const id of [trackId, otherTrackId, clearTrackId]) {
      await makeReady(id);
      await openWorldwide(id);
    }
    key = await protect(trackId);
    otherKey = await protect(otherTrackId);
  });

  it("gives the grant's listener the asset's key as a JSON Web Key set, never cached, and records it", async () => {
    const { token } = await grant(trackId, listener);
    const kid = keyIdToBase64Url(key.keyId);
    const res = await askLicense([kid], {
      token: listener.accessToken,
      grant: token,
      country: "SE",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const license = (await res.json()) as License;
    expect(license).toEqual({
      keys: [{ kty: "oct", kid, k: toBase64Url(hexToBytes(key.key)) }],
      type: "temporary",
    });
    const audit = await env.DB.prepare("SELECT * FROM license_audit WHERE user_id = ?")
      .bind(listener.id)
      .all<Record<string, unknown>>();
    expect(audit.results).toHaveLength(1);
    expect(audit.results[0]).toMatchObject({
      track_id: trackId,
      asset_version_id: `av_${trackId}`,
      key_id: key.keyId,
      territory: "SE",
    });
    // Nothing secret in the trail, and the stored key is not the clear key.
    expect(JSON.stringify(audit.results)).not.toContain(key.key);
    const stored = await env.DB.prepare("SELECT * FROM content_keys WHERE key_id = ?")
      .bind(key.keyId)
      .first<Record<string, string>>();
    expect(JSON.stringify(stored)).not.toContain(key.key);
    expect(JSON.stringify(stored)).not.toContain(toBase64Url(hexToBytes(key.key)));
  });

  it("refuses without a signed-in listener", async () => {
    const { token } = await grant(trackId, listener);
    await expectProblem(
      await askLicense([keyIdToBase64Url(key.keyId)], { grant: token }),
      401,
      "UNAUTHENTICATED",
    );
  });

  it("refuses without a grant, with a forged one and with an expired one", async () => {
    const kid = keyIdToBase64Url(key.keyId);
    await expectProblem(
      await askLicense([kid], { token: listener.accessToken }),
      403,
      "GRANT_INVALID",
    );
    const { token } = await grant(trackId, listener);
    const [v, kidPart, claims] = token.split(".");
    const forged = `${v}.${kidPart}.${claims}.${"A".repeat(43)}`;
    await expectProblem(
      await askLicense([kid], { token: listener.accessToken, grant: forged }),
      403,
      "GRANT_INVALID",
    );
    const now = Math.floor(Date.now() / 1000);
    const expired = await signPlaybackToken(
      { sub: listener.id, trk: trackId, av: `av_${trackId}`, max: 2, exp: now - 1, iat: now - 60 },
      "p1",
      KEYS,
    );
    await expectProblem(
      await askLicense([kid], { token: listener.accessToken, grant: expired }),
      403,
      "GRANT_EXPIRED",
    );
  });

  it("answers 404 to another account using a listener's grant", async () => {
    const { token } = await grant(trackId, listener);
    await expectProblem(
      await askLicense([keyIdToBase64Url(key.keyId)], { token: other.accessToken, grant: token }),
      404,
      "NOT_FOUND",
    );
  });

  it("does not hand out another track's key, an unknown key or a key for clear media", async () => {
    const { token } = await grant(trackId, listener);
    const ask = (kids: string[], grantToken = token) =>
      askLicense(kids, { token: listener.accessToken, grant: grantToken });
    await expectProblem(await ask([keyIdToBase64Url(otherKey.keyId)]), 404, "KEY_NOT_FOUND");
    // Even asked beside the right one.
    await expectProblem(
      await ask([keyIdToBase64Url(key.keyId), keyIdToBase64Url(otherKey.keyId)]),
      404,
      "KEY_NOT_FOUND",
    );
    await expectProblem(await ask([toBase64Url(new Uint8Array(16))]), 404, "KEY_NOT_FOUND");
    const clear = await grant(clearTrackId, listener);
    await expectProblem(
      await ask([keyIdToBase64Url(key.keyId)], clear.token),
      404,
      "KEY_NOT_FOUND",
    );
  });

  it("refuses malformed requests before looking anything up", async () => {
    const { token } = await grant(trackId, listener);
    for (const kids of [[], ["not a kid"], Array(9).fill(keyIdToBase64Url(key.keyId))]) {
      await expectProblem(
        await askLicense(kids, { token: listener.accessToken, grant: token }),
        400,
        "VALIDATION_FAILED",
      );
    }
  });

  it("checks again that the track is playable: made private after the grant, no key", async () => {
    const a = await createArtist(artist, "Soon Private");
    const id = (await createTrack(artist, a.id, { title: "Going private" })).id;
    await makeReady(id);
    await openWorldwide(id);
    const k = await protect(id);
    const { token } = await grant(id, listener);
    await callJson("PATCH", `/v1/tracks/${id}`, 200, {
      token: artist.accessToken,
      body: { visibility: "private" },
    });
    await expectProblem(
      await askLicense([keyIdToBase64Url(k.keyId)], { token: listener.accessToken, grant: token }),
      404,
      "NOT_FOUND",
    );
    // The owner still gets the key of their own private track.
    const own = await grant(id, artist);
    const res = await askLicense([keyIdToBase64Url(k.keyId)], {
      token: artist.accessToken,
      grant: own.token,
    });
    expect(res.status).toBe(200);
  });

  it("checks the territory of the request, not the grant's", async () => {
    const a = await createArtist(artist, "Regional");
    const id = (await createTrack(artist, a.id, { title: "Only in France" })).id;
    await makeReady(id);
    await env.DB.prepare(
      "INSERT OR IGNORE INTO rights_holders (id, name) VALUES ('rh_fr', 'FR')",
    ).run();
    await env.DB.prepare(
      "INSERT INTO track_rights (id, track_id, territory, right_type, holder_id, share) VALUES (?, ?, 'FR', 'stream', 'rh_fr', 1)",
    )
      .bind(`rt_${crypto.randomUUID()}`, id)
      .run();
    const k = await protect(id);
    const { token } = await grant(id, listener, "FR");
    const kid = keyIdToBase64Url(k.keyId);
    expect(
      (await askLicense([kid], { token: listener.accessToken, grant: token, country: "FR" }))
        .status,
    ).toBe(200);
    await expectProblem(
      await askLicense([kid], { token: listener.accessToken, grant: token, country: "DE" }),
      451,
      "NOT_AVAILABLE_IN_TERRITORY",
    );
  });

  it("answers 500 with a code, not a wrong key, when a stored key was tampered with", async () => {
    const a = await createArtist(artist, "Tampered");
    const id = (await createTrack(artist, a.id, { title: "Tampered" })).id;
    await makeReady(id);
    await openWorldwide(id);
    const k = await protect(id);
    const row = await env.DB.prepare("SELECT wrapped_key FROM content_keys WHERE key_id = ?")
      .bind(k.keyId)
      .first<{ wrapped_key: string }>();
    const wrapped = row?.wrapped_key ?? "";
    const flipped = `${wrapped.slice(0, 20)}${wrapped[20] === "A" ? "B" : "A"}${wrapped.slice(21)}`;
    await env.DB.prepare("UPDATE content_keys SET wrapped_key = ? WHERE key_id = ?")
      .bind(flipped, k.keyId)
      .run();
    const { token } = await grant(id, listener);
    await expectProblem(
      await askLicense([keyIdToBase64Url(k.keyId)], { token: listener.accessToken, grant: token }),
      500,
      "CONTENT_KEY_UNREADABLE",
    );
  });
});

describe("downloads of encrypted media", () => {
  let premium: Account;
  let trackId: string;

  beforeAll(async () => {
    const artist = await accountWithRole("artist");
    premium = await accountWithRole("listener");
    await env.DB.prepare("UPDATE users SET plan = 'premium' WHERE id = ?").bind(premium.id).run();
    const a = await createArtist(artist, "Download Band");
    trackId = (await createTrack(artist, a.id, { title: "Keep me" })).id;
    await makeReady(trackId);
    await openWorldwide(trackId);
    await protect(trackId);
    await env.DB.prepare(
      "INSERT INTO track_rights (id, track_id, territory, right_type, holder_id, share) VALUES (?, ?, 'WW', 'download', 'rh_fixture', 1)",
    )
      .bind(`rt_${crypto.randomUUID()}`, trackId)
      .run();
  });

  it("points a Premium download of encrypted media at the api, which decrypts it", async () => {
    const grant = await callJson<{ url: string; token: string }>(
      "POST",
      `/v1/tracks/${trackId}/download`,
      200,
      { token: premium.accessToken, body: { rendition: "aac_256" } },
    );
    expect(grant.url).toBe(`https://api.test/v1/downloads/${grant.token}`);
  });

  it("opens nothing for a streaming token, a forged or expired one, or a clear asset's", async () => {
    const { token } = await grant(trackId, premium);
    await expectProblem(await call("GET", `/v1/downloads/${token}`), 404, "NOT_FOUND");
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: premium.id, trk: trackId, av: `av_${trackId}`, max: 4, dl: "aac_256" };
    const expired = await signPlaybackToken({ ...claims, exp: now - 1 }, "p1", KEYS);
    await expectProblem(await call("GET", `/v1/downloads/${expired}`), 404, "NOT_FOUND");
    const valid = await signPlaybackToken({ ...claims, exp: now + 60 }, "p1", KEYS);
    const [v, kid, body] = valid.split(".");
    await expectProblem(
      await call("GET", `/v1/downloads/${v}.${kid}.${body}.${"A".repeat(43)}`),
      404,
      "NOT_FOUND",
    );
    // A rendition name that is not ours.
    const odd = await signPlaybackToken({ ...claims, dl: "__proto__", exp: now + 60 }, "p1", KEYS);
    await expectProblem(await call("GET", `/v1/downloads/${odd}`), 404, "NOT_FOUND");
    const owner = await accountWithRole("artist");
    const clearId = (await createTrack(owner, (await createArtist(owner, "Clear Band")).id)).id;
    await makeReady(clearId);
    const clearToken = await signPlaybackToken(
      { ...claims, trk: clearId, av: `av_${clearId}`, exp: now + 60 },
      "p1",
      KEYS,
    );
    await expectProblem(await call("GET", `/v1/downloads/${clearToken}`), 404, "NOT_FOUND");
  });
});

describe("retiring a key-encryption key", () => {
  it("re-wraps keys under the active KEK, only for admins, and the licenses stay the same", async () => {
    const artist = await accountWithRole("artist");
    const listener = await accountWithRole("listener");
    const a = await createArtist(artist, "Old KEK Band");
    const id = (await createTrack(artist, a.id, { title: "Wrapped long ago" })).id;
    await makeReady(id);
    await openWorldwide(id);
    const key = await protect(id, "kek0");
    const rewrap = (token: string) => call("POST", "/v1/admin/content-keys/rewrap", { token });
    await expectProblem(await rewrap(listener.accessToken), 403, "FORBIDDEN");
    const admin = await adminAccount();
    let result = { rewrapped: 0, remaining: 1 };
    while (result.remaining > 0) {
      result = await callJson("POST", "/v1/admin/content-keys/rewrap", 200, {
        token: admin.accessToken,
      });
    }
    const row = await env.DB.prepare("SELECT kek_id FROM content_keys WHERE key_id = ?")
      .bind(key.keyId)
      .first<{ kek_id: string }>();
    expect(row?.kek_id).toBe("kek1");
    // The key itself did not change: the license gives the same one.
    const { token } = await grant(id, listener);
    const res = await askLicense([keyIdToBase64Url(key.keyId)], {
      token: listener.accessToken,
      grant: token,
    });
    const license = (await res.json()) as License;
    expect(license.keys[0]?.k).toBe(toBase64Url(hexToBytes(key.key)));
  });
});
