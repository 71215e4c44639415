import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { ASSET_FILES, RENDITIONS, type Rendition } from "@edge-music/core/renditions";
import { startProcess, runProcess, type ProcessResult, type Running } from "../run-process.js";
import { analysisArgs, coverArgs, decodeArgs, encodeArgs, type PcmFormat } from "./ffmpeg-args.js";
import { readFmp4Layout } from "./fmp4.js";
import { parseEbur128Summary, type Loudness } from "./loudness.js";
import {
  dashManifest,
  masterPlaylist,
  measuredBandwidth,
  mediaPlaylist,
  type RenditionOutput,
} from "./manifests.js";
import type { ProbedSource } from "./probe.js";
import { WaveformSink } from "./waveform.js";

export type RenditionSummary = {
  id: Rendition["id"];
  codecs: string;
  bandwidth: number;
  averageBandwidth: number;
  sizeBytes: number;
  fragments: number;
};

export type TranscodeResult = {
  durationSeconds: number;
  renditions: RenditionSummary[];
  loudness: Loudness;
  waveform: { samplesPerPixel: number; sampleRate: number; length: number };
  fingerprint: string;
  /** Files written under the output folder, by asset-relative name. */
  files: { name: string; contentType: string }[];
};

export type TranscodeFailure = { code: "TRANSCODE_FAILED"; reason: string; detail: ProcessResult };

export type Progress = (stage: "transcoding" | "packaging", percent: number) => void;

const CONTENT_TYPES: Record<string, string> = {
  ".m3u8": "application/vnd.apple.mpegurl",
  ".mpd": "application/dash+xml",
  ".mp4": "audio/mp4",
  ".json": "application/json",
  ".jpg": "image/jpeg",
};

/**
 * Decodes the source once to PCM and fans it out to one encoder process per rendition and
 * one analysis process (loudness, fingerprint), plus the waveform in this process: every
 * core gets work, nothing is decoded twice, memory stays bounded by pipe buffers.
 */
export async function transcode(
  sourcePath: string,
  source: ProbedSource,
  outDir: string,
  onProgress: Progress = () => undefined,
): Promise<{ ok: true; result: TranscodeResult } | { ok: false; failure: TranscodeFailure }> {
  const pcm: PcmFormat = { sampleRate: source.sampleRate, channels: source.channels };
  for (const r of RENDITIONS) await mkdir(path.join(outDir, r.id), { recursive: true });
  const fingerprintPath = path.join(outDir, "fingerprint.txt");

  const decoder = startProcess("ffmpeg", decodeArgs(sourcePath, pcm));
  const encoders = RENDITIONS.map((rendition) =>
    startProcess(
      "ffmpeg",
      encodeArgs(
        pcm,
        [{ rendition, path: path.join(outDir, ASSET_FILES.media(rendition.id)) }],
        source.bitsPerSample,
      ),
    ),
  );
  const analysis = startProcess("ffmpeg", analysisArgs(pcm, fingerprintPath));
  const waveform = new WaveformSink(pcm.sampleRate, pcm.channels);
  const consumers: Running[] = [...encoders, analysis];

  const expectedBytes = source.durationSeconds * pcm.sampleRate * pcm.channels * 4;
  let decodedBytes = 0;
  let lastPercent = -1;
  decoder.child.stdout.on("data", (chunk: Buffer) => {
    decodedBytes += chunk.length;
    const percent = Math.min(99, Math.floor((decodedBytes / expectedBytes) * 100));
    if (percent !== lastPercent) {
      lastPercent = percent;
      onProgress("transcoding", percent);
    }
  });
  for (const consumer of consumers) decoder.child.stdout.pipe(consumer.child.stdin);
  decoder.child.stdout.pipe(waveform);

  const results = await Promise.all([decoder.done, ...consumers.map((c) => c.done)]);
  const failed = results.find((r) => !r.ok);
  if (failed) {
    for (const c of [decoder, ...consumers]) c.child.kill("SIGKILL");
    return {
      ok: false,
      failure: {
        code: "TRANSCODE_FAILED",
        reason: "The audio could not be transcoded.",
        detail: failed,
      },
    };
  }

  onProgress("packaging", 99);
  const loudness = parseEbur128Summary(
    results.at(-1)?.ok ? (results.at(-1) as { stderrTail: string }).stderrTail : "",
  );
  if (!loudness) {
    return {
      ok: false,
      failure: {
        code: "TRANSCODE_FAILED",
        reason: "Loudness could not be measured.",
        detail: results.at(-1) as ProcessResult,
      },
    };
  }
  const outputs: RenditionOutput[] = [];
  const files: TranscodeResult["files"] = [];
  const add = (name: string) =>
    files.push({
      name,
      contentType: CONTENT_TYPES[path.extname(name)] ?? "application/octet-stream",
    });
  for (const rendition of RENDITIONS) {
    const layout = await readFmp4Layout(path.join(outDir, ASSET_FILES.media(rendition.id)));
    outputs.push({ rendition, layout, sampleRate: pcm.sampleRate });
    await writeFile(
      path.join(outDir, ASSET_FILES.mediaPlaylist(rendition.id)),
      mediaPlaylist(layout, "media.mp4"),
    );
    add(ASSET_FILES.media(rendition.id));
    add(ASSET_FILES.mediaPlaylist(rendition.id));
  }
  const durationSeconds = Math.max(...outputs.map((o) => o.layout.durationSeconds));
  await writeFile(path.join(outDir, ASSET_FILES.master), masterPlaylist(outputs));
  await writeFile(path.join(outDir, ASSET_FILES.mpd), dashManifest(outputs, durationSeconds));
  const peaks = waveform.result();
  await writeFile(path.join(outDir, ASSET_FILES.waveform), JSON.stringify(peaks));
  add(ASSET_FILES.master);
  add(ASSET_FILES.mpd);
  add(ASSET_FILES.waveform);
  if (source.coverStreamIndex !== null) {
    const cover = await runProcess(
      "ffmpeg",
      coverArgs(sourcePath, source.coverStreamIndex, path.join(outDir, ASSET_FILES.cover)),
    );
    // A broken picture loses the cover, not the track.
    if (cover.ok) add(ASSET_FILES.cover);
  }
  const fingerprint = (await readFile(fingerprintPath, "utf8")).trim();
  return {
    ok: true,
    result: {
      durationSeconds,
      renditions: outputs.map(({ rendition, layout }) => {
        const bw = measuredBandwidth(layout);
        return {
          id: rendition.id,
          codecs: rendition.codecs,
          bandwidth: bw.peak,
          averageBandwidth: bw.average,
          sizeBytes: layout.sizeBytes,
          fragments: layout.fragments.length,
        };
      }),
      loudness,
      waveform: {
        samplesPerPixel: peaks.samples_per_pixel,
        sampleRate: peaks.sample_rate,
        length: peaks.length,
      },
      fingerprint,
      files,
    },
  };
}
