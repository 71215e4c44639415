import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseKeyRing } from "@edge-music/core/key-ring";
import {
  signPlaybackToken,
  verifyPlaybackToken,
  type PlaybackClaims,
} from "@edge-music/core/playback-token";

const KEYS = parseKeyRing(env.PLAYBACK_KEYS, "PLAYBACK_KEYS");
const claims = (extra: Partial<PlaybackClaims> = {}): PlaybackClaims => ({
  sub: "usr_1",
  trk: "trk_1",
  av: "av_1",
  max: 2,
  exp: Math.floor(Date.now() / 1000) + 600,
  ...extra,
});

describe("playback tokens", () => {
  it("round-trip, URL-safe, under the current and an older key", async () => {
    for (const kid of ["k1", "k0"]) {
      const token = await signPlaybackToken(claims(), kid, KEYS);
      expect(token).toMatch(/^v1\.k[01]\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(await verifyPlaybackToken(token, KEYS)).toEqual({ ok: true, claims: claims() });
    }
  });

  it("refuse tampering, unknown keys, expiry, another IP and garbage", async () => {
    const token = await signPlaybackToken(claims(), "k1", KEYS);
    const [v, kid, payload, sig] = token.split(".");
    const forged = btoa(JSON.stringify(claims({ max: 4 }))).replaceAll("=", "");
    expect(await verifyPlaybackToken(`${v}.${kid}.${forged}.${sig}`, KEYS)).toEqual({
      ok: false,
      refusal: "bad_signature",
    });
    expect(await verifyPlaybackToken(`${v}.k9.${payload}.${sig}`, KEYS)).toEqual({
      ok: false,
      refusal: "unknown_kid",
    });
    expect(await verifyPlaybackToken(`${v}.k0.${payload}.${sig}`, KEYS)).toEqual({
      ok: false,
      refusal: "bad_signature",
    });
    const expired = await signPlaybackToken(claims({ exp: 1000 }), "k1", KEYS);
    expect(await verifyPlaybackToken(expired, KEYS)).toEqual({ ok: false, refusal: "expired" });
    const bound = await signPlaybackToken(claims({ ip: "203.0.113.5" }), "k1", KEYS);
    expect((await verifyPlaybackToken(bound, KEYS, { clientIp: "203.0.113.5" })).ok).toBe(true);
    expect(await verifyPlaybackToken(bound, KEYS, { clientIp: "198.51.100.1" })).toEqual({
      ok: false,
      refusal: "ip_mismatch",
    });
    for (const junk of ["", "v1", "v2.k1.a.b", "v1.k1.%%%.b", `${token}.extra`]) {
      expect((await verifyPlaybackToken(junk, KEYS)).ok).toBe(false);
    }
  });
});
