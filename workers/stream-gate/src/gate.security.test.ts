import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { parseKeyRing } from "@edge-music/core/key-ring";
import { signPlaybackToken, type PlaybackClaims } from "@edge-music/core/playback-token";
import { tokenRevocationKey } from "@edge-music/core/token-revocation";
import worker from "./index";

const KEYS = parseKeyRing(env.PLAYBACK_KEYS, "PLAYBACK_KEYS");
const PREFIX = "tracks/trk_sec/av_sec/";
const MEDIA = Uint8Array.from({ length: 4096 }, (_, i) => i % 251);
const encoder = new TextEncoder();

/** Names every plain object answers to without owning them. */
const INHERITED = [
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "isPrototypeOf",
  "__defineGetter__",
];

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

const claims = () => ({
  sub: "usr_attacker",
  trk: "trk_sec",
  av: "av_sec",
  max: 4,
  exp: Math.floor(Date.now() / 1000) + 600,
});

/**
 * What an attacker can make without any key: a token whose `kid` names an inherited member,
 * signed with that member's text (`"[object Object]"` for `__proto__`), which is what a plain
 * object key ring would have handed the HMAC.
 */
async function forgeWithInheritedKid(kid: string): Promise<string> {
  const inherited: unknown = Reflect.get({}, kid);
  const secret = String(inherited);
  const body = `v1.${kid}.${b64url(encoder.encode(JSON.stringify(claims())))}`;
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return `${body}.${b64url(mac)}`;
}

beforeAll(async () => {
  await env.MEDIA.put(`${PREFIX}flac/media.mp4`, MEDIA);
  await env.MEDIA.put(`${PREFIX}master.m3u8`, "#EXTM3U\n");
});

describe("stream-gate attacks", () => {
  it.each(INHERITED)("refuses a token forged with the inherited key id %s", async (kid) => {
    const forged = await forgeWithInheritedKid(kid);
    for (const file of ["flac/media.mp4", "master.m3u8"]) {
      const res = await SELF.fetch(`https://gate.test/p/${forged}/${file}`);
      expect(res.status, `${kid} ${file}`).toBe(403);
      expect(await res.text()).toBe("");
    }
  });

  it("serves the same file to a token signed with a real key (the forgery is what fails)", async () => {
    const real = await signPlaybackToken(claims(), "k1", KEYS);
    const res = await SELF.fetch(`https://gate.test/p/${real}/flac/media.mp4`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(MEDIA);
  });

  it.each(INHERITED)("answers 404 for an asset file named %s", async (name) => {
    const real = await signPlaybackToken(claims(), "k1", KEYS);
    const res = await SELF.fetch(`https://gate.test/p/${real}/${name}`);
    expect(res.status).toBe(404);
  });

  it("refuses truncated, swapped and re-encoded tokens", async () => {
    const real = await signPlaybackToken(claims(), "k1", KEYS);
    const other = await signPlaybackToken({ ...claims(), trk: "trk_other" }, "k1", KEYS);
    const [v, kid, payload, sig = ""] = real.split(".");
    const [, , otherPayload] = other.split(".");
    const attempts = [
      real.slice(0, -5),
      `${v}.${kid}.${payload}`,
      `${v}.${kid}.${otherPayload}.${sig}`,
      `${v}.k0.${payload}.${sig}`,
      `v2.${kid}.${payload}.${sig}`,
      `${v}.${kid}.${payload}=.${sig}`,
    ];
    for (const token of attempts) {
      const res = await SELF.fetch(`https://gate.test/p/${token}/flac/media.mp4`);
      expect([403, 404], token).toContain(res.status);
      expect(res.status, token).not.toBe(200);
    }
  });
});

describe("stream-gate key ring", () => {
  async function fetchWith(keys: string, path: string) {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`https://gate.test${path}`),
      { ...env, PLAYBACK_KEYS: keys },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }

  it.each([
    ["a key under 32 bytes", JSON.stringify({ k1: b64url(new Uint8Array(16).fill(7)) })],
    ["a key that is not random", JSON.stringify({ k1: "a".repeat(64) })],
    [
      "a key id outside the pattern",
      JSON.stringify({ "k 1": b64url(crypto.getRandomValues(new Uint8Array(32))) }),
    ],
    ["no keys", "{}"],
    ["not JSON", "k1=secret"],
  ])("will not serve with %s, and says why on /healthz", async (_, keys) => {
    const health = await fetchWith(keys, "/healthz");
    expect(health.status).toBe(503);
    const body = (await health.json()) as { error: string };
    expect(body.error).toMatch(/PLAYBACK_KEYS/);
    // The reason names the setting and the key id, never key material.
    expect(body.error).not.toMatch(/aaaaaaaa|BwcHBwcH/);
    const real = await signPlaybackToken(claims(), "k1", KEYS);
    expect((await fetchWith(keys, `/p/${real}/flac/media.mp4`)).status).toBe(503);
  });
});

describe("revoked tokens", () => {
  const TRACK = "trk_revoked";
  const now = () => Math.floor(Date.now() / 1000);
  const tokenFor = (extra: Partial<PlaybackClaims>) =>
    signPlaybackToken(
      { ...claims(), trk: TRACK, av: "av_r", iat: now() - 60, ter: "DE", ...extra },
      "k1",
      KEYS,
    );
  const fetchMedia = async (token: string, overrides: Partial<Env> = {}) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`https://gate.test/p/${token}/aac_64/media.mp4`),
      { ...env, ...overrides },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res.status;
  };
  const revoke = (record: unknown) =>
    env.MEDIA.put(tokenRevocationKey(TRACK), JSON.stringify(record));

  beforeAll(async () => {
    await env.MEDIA.put(`tracks/${TRACK}/av_r/aac_64/media.mp4`, MEDIA);
  });

  it("refuses tokens issued before the record unless their listener or territory may still play", async () => {
    const before = Date.now();
    const listener = await tokenFor({ sub: "usr_fan" });
    const owner = await tokenFor({ sub: "usr_owner" });
    const french = await tokenFor({ sub: "usr_fan_fr", ter: "FR" });
    const legacy = await signPlaybackToken({ ...claims(), trk: TRACK, av: "av_r" }, "k1", KEYS);
    expect(await fetchMedia(listener)).toBe(200);
    await revoke({ version: 1, before, subjects: ["usr_owner"], territories: ["FR"] });
    expect(await fetchMedia(listener)).toBe(403);
    expect(await fetchMedia(legacy)).toBe(403);
    expect(await fetchMedia(owner)).toBe(200);
    expect(await fetchMedia(french)).toBe(200);
    // Granted after the change: checked against the new rules when it was granted.
    expect(await fetchMedia(await tokenFor({ sub: "usr_fan", iat: now() + 1 }))).toBe(200);
  });

  it("refuses a token for any asset version but the one a re-packaged track pins, even a new token", async () => {
    await env.MEDIA.put(`tracks/${TRACK}/av_new/aac_64/media.mp4`, MEDIA);
    const old = await tokenFor({ sub: "usr_fan", iat: now() + 5 });
    const current = await tokenFor({ sub: "usr_fan", av: "av_new", iat: now() - 3600 });
    // Served (and cached) before the re-packaging.
    expect(await fetchMedia(old)).toBe(200);
    await revoke({ version: 1, before: 0, subjects: [], territories: "*", asset: "av_new" });
    expect(await fetchMedia(old)).toBe(403);
    expect(await fetchMedia(current)).toBe(200);
    await env.MEDIA.delete(tokenRevocationKey(TRACK));
  });

  it("refuses every older token when the record cannot be read", async () => {
    await env.MEDIA.put(tokenRevocationKey(TRACK), "{not json");
    expect(await fetchMedia(await tokenFor({ sub: "usr_owner", ter: "FR" }))).toBe(403);
    await env.MEDIA.delete(tokenRevocationKey(TRACK));
    expect(await fetchMedia(await tokenFor({ sub: "usr_fan" }))).toBe(200);
  });

  it("takes effect within GATE_REVOCATION_MEMO_SECONDS of the record being written", async () => {
    const slow = { GATE_REVOCATION_MEMO_SECONDS: "2" };
    const token = await tokenFor({ sub: "usr_late" });
    expect(await fetchMedia(token, slow)).toBe(200);
    await revoke({ version: 1, before: Date.now(), subjects: [], territories: [] });
    // This isolate read "no record" a moment ago and trusts that for 2 seconds.
    expect(await fetchMedia(token, slow)).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await fetchMedia(token, slow)).toBe(403);
  });
});
