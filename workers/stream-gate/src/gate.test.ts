import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { parseKeyRing } from "@edge-music/core/key-ring";
import { signPlaybackToken, type PlaybackClaims } from "@edge-music/core/playback-token";

const KEYS = parseKeyRing(env.PLAYBACK_KEYS, "PLAYBACK_KEYS");
const PREFIX = "tracks/trk_1/av_1/";
const MEDIA = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256);
const MASTER = [
  "#EXTM3U",
  "#EXT-X-VERSION:7",
  "#EXT-X-INDEPENDENT-SEGMENTS",
  ...["aac_64", "aac_128", "aac_256", "flac"].flatMap((id) => [
    `#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="x"`,
    `${id}/index.m3u8`,
  ]),
  "",
].join("\n");
const MPD = `<MPD>
  <Period>
    <AdaptationSet id="0">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cbcs"/>
      <Representation id="aac_64" bandwidth="1">a</Representation>
      <Representation id="aac_128" bandwidth="1">b</Representation>
      <Representation id="aac_256" bandwidth="1">c</Representation>
    </AdaptationSet>
    <AdaptationSet id="1">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cbcs"/>
      <Representation id="flac" bandwidth="1">d</Representation>
    </AdaptationSet>
  </Period>
</MPD>
`;

const token = (extra: Partial<PlaybackClaims> = {}, kid = "k1") =>
  signPlaybackToken(
    {
      sub: "usr_1",
      trk: "trk_1",
      av: "av_1",
      max: 2,
      exp: Math.floor(Date.now() / 1000) + 600,
      ...extra,
    },
    kid,
    KEYS,
  );
const get = async (path: string, headers: Record<string, string> = {}, t?: string) =>
  SELF.fetch(`https://gate.test/p/${t ?? (await token())}/${path}`, { headers });

beforeAll(async () => {
  await env.MEDIA.put(`${PREFIX}master.m3u8`, MASTER);
  await env.MEDIA.put(`${PREFIX}manifest.mpd`, MPD);
  for (const id of ["aac_64", "aac_128", "aac_256", "flac"])
    await env.MEDIA.put(`${PREFIX}${id}/media.mp4`, MEDIA);
});

describe("stream-gate", () => {
  it("lists only the renditions the token allows", async () => {
    const res = await get("master.m3u8");
    expect(res.headers.get("Content-Type")).toBe("application/vnd.apple.mpegurl");
    const text = await res.text();
    expect(text).toContain("aac_64/index.m3u8");
    expect(text).toContain("aac_128/index.m3u8");
    expect(text).not.toContain("aac_256");
    expect(text).not.toContain("flac");
    const mpd = await (await get("manifest.mpd")).text();
    expect(mpd).toContain('id="aac_128"');
    expect(mpd).not.toContain('id="aac_256"');
    expect(mpd).not.toContain("flac");
    // The FLAC set goes whole, key signalling and all; the AAC set keeps its signalling.
    expect(mpd.match(/<AdaptationSet/g)).toHaveLength(1);
    expect(mpd.match(/<ContentProtection/g)).toHaveLength(1);
  });

  it("refuses a rendition above the token's limit", async () => {
    expect((await get("aac_256/media.mp4")).status).toBe(403);
    expect((await get("flac/media.mp4")).status).toBe(403);
    expect((await get("aac_256/media.mp4", {}, await token({ max: 4 }))).status).toBe(200);
  });

  it("refuses tampered, expired, unknown-key, other-track and traversal requests", async () => {
    const good = await token();
    const [v, kid, payload, sig] = good.split(".");
    const bad = `${v}.${kid}.${payload}.${(sig ?? "").replace(/^./, (c) => (c === "A" ? "B" : "A"))}`;
    expect((await get("aac_64/media.mp4", {}, bad)).status).toBe(403);
    expect((await get("aac_64/media.mp4", {}, await token({ exp: 1000 }))).status).toBe(410);
    expect((await get("aac_64/media.mp4", {}, good.replace(".k1.", ".k7."))).status).toBe(403);
    // A token for another track opens only that track's prefix: nothing of trk_1.
    const other = await get("aac_64/media.mp4", {}, await token({ trk: "trk_2" }));
    expect(other.status).toBe(404);
    for (const path of [
      "../av_2/aac_64/media.mp4",
      "aac_64%2Fmedia.mp4",
      "aac_64/..%2F..%2Fmedia.mp4",
      "secret.txt",
    ]) {
      const res = await SELF.fetch(`https://gate.test/p/${good}/${path}`);
      expect([403, 404], path).toContain(res.status);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
    }
  });

  it("serves byte ranges exactly as stored, with the right status and headers", async () => {
    const size = MEDIA.length;
    const cases: [string, number, number, number][] = [
      ["bytes=0-0", 206, 0, 1],
      [`bytes=${size - 1}-${size - 1}`, 206, size - 1, 1],
      ["bytes=-100", 206, size - 100, 100],
      ["bytes=1000-", 206, 1000, size - 1000],
      [`bytes=100-${size + 500}`, 206, 100, size - 100],
    ];
    for (const [range, status, offset, length] of cases) {
      const res = await get("aac_64/media.mp4", { Range: range });
      expect(res.status, range).toBe(status);
      expect(res.headers.get("Content-Range")).toBe(
        `bytes ${offset}-${offset + length - 1}/${size}`,
      );
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(MEDIA.slice(offset, offset + length));
    }
    const beyond = await get("aac_64/media.mp4", { Range: `bytes=${size}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("Content-Range")).toBe(`bytes */${size}`);
    const multiple = await get("aac_64/media.mp4", { Range: "bytes=0-1,5-6" });
    expect(multiple.status).toBe(200);
    expect(new Uint8Array(await multiple.arrayBuffer())).toEqual(MEDIA);
  });

  it("answers whole objects with caching, validators and CORS, then from the cache", async () => {
    const first = await get("aac_128/media.mp4");
    expect(first.status).toBe(200);
    expect(first.headers.get("Content-Type")).toBe("audio/mp4");
    expect(first.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(first.headers.get("Accept-Ranges")).toBe("bytes");
    expect(first.headers.get("ETag")).toBeTruthy();
    expect(first.headers.get("Last-Modified")).toBeTruthy();
    expect(first.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(MEDIA);
    const again = await get(
      "aac_128/media.mp4",
      { Range: "bytes=10-19" },
      await token({ sub: "usr_2" }),
    );
    expect(again.status).toBe(206);
    expect(again.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(again.headers.get("Content-Range")).toBe(`bytes 10-19/${MEDIA.length}`);
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(MEDIA.slice(10, 20));
    const head = await SELF.fetch(`https://gate.test/p/${await token()}/aac_64/media.mp4`, {
      method: "HEAD",
    });
    expect(head.headers.get("Content-Length")).toBe(String(MEDIA.length));
    const stale = await get("aac_64/media.mp4", {
      Range: "bytes=0-9",
      "If-Range": '"not-the-etag"',
    });
    expect(stale.status).toBe(200);
  });

  it("serves a download token's one file as an attachment, and nothing else", async () => {
    const t = await token({ max: 4, dl: "flac", fn: 'Take "Me" Home/2' });
    const res = await get("flac/media.mp4", {}, t);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Disposition")).toBe(
      'attachment; filename="Take _Me_ Home_2.m4a"',
    );
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(MEDIA);
    expect((await get("aac_64/media.mp4", {}, t)).status).toBe(403);
    expect((await get("master.m3u8", {}, t)).status).toBe(403);
  });
});
