import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RENDITIONS } from "@edge-music/core/renditions";
import { makeMusic, makeReferenceTone } from "@edge-music/testkit/lavfi-media";
import { readFmp4Layout } from "./fmp4.js";
import { transcode } from "./pipeline.js";
import { probeSource } from "./probe.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pipeline-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(source: string) {
  const probed = await probeSource(source, 7200);
  if (!probed.ok) throw new Error(probed.refusal.reason);
  const out = await mkdtemp(path.join(dir, "out-"));
  const progress: number[] = [];
  const outcome = await transcode(source, probed.source, out, (_stage, percent) =>
    progress.push(percent),
  );
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.failure));
  return { out, result: outcome.result, probed: probed.source, progress };
}

describe("transcode pipeline", () => {
  it("measures a -23 LUFS reference tone within 0.5 LU and sets the gain to -14", async () => {
    const source = path.join(dir, "tone.flac");
    makeReferenceTone(source, 12);
    const { result } = await run(source);
    expect(Math.abs(result.loudness.integratedLufs - -23)).toBeLessThanOrEqual(0.5);
    expect(result.loudness.gainDb).toBeCloseTo(-14 - result.loudness.integratedLufs, 2);
    expect(result.loudness.truePeakDbfs).toBeLessThan(-20);
  }, 60_000);

  it("builds the whole ladder with playlists, MPD, waveform, fingerprint, tags and cover", async () => {
    const source = path.join(dir, "song.mp3");
    makeMusic(source, 20, {
      cover: true,
      codec: ["-c:a", "libmp3lame", "-b:a", "192k", "-id3v2_version", "3"],
      tags: {
        title: "Test Song",
        artist: "Lavfi Band",
        album: "Generated",
        track: "3/10",
        date: "2024",
        genre: "Ambient",
        TSRC: "USAAA2400001",
      },
    });
    const { out, result, probed, progress } = await run(source);
    expect(probed.tags).toMatchObject({
      title: "Test Song",
      artist: "Lavfi Band",
      album: "Generated",
      trackNumber: 3,
      year: 2024,
      genre: "Ambient",
      isrc: "USAAA2400001",
    });
    expect(result.renditions.map((r) => r.id)).toEqual(RENDITIONS.map((r) => r.id));
    expect(Math.abs(result.durationSeconds - 20)).toBeLessThan(0.1);
    for (const r of RENDITIONS) {
      const layout = await readFmp4Layout(path.join(out, r.id, "media.mp4"));
      expect(Math.abs(layout.durationSeconds - 20)).toBeLessThan(0.1);
      // ~6 s fragments: 20 s makes four (6, 6, 6, 2).
      expect(layout.fragments.length).toBeGreaterThanOrEqual(3);
      expect(layout.fragments.length).toBeLessThanOrEqual(5);
      const playlist = await readFile(path.join(out, r.id, "index.m3u8"), "utf8");
      expect(playlist).toContain("#EXT-X-VERSION:7");
      expect(playlist).toMatch(/#EXT-X-MAP:URI="media.mp4",BYTERANGE="\d+@0"/);
      expect(playlist.match(/#EXT-X-BYTERANGE:/g)).toHaveLength(layout.fragments.length);
      expect(playlist.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
    }
    const aac128 = result.renditions.find((r) => r.id === "aac_128");
    expect(aac128?.averageBandwidth).toBeGreaterThan(100_000);
    expect(aac128?.averageBandwidth).toBeLessThan(160_000);
    const master = await readFile(path.join(out, "master.m3u8"), "utf8");
    expect(master).toContain(
      `BANDWIDTH=${aac128?.bandwidth},AVERAGE-BANDWIDTH=${aac128?.averageBandwidth},CODECS="mp4a.40.2"`,
    );
    expect(master).toContain('CODECS="fLaC"');
    const mpd = await readFile(path.join(out, "manifest.mpd"), "utf8");
    expect(mpd.match(/<Representation /g)).toHaveLength(4);
    const waveform = JSON.parse(await readFile(path.join(out, "waveform.json"), "utf8"));
    expect(waveform).toMatchObject({ version: 2, channels: 1, bits: 8, sample_rate: 44100 });
    expect(waveform.length).toBe(Math.ceil((20 * 44100) / waveform.samples_per_pixel));
    expect(waveform.data).toHaveLength(waveform.length * 2);
    expect(Math.max(...waveform.data)).toBeGreaterThan(40);
    expect(result.fingerprint).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(result.files.map((f) => f.name)).toContain("cover.jpg");
    const cover = await readFile(path.join(out, "cover.jpg"));
    expect(cover.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(progress.at(-1)).toBeGreaterThanOrEqual(90);
  }, 60_000);
});
