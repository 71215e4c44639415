import { spawnSync } from "node:child_process";
import { readFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeMusic, makeReferenceTone } from "@edge-music/testkit/lavfi-media";
import { getPlatformProxy } from "wrangler";
import { ROOT } from "../../scripts/lib/setup.mjs";
import { registerAccount } from "./client";
import { startStack, type Stack } from "./stack";
import type { CreatedUpload, PlaybackGrant, Upload } from "@edge-music/core/api-contract";

type Json = Record<string, unknown>;
let stack: Stack;
let dir: string;
let token: string;

async function api<T = Json>(
  method: string,
  route: string,
  body?: unknown,
  status?: number,
): Promise<T> {
  const res = await fetch(`${stack.api}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : null,
  });
  const text = await res.text();
  if (status !== undefined) expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

/** The uploader's whole path: ask, PUT straight to storage, complete, wait for an end state. */
async function upload(file: string, contentType: string, extra: Json = {}) {
  const bytes = await readFile(file);
  const created = await api<CreatedUpload>(
    "POST",
    "/v1/uploads",
    { filename: path.basename(file), contentType, size: bytes.length, ...extra },
    201,
  );
  const put = await fetch(created.putUrl, { method: "PUT", headers: created.headers, body: bytes });
  expect(put.status).toBe(200);
  await api("POST", `/v1/uploads/${created.uploadId}/complete`, undefined, 202);
  const deadline = Date.now() + 90_000;
  const stages = new Set<string>();
  for (;;) {
    const state = await api<Upload>("GET", `/v1/uploads/${created.uploadId}`);
    if (state.progress.stage) stages.add(state.progress.stage);
    if (state.state === "ready" || state.state === "failed") return { ...state, stages };
    if (Date.now() > deadline) throw new Error(`upload stuck in ${state.state}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  // A deployment without content protection (its encrypted path has its own e2e test): ffmpeg
  // reads clear HLS straight from the gate, which it cannot do with keys.
  stack = await startStack({ vars: { CONTENT_PROTECTION: "off" } });
  dir = await mkdtemp(path.join(tmpdir(), "e2e-media-"));
  token = await registerAccount(stack, "uploader@e2e.local", "Uploader");
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("ingest, end to end", () => {
  it("turns an uploaded tagged MP3 into a ready track with its measured asset", async () => {
    const file = path.join(dir, "tagged.mp3");
    makeMusic(file, 15, {
      cover: true,
      codec: ["-c:a", "libmp3lame", "-b:a", "192k", "-id3v2_version", "3"],
      tags: { title: "E2E Song", artist: "E2E Band", genre: "Test Pop" },
    });
    const result = await upload(file, "audio/mpeg");
    expect(result.state, JSON.stringify(result.failure)).toBe("ready");
    expect(result.trackId).toMatch(/^trk_/);
    const track = await api<Json>("GET", `/v1/tracks/${result.trackId}`, undefined, 200);
    expect(track).toMatchObject({
      title: "E2E Song",
      artist: { name: "E2E Band" },
      status: "ready",
      visibility: "private",
      genre: { name: "Test Pop" },
    });
    expect(Math.abs(Number(track["durationMs"]) - 15_000)).toBeLessThanOrEqual(100);
  });

  it("plays through the stream-gate: ffmpeg reads the HLS to the right length, byte ranges rebuild the file", async () => {
    const file = path.join(dir, "playable.flac");
    makeMusic(file, 14);
    const uploaded = await upload(file, "audio/flac", { title: "Through the gate" });
    expect(uploaded.state).toBe("ready");
    const grant = await api<PlaybackGrant>(
      "POST",
      `/v1/tracks/${uploaded.trackId}/playback`,
      {},
      200,
    );
    expect(grant.renditions.map((r) => r.id)).toEqual(["aac_64", "aac_128"]);
    expect(grant.protection).toBeNull();
    const master = await (await fetch(grant.hls)).text();
    expect(master).not.toContain("aac_256");
    const played = spawnSync(
      "ffmpeg",
      ["-nostdin", "-hide_banner", "-i", grant.hls, "-map", "0:a:0", "-f", "null", "-"],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(played.status, played.stderr.slice(-2000)).toBe(0);
    const time = /time=(\d+):(\d+):([\d.]+)/g;
    const last = [...played.stderr.matchAll(time)].at(-1);
    const seconds = Number(last?.[1]) * 3600 + Number(last?.[2]) * 60 + Number(last?.[3]);
    expect(Math.abs(seconds - 14)).toBeLessThanOrEqual(0.1);
    const base = grant.hls.replace(/master\.m3u8$/, "");
    const playlist = await (await fetch(`${base}aac_128/index.m3u8`)).text();
    const ranges = [...playlist.matchAll(/BYTERANGE[:=]"?(\d+)@(\d+)/g)].map(
      (m) => [Number(m[1]), Number(m[2])] as const,
    );
    const parts: Uint8Array[] = [];
    for (const [length, offset] of ranges) {
      const res = await fetch(`${base}aac_128/media.mp4`, {
        headers: { Range: `bytes=${offset}-${offset + length - 1}` },
      });
      expect(res.status).toBe(206);
      parts.push(new Uint8Array(await res.arrayBuffer()));
    }
    const whole = new Uint8Array(await (await fetch(`${base}aac_128/media.mp4`)).arrayBuffer());
    expect(Buffer.concat(parts).equals(Buffer.from(whole))).toBe(true);
    expect((await fetch(`${base}aac_256/media.mp4`)).status).toBe(403);

    // The MPD the gate serves: DASH's required structure, and the very byte ranges HLS uses.
    const mpd = await (await fetch(`${base}manifest.mpd`)).text();
    expect(mpd).toMatch(
      /<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"[^>]* profiles="[^"]+"[^>]* type="static"[^>]* mediaPresentationDuration="PT[\d.]+S"[^>]* minBufferTime="PT[\d.]+S"/,
    );
    expect(mpd).toMatch(
      /<Period[^>]*>[\s\S]*<AdaptationSet[^>]* mimeType="audio\/mp4"[\s\S]*<\/Period>/,
    );
    const representations = [
      ...mpd.matchAll(
        /<Representation id="([^"]+)" bandwidth="(\d+)" codecs="([^"]+)"[\s\S]*?<\/Representation>/g,
      ),
    ];
    expect(representations.map((r) => r[1])).toEqual(["aac_64", "aac_128"]);
    for (const [block, id] of representations) {
      expect(block).toContain(`<BaseURL>${id}/media.mp4</BaseURL>`);
      const init = /<Initialization range="(\d+)-(\d+)"\/>/.exec(block);
      const segments = [...block.matchAll(/<SegmentURL mediaRange="(\d+)-(\d+)"\/>/g)].map((m) => [
        Number(m[2]) - Number(m[1]) + 1,
        Number(m[1]),
      ]);
      const hls = await (await fetch(`${base}${id}/index.m3u8`)).text();
      const map = /#EXT-X-MAP:URI="media.mp4",BYTERANGE="(\d+)@(\d+)"/.exec(hls);
      expect([Number(init?.[2]) - Number(init?.[1]) + 1, Number(init?.[1])]).toEqual([
        Number(map?.[1]),
        Number(map?.[2]),
      ]);
      const hlsSegments = [...hls.matchAll(/#EXT-X-BYTERANGE:(\d+)@(\d+)/g)].map((m) => [
        Number(m[1]),
        Number(m[2]),
      ]);
      expect(segments).toEqual(hlsSegments);
    }
  });

  it("ingests a -23 LUFS reference tone (its measured loudness is checked below)", async () => {
    const file = path.join(dir, "tone.flac");
    makeReferenceTone(file, 10);
    const result = await upload(file, "audio/flac", { title: "Reference tone" });
    expect(result.state).toBe("ready");
  });

  it("fails a text file named .mp3 with a reason, and flags a re-upload of the same audio as a duplicate", async () => {
    const fake = path.join(dir, "fake.mp3");
    await writeFile(fake, "not audio\n".repeat(500));
    const failed = await upload(fake, "audio/mpeg");
    expect(failed.state).toBe("failed");
    expect(failed.failure).toMatchObject({ code: "NOT_AUDIO" });
    const file = path.join(dir, "twice.flac");
    makeMusic(file, 8);
    const first = await upload(file, "audio/flac");
    const second = await upload(file, "audio/flac");
    expect(first.duplicateOf).toBeNull();
    expect(second.state).toBe("ready");
    expect(second.duplicateOf).toBe(first.trackId);
  });

  it("brings twenty uploads sent at once to ready", async () => {
    const file = path.join(dir, "short.mp3");
    makeMusic(file, 4, { codec: ["-c:a", "libmp3lame", "-b:a", "128k"] });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => upload(file, "audio/mpeg", { title: `Burst ${i}` })),
    );
    expect(results.map((r) => r.state)).toEqual(Array(20).fill("ready"));
    expect(new Set(results.map((r) => r.trackId)).size).toBe(20);
  });

  it("stops a job whose upload is cancelled while it is processed: its ffmpeg processes end within 2 s", async () => {
    const file = path.join(dir, "cancelled.flac");
    makeMusic(file, 240, { tags: { title: "Cancelled Midway" } });
    const bytes = await readFile(file);
    const created = await api<CreatedUpload>(
      "POST",
      "/v1/uploads",
      { filename: "cancelled.flac", contentType: "audio/flac", size: bytes.length },
      201,
    );
    await fetch(created.putUrl, { method: "PUT", headers: created.headers, body: bytes });
    await api("POST", `/v1/uploads/${created.uploadId}/complete`, undefined, 202);
    const jobProcesses = () =>
      spawnSync("pgrep", ["-f", `ffmpeg.*job-${created.uploadId}-`], { encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean);
    const deadline = Date.now() + 60_000;
    while (jobProcesses().length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(jobProcesses().length).toBeGreaterThan(0);
    const cancelledAt = Date.now();
    await api("DELETE", `/v1/uploads/${created.uploadId}`, undefined, 204);
    while (jobProcesses().length > 0 && Date.now() - cancelledAt < 5000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(jobProcesses()).toEqual([]);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    await api("GET", `/v1/uploads/${created.uploadId}`, undefined, 404);
    // Nothing was published from it (the orphan check below also finds none of its objects).
    await new Promise((r) => setTimeout(r, 1500));
    const found = await api<{ items: unknown[] }>(
      "GET",
      "/v1/search?q=Cancelled+Midway&type=track",
    );
    expect(found.items).toEqual([]);
  });

  it("stored measured, well-formed assets and left nothing orphaned", async () => {
    await stack.stopApi();
    const proxy = await getPlatformProxy<{ DB: D1Database; MEDIA: R2Bucket }>({
      configPath: path.join(ROOT, "wrangler.toml"),
      persist: { path: path.join(stack.persistTo, "v3") },
    });
    try {
      const { DB, MEDIA } = proxy.env;
      const assets = (
        await DB.prepare(
          "SELECT a.*, t.title FROM asset_versions a JOIN tracks t ON t.id = a.track_id",
        ).all<{
          id: string;
          track_id: string;
          title: string;
          integrated_lufs: number;
          gain_db: number;
          duration_ms: number;
          waveform_samples_per_pixel: number;
          files: string;
        }>()
      ).results;
      expect(assets.length).toBe(25);
      const tone = assets.find((a) => a.title === "Reference tone");
      expect(Math.abs((tone?.integrated_lufs ?? 0) + 23)).toBeLessThanOrEqual(0.5);
      expect(tone?.gain_db).toBeCloseTo(-14 - (tone?.integrated_lufs ?? 0), 1);
      const objects: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await MEDIA.list(cursor ? { cursor } : {});
        objects.push(...page.objects.map((o) => o.key));
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      for (const asset of assets) {
        const prefix = `tracks/${asset.track_id}/${asset.id}/`;
        const files = JSON.parse(asset.files) as string[];
        expect(files).toEqual(
          expect.arrayContaining([
            "master.m3u8",
            "manifest.mpd",
            "waveform.json",
            "aac_128/media.mp4",
            "flac/index.m3u8",
          ]),
        );
        for (const file of files) expect(objects).toContain(prefix + file);
        const master = await (await MEDIA.get(`${prefix}master.m3u8`))?.text();
        expect(master?.match(/#EXT-X-STREAM-INF/g)).toHaveLength(4);
        const playlist = (await (await MEDIA.get(`${prefix}aac_128/index.m3u8`))?.text()) ?? "";
        const seconds = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce(
          (sum, m) => sum + Number(m[1]),
          0,
        );
        expect(Math.abs(seconds * 1000 - asset.duration_ms)).toBeLessThanOrEqual(100);
        const ranges = [...playlist.matchAll(/#EXT-X-BYTERANGE:(\d+)@(\d+)/g)].map(
          (m) => [Number(m[1]), Number(m[2])] as const,
        );
        const media = await MEDIA.head(`${prefix}aac_128/media.mp4`);
        const last = ranges.at(-1) ?? [0, 0];
        expect(last[0] + last[1]).toBe(media?.size);
        const waveform = (await (await MEDIA.get(`${prefix}waveform.json`))?.json()) as {
          samples_per_pixel: number;
          sample_rate: number;
          length: number;
        };
        expect(waveform.samples_per_pixel).toBe(asset.waveform_samples_per_pixel);
        const expectedPixels = Math.ceil(
          (asset.duration_ms / 1000) * (waveform.sample_rate / waveform.samples_per_pixel),
        );
        expect(Math.abs(waveform.length - expectedPixels)).toBeLessThanOrEqual(2);
      }
      // Every object belongs to a published asset or to an upload that still points at it.
      const sources = (
        await DB.prepare("SELECT object_key FROM uploads WHERE object_key IS NOT NULL").all<{
          object_key: string;
        }>()
      ).results.map((r) => r.object_key);
      const owned = (key: string) =>
        sources.includes(key) ||
        assets.some((a) => key.startsWith(`tracks/${a.track_id}/${a.id}/`));
      expect(objects.filter((key) => !owned(key))).toEqual([]);
      for (const key of sources) expect(objects).toContain(key);
      const failed = await DB.prepare(
        "SELECT object_key, failure_code FROM uploads WHERE state = 'failed'",
      ).all<{ object_key: string | null }>();
      expect(failed.results.length).toBe(1);
      expect(failed.results[0]?.object_key).toBeNull();
    } finally {
      await proxy.dispose();
    }
  });
});
